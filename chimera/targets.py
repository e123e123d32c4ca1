"""The SFT target for a frame: the whole §4 object, written by documented rules from the truth.

- ``game_state`` is the tick truth of the pair, unchanged.
- ``analysis`` is derived from that state (and the score on the HUD) by the rules below, so a model can
  learn it from what the frame shows:

  * economy_assessment: a rifle or sniper in hand is ``full-buy``, another primary ``half-buy``; with no
    primary, during freeze time the money decides (>= 3700 ``full-buy``, >= 2000 ``half-buy``, else
    ``eco``), in a live round armor or a bought pistol is ``force-buy`` and nothing is ``eco``. A player
    with a rifle or sniper who is down two or more players in a live round is on a ``save``.
  * round_importance: ``critical`` at match point (either team one round from winning regulation, and
    every overtime round) or in a clutch (no teammate alive, enemies alive, round live); ``high`` in a
    pistol round, when either team is within three rounds of winning, or after the plant; ``low`` once
    the round is over; ``medium`` otherwise.
  * situation_summary, immediate_threats and opportunities: short fixed sentences from the alive counts,
    the bomb, health, the weapons and visible enemies.
- ``advice``: ``primary_action`` is :func:`chimera.phrases.phrase` of the advice features it is given --
  by default the situational rule of :func:`chimera.advice.situational` on the same visible state
  (SPEC §9: SFT teaches seeing, not the pro's play); the imitation arm (``sft.advice: pro``) passes the
  pro's observed behaviour instead. The phrase table is the one the decision reward reads, so ``extract``
  of the advice gives the features back exactly; ``reasoning`` and ``fallback`` restate the situation in
  words that are not in the phrase table (a test checks this for every target); ``callout`` is the
  player's place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chimera import names
from chimera.phrases import phrase
from chimera.schema import ModelOutput

DEFAULT_PISTOL = frozenset({"glock", "hkp2000", "usp_silencer"})
LIVE = ("playing", "post-plant")


def _primary(state: Mapping[str, Any]) -> names.Weapon | None:
    return names.weapon(state.get("weapon_primary"))


def economy(state: Mapping[str, Any]) -> str:
    primary = _primary(state)
    mine, theirs = state["alive_teammates"] + 1, state["alive_enemies"]
    if primary is not None and primary.category in ("rifle", "sniper"):
        live = state["round_phase"] in LIVE
        return "save" if live and theirs - mine >= 2 else "full-buy"
    if primary is not None:
        return "half-buy"
    if state["round_phase"] == "freezetime":
        money = state["player_money"]
        return "full-buy" if money >= 3700 else "half-buy" if money >= 2000 else "eco"
    pistol = names.weapon(state.get("weapon_secondary"))
    bought_pistol = pistol is not None and pistol.awpy not in DEFAULT_PISTOL
    return "force-buy" if state["player_armor"] > 0 or bought_pistol else "eco"


def importance(state: Mapping[str, Any], score: tuple[int, int], round_num: int, max_rounds: int) -> str:
    half = max_rounds // 2
    own, enemy = score
    live = state["round_phase"] in LIVE
    if own + enemy >= max_rounds or half in (own, enemy):
        return "critical"
    if live and state["alive_teammates"] == 0 and state["alive_enemies"] > 0:
        return "critical"
    if state["round_phase"] == "round-over":
        return "low"
    if round_num in (1, half + 1) or max(own, enemy) >= half - 3 or state["round_phase"] == "post-plant":
        return "high"
    return "medium"


def _map(state: Mapping[str, Any]) -> str:
    return str(state["map_name"]).removeprefix("de_").capitalize()


def _bomb(state: Mapping[str, Any]) -> str:
    status = state.get("bomb_status")
    return f", bomb {status}" if status else ""


def threats(state: Mapping[str, Any]) -> list[str]:
    mine, theirs = state["alive_teammates"] + 1, state["alive_enemies"]
    out = []
    if theirs > mine:
        out.append(f"outnumbered {mine}v{theirs}")
    if state.get("visible_enemies"):
        out.append(f"{state['visible_enemies']} enemies in view")
    if 0 < state["player_health"] < 50:
        out.append("low health")
    if state.get("bomb_status") == "planted" and state["player_side"] == "CT":
        out.append("the bomb is ticking")
    return out


def opportunities(state: Mapping[str, Any]) -> list[str]:
    mine, theirs = state["alive_teammates"] + 1, state["alive_enemies"]
    out = []
    if mine > theirs > 0:
        out.append(f"man advantage {mine}v{theirs}")
    if state.get("bomb_status") == "dropped":
        out.append("the bomb is on the ground")
    if state.get("bomb_status") == "planted" and state["player_side"] == "T":
        out.append("the clock is on your side")
    return out


def sft_target(
    state: Mapping[str, Any],
    advice_features: Mapping[str, Any],
    score: tuple[int, int],
    round_num: int,
    max_rounds: int,
) -> ModelOutput:
    """The §4 object the model is taught to emit for a frame with this truth and these advice features."""
    mine, theirs = state["alive_teammates"] + 1, state["alive_enemies"]
    econ = economy(state)
    return ModelOutput.model_validate(
        {
            "game_state": dict(state),
            "analysis": {
                "situation_summary": f"{state['player_side']} {mine}v{theirs} on {_map(state)}, "
                f"{state['round_phase']}{_bomb(state)}, score {score[0]}-{score[1]}.",
                "economy_assessment": econ,
                "round_importance": importance(state, score, round_num, max_rounds),
                "immediate_threats": threats(state),
                "opportunities": opportunities(state),
            },
            "advice": {
                "primary_action": phrase(advice_features),
                "reasoning": f"You are {mine}v{theirs} with {state['player_health']} hp on a {econ}.",
                "fallback": "If it goes wrong, regroup with your teammates."
                if state["alive_teammates"]
                else "If it goes wrong, keep your weapon for the next round.",
                "callout": state.get("site") or "no callout",
            },
        }
    )
