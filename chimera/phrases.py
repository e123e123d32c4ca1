"""The one vocabulary between advice text and behaviour features (SPEC §7–§8).

Five features describe what a player does over the lookahead window: ``movement_direction`` (-1 fall
back, 0 hold, 1 advance on the nearest enemy), ``objective_direction`` (-1 away from, 0 no change, 1
towards the objective), ``utility_used`` (a subset of smoke/flash/he/molotov), ``initiated_engagement``
(0/1: took the first duel) and ``engagement_delay`` (0 fights at once .. 1 no fight; advice speaks in
five levels). :data:`PHRASES` maps every feature value to the phrases that express it. The same table
renders features as text (:func:`phrase`: SFT targets, the pro's ``description``) and reads text back
(:func:`extract`: the decision reward), so what the model is taught to say is exactly what is scored:
``extract(phrase(f)) == f`` for every feature value.

Extraction is whole-word and longest-phrase-first, consuming matched words, so "don't peek" is read as
waiting rather than as "peek". A feature the text does not mention comes back as ``None``.

:func:`sim_action` is the one map from features to a simulator action, for the counterfactual oracle
(SPEC §13): advice goes through :func:`extract` first, the pro's measured behaviour goes in directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import combinations

from chimera import names

FEATURES = (
    "movement_direction",
    "objective_direction",
    "utility_used",
    "initiated_engagement",
    "engagement_delay",
)
UTILITY = ("smoke", "flash", "he", "molotov")
DELAY_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
NO_UTILITY = "no utility"

PHRASES: dict[str, dict[object, tuple[str, ...]]] = {
    "movement_direction": {
        1: ("push towards the enemy", "advance on the enemy", "close the distance", "push up"),
        0: ("hold your position", "stay where you are", "keep your position", "hold the angle"),
        -1: ("fall back", "retreat", "back off", "give up ground"),
    },
    "objective_direction": {
        1: ("go for the objective", "move onto the site", "take the site", "go to the bomb"),
        0: ("keep your distance to the objective", "stay off the objective", "leave the objective for now"),
        -1: ("move away from the objective", "leave the site", "get off the site"),
    },
    "utility_used": {
        "smoke": ("smoke",),
        "flash": ("flash", "flashbang", "pop flash"),
        "he": ("he grenade", "frag", "high explosive"),
        "molotov": ("molotov", "molly", "incendiary"),
        NO_UTILITY: ("no utility", "save your utility", "without utility"),
    },
    "initiated_engagement": {
        1: ("take the first duel", "open the fight", "peek first", "entry first"),
        0: ("let them come to you", "wait for them to peek", "play for the trade", "don't peek"),
    },
    "engagement_delay": {
        0.0: ("fight right away", "fight immediately"),
        0.25: ("fight early",),
        0.5: ("fight after a short wait", "fight midway"),
        0.75: ("fight late", "delay the fight"),
        1.0: ("avoid any fight", "avoid fighting", "don't fight"),
    },
}
"""Feature -> value -> phrases. The first phrase of each value is the one :func:`phrase` writes."""


def _index() -> list[tuple[str, str, object]]:
    """(phrase, feature, value), longest first; every phrase unique across the whole table."""
    rows = [(p, f, v) for f, values in PHRASES.items() for v, ps in values.items() for p in ps]
    seen = [p for p, _, _ in rows]
    duplicates = {p for p in seen if seen.count(p) > 1}
    if duplicates:
        raise ValueError(f"phrases used for two meanings: {sorted(duplicates)}")
    return sorted(rows, key=lambda r: -len(r[0]))


_INDEX = _index()
_WORDS = re.compile(r"[a-z0-9']+")


def _normalise(text: object) -> str:
    return " ".join(_WORDS.findall(str(text).lower().replace("’", "'"))) if text else ""


def extract(text: object) -> dict[str, object]:
    """The features a piece of advice expresses; ``None`` for a feature it does not address.

    ``utility_used`` is a sorted list: the grenades named, ``[]`` when the text says to use none.
    Conflicting phrases for one feature resolve to the one that comes first in the text.
    """
    remaining = f" {_normalise(text)} "
    found: dict[str, list[tuple[int, object]]] = {f: [] for f in FEATURES}
    for phrase_, feature, value in _INDEX:
        pattern = f" {phrase_} "
        while (at := remaining.find(pattern)) >= 0:
            found[feature].append((at, value))
            remaining = remaining[:at] + " " + "#" * (len(pattern) - 2) + " " + remaining[at + len(pattern) :]
    out: dict[str, object] = {}
    for feature in FEATURES:
        hits = sorted(found[feature], key=lambda h: h[0])
        if feature == "utility_used":
            grenades = sorted({v for _, v in hits if v != NO_UTILITY})
            out[feature] = grenades if grenades else ([] if hits else None)
        else:
            out[feature] = hits[0][1] if hits else None
    return out


def phrase(features: Mapping[str, object]) -> str:
    """Advice text that expresses ``features`` with the table's first phrase for each value."""
    parts = []
    for feature in FEATURES:
        value = features.get(feature)
        if value is None:
            continue
        if feature == "utility_used":
            grenades = sorted(utility_set(value))
            parts.append(
                "use " + " and ".join(f"a {PHRASES[feature][g][0]}" for g in grenades)
                if grenades
                else NO_UTILITY
            )
        elif feature == "engagement_delay":
            parts.append(PHRASES[feature][nearest_delay(float(value))][0])
        else:
            parts.append(PHRASES[feature][int(value)][0])
    return (", ".join(parts) + ".").capitalize() if parts else ""


