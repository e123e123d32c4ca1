"""The ``sync`` stage: broadcast video time -> demo tick, from the HUD's round timer (SPEC §6)."""
