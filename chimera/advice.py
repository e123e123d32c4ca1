"""Advice from what a frame shows: the situational rule SFT teaches, and the checks of advice validity.

SPEC §9: Phase 1 teaches *seeing*. Its advice therefore comes from a fixed rule on the visible state, never
from what the pro did next (that is Phase 2's signal; putting it in SFT turns Model B into behaviour
cloning and leaves C − B nothing to measure). :func:`situational` is that rule, in the five behaviour
features of :mod:`chimera.phrases`, so its advice is written (and read back) with the same phrase table
the decision reward uses. With ``me`` = 1 + alive teammates and ``them`` = alive enemies:

=====================  ==========================================================================
feature                rule (first line that applies)
=====================  ==========================================================================
no decision left       round over, warm-up or dead: hold, stay off the objective, no utility,
                       don't peek, avoid any fight
freeze time            hold, stay off the objective, no utility, don't peek, fight late
movement_direction     ``them > me``: fall back; ``me > them``: advance; even: hold
objective_direction    T before the plant, CT after it: go for the objective; otherwise stay off it
utility_used           advancing or going for the objective with a grenade held: use the first of
                       smoke, flash, he, molotov the player carries; else no utility
initiated_engagement   ``me > them`` with at least 50 health: take the first duel; else wait
engagement_delay       CT with the bomb planted: fight right away; ``me > them``: early; even:
                       after a short wait; outnumbered: avoid any fight
=====================  ==========================================================================

It is deliberately simple and public: a reader can predict every target, and how often it agrees with
the pro is a measured number (``metrics/sft.json``), not a leak of the pro's play.

:func:`contradictions` lists what in a piece of advice the visible state rules out (SPEC §10 "advice
validity"): a plant as CT, a defuse with no bomb planted, a grenade the player does not hold, a push or a
duel when no enemy is alive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chimera.phrases import UTILITY, extract, utility_set

LIVE_PHASES = ("playing", "post-plant")
HOLD = {"movement_direction": 0, "objective_direction": 0, "utility_used": [], "initiated_engagement": 0}


def situational(state: Mapping[str, Any]) -> dict[str, object]:
    """The behaviour features the situational rule advises for ``state`` (a §4 game_state)."""
    phase = state["round_phase"]
    if phase not in (*LIVE_PHASES, "freezetime") or state["player_health"] <= 0:
        return {**HOLD, "engagement_delay": 1.0}
    if phase == "freezetime":
        return {**HOLD, "engagement_delay": 0.75}
    me, them = state["alive_teammates"] + 1, state["alive_enemies"]
    planted = state.get("bomb_status") == "planted"
    ct = state["player_side"] == "CT"
    movement = -1 if them > me else 1 if me > them else 0
    objective = int(planted == ct)  # T before the plant, CT after it
    held = utility_set(state.get("utility") or [])
    grenade = next((g for g in UTILITY if g in held), None)
    wants_utility = grenade is not None and (movement == 1 or objective == 1)
    delay = 0.0 if ct and planted else 0.25 if me > them else 0.5 if me == them else 1.0
    return {
        "movement_direction": movement,
        "objective_direction": objective,
        "utility_used": [grenade] if wants_utility else [],
        "initiated_engagement": int(me > them and state["player_health"] >= 50),
        "engagement_delay": delay,
    }


_PLANT = re.compile(r"\bplant(?:ing)?\b", re.IGNORECASE)
_DEFUSE = re.compile(r"\bdefus(?:e|ing)\b", re.IGNORECASE)


def contradictions(text: object, state: Mapping[str, Any]) -> list[str]:
    """What in the advice ``text`` the visible ``state`` rules out; empty when nothing does."""
    words = str(text or "")
    features = extract(words)
    out = []
    if state.get("player_side") == "CT" and _PLANT.search(words):
        out.append("plant as CT")
    if state.get("bomb_status") != "planted" and _DEFUSE.search(words):
        out.append("defuse with no bomb planted")
    missing = set(features["utility_used"] or []) - utility_set(state.get("utility") or [])
    if missing:
        out.append(f"grenade not held: {', '.join(sorted(missing))}")
    if state.get("alive_enemies") == 0 and (
        features["movement_direction"] == 1 or features["initiated_engagement"] == 1
    ):
        out.append("a fight with no enemy alive")
    return out
