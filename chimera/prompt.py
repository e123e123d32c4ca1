"""The fixed instruction that goes with every screenshot (SFT, GRPO, evaluation, ``chimera advise``).

It names the fields to fill and their vocabularies, and nothing about the frame itself: every value the
perception reward scores (health, weapons, alive counts, bomb state, ...) must come from the image.
"""

from chimera.schema import BOMB_STATUSES, ECONOMY_ASSESSMENTS, ROUND_IMPORTANCES, ROUND_PHASES, UTILITY_ITEMS

INSTRUCTION = (
    "You are watching a Counter-Strike 2 broadcast frame. Read the HUD and answer with one JSON object with "
    "three keys. game_state: map_name, round_phase (" + "|".join(ROUND_PHASES) + "), player_side (T|CT), "
    "player_health, player_armor, player_money, team_money_total, weapon_primary, weapon_secondary, utility "
    "(a list of "
    + "|".join(UTILITY_ITEMS)
    + "), alive_teammates, alive_enemies, bomb_status ("
    + "|".join(s for s in BOMB_STATUSES if s)
    + " or null), site, visible_enemies; use null for what you "
    "cannot see. analysis: situation_summary, economy_assessment (" + "|".join(ECONOMY_ASSESSMENTS) + "), "
    "round_importance (" + "|".join(ROUND_IMPORTANCES) + "), immediate_threats, opportunities. advice: "
    "primary_action, reasoning, fallback, callout — what the spectated player should do in the next seconds."
)


def messages() -> list[dict]:
    """The conversational prompt: one user turn with the image first, then the instruction."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": INSTRUCTION}]}]