def nearest_delay(value: float) -> float:
    """The advice level closest to a measured delay (levels are 0.25 apart: at most 0.125 off)."""
    return min(DELAY_LEVELS, key=lambda level: abs(level - value))


def utility_set(value: object) -> set[str]:
    """Grenade names in any spelling (awpy, HUD, short) -> the decision vocabulary; decoys do not count."""
    items = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple, set)) else []
    return {u for u in (names.utility_name(i) for i in items) if u in UTILITY}


def all_feature_values() -> list[dict[str, object]]:
    """Every combination the table can express (for property tests and documentation)."""
    subsets = [sorted(c) for k in range(len(UTILITY) + 1) for c in combinations(UTILITY, k)]
    return [
        {
            "movement_direction": m,
            "objective_direction": o,
            "utility_used": u,
            "initiated_engagement": i,
            "engagement_delay": d,
        }
        for m in (-1, 0, 1)
        for o in (-1, 0, 1)
        for u in subsets
        for i in (0, 1)
        for d in DELAY_LEVELS
    ]


SIM_ACTIONS = ("hold", "advance", "fall_back", "rotate", "utility", "plant", "defuse", "save")
"""The simulator's decisions (``chimera.sim.state.ACTIONS``, spelled out here so that the real-demo
stages that read this table never import the simulator; a test keeps the two equal)."""


def sim_action(features: Mapping[str, object], legal: Sequence[str]) -> str | None:
    """The one simulator action that behaviour ``features`` (advice read by :func:`extract`, or the pro's
    observed §7 behaviour) amounts to, among the ``legal`` ones; ``None`` when the features say nothing
    an action expresses.

    The rules, first match wins, each only if its action is legal now:

    1. towards the objective (``objective_direction`` 1): ``plant`` or ``defuse`` — the objective act;
    2. grenades named or thrown (``utility_used`` non-empty): ``utility``;
    3. fall back and avoid any fight (``engagement_delay`` 1.0): ``save``; otherwise fall back: ``fall_back``
       (``save`` where falling back is not an option, as for a Counter-Terrorist after the plant);
    4. advance (``movement_direction`` 1) or go for the objective: ``advance``;
    5. hold (``movement_direction`` 0): ``hold``;
    6. away from the objective (``objective_direction`` -1): ``fall_back``.

    ``rotate`` is reached by no text: the phrase table has no words for "the other site" (SPEC §7), so
    the oracle scores it only as an alternative, never as anyone's advice.
    """
    move, objective = features.get("movement_direction"), features.get("objective_direction")
    grenades = features.get("utility_used")
    delay = features.get("engagement_delay")
    candidates: list[str] = []
    if objective == 1:
        candidates += ["plant", "defuse"]
    if grenades:
        candidates.append("utility")
    if move == -1:
        candidates += ["save", "fall_back"] if delay is not None and delay >= 1.0 else ["fall_back", "save"]
    if move == 1 or objective == 1:
        candidates.append("advance")
    if move == 0:
        candidates.append("hold")
    if objective == -1:
        candidates.append("fall_back")
    return next((a for a in candidates if a in legal), None)
