"""Chimera: teach vision-language models to read (SFT) and then play (GRPO) Counter-Strike 2.

The package mirrors the DVC pipeline: ``chimera.ingest`` (with ``chimera.demos`` for awpy and
``chimera.sim`` for the simulator) writes the awpy-schema tables of ``chimera.tables``; later stages
read them. Importing the package applies the offline, single-thread runtime policy first.
"""

from chimera import runtime

runtime.apply()
