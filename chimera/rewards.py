"""Phase 2 rewards (SPEC §8): pure functions of a completion and the sample's ground truth.

``total = gate * (w_percept * R_percept + w_decision * R_decision + w_outcome * R_outcome)``:

- ``gate``: 1 when the completion holds a valid §4 JSON object (:func:`chimera.schema.parse_output`).
- ``R_percept``: how much of ``game_state`` matches the truth (categoricals exact after aliases, money and
  health within ±10 %, small counts exact, Jaccard for the grenade list). A null in the truth is a value
  (an empty weapon slot must be answered null); only the fields the ground truth lists as ``unknown``
  are skipped (SPEC §5).
- ``R_decision``: agreement of the advice's behaviour (read with :mod:`chimera.phrases`) with what the pro
  did, feature by feature; an unaddressed feature scores 0, except that naming no grenade agrees with "no
  grenade thrown". Vague advice therefore scores at most 0.2.
- ``R_outcome = Ω(W, φ, a)`` with ``a = R_decision``: ``W·φ·(0.5 + 0.5a) + (1 − W)·φ·(0.5 − 0.3a)``. At
  φ = 1 agreeing with a win is worth 1.0, with a loss 0.2, and deviating 0.5 either way.

Every function accepts anything (model output is arbitrary text; ground truth may come from another
parser, with awpy's grenade names and booleans for 0/1), never raises, and returns a value in [0, 1].
The ``reward_*`` functions at the end are the same numbers in the signature TRL's GRPOTrainer calls.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from chimera import names
from chimera.phrases import FEATURES, extract, utility_set
from chimera.schema import GAME_STATE_FIELDS, parse_output

PERCENT_FIELDS = ("player_health", "player_armor", "player_money", "team_money_total")
COUNT_FIELDS = ("alive_teammates", "alive_enemies", "visible_enemies")
WEAPON_FIELDS = ("weapon_primary", "weapon_secondary")
DELAY_TOLERANCE = 0.2
ALIASES = {
    "round_phase": {
        "freeze time": "freezetime",
        "freeze": "freezetime",
        "live": "playing",
        "in progress": "playing",
        "post plant": "post-plant",
        "postplant": "post-plant",
        "planted": "post-plant",
        "round over": "round-over",
        "over": "round-over",
        "ended": "round-over",
    },
    "player_side": {
        "t": "T",
        "terrorist": "T",
        "terrorists": "T",
        "ct": "CT",
        "counter-terrorist": "CT",
        "counter terrorist": "CT",
        "counter-terrorists": "CT",
    },
    "bomb_status": {
        "detonated": "exploded",
        "detonate": "exploded",
        "exploded": "exploded",
        "planted": "planted",
        "carried": "carried",
        "dropped": "dropped",
        "defused": "defused",
    },
}


# -- format gate ------------------------------------------------------------------------------------
def format_gate(text: object) -> int:
    """1 when ``text`` contains a complete §4 object (game_state, analysis, advice), else 0."""
    try:
        return int(parse_output(text).ok)
    except Exception:  # the parser never raises; this keeps the promise even if it one day did
        return 0


# -- perception -------------------------------------------------------------------------------------
def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _category(field: str, value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = (
        " ".join(value.strip().lower().replace("_", " ").split())
        if field != "map_name"
        else value.strip().lower()
    )
    if field == "map_name":
        return text if text.startswith("de_") else f"de_{text}"
    return ALIASES.get(field, {}).get(text, text.replace(" ", "-") if field == "round_phase" else text)


def field_match(field: str, pred: object, true: object) -> float:
    """How well one predicted game_state field matches the truth, in [0, 1]; a null truth wants a null."""
    if true is None:
        return float(pred is None)
    if field in PERCENT_FIELDS:
        p, t = _number(pred), _number(true)
        return float(p is not None and t is not None and abs(p - t) <= 0.1 * abs(t))
    if field in COUNT_FIELDS:
        p, t = _number(pred), _number(true)
        return float(p is not None and t is not None and p == t)
    if field in WEAPON_FIELDS:
        wp, wt = names.weapon(pred), names.weapon(true)
        if wt is not None:
            return float(wp is wt)
        return float(
            isinstance(pred, str) and isinstance(true, str) and pred.strip().lower() == true.strip().lower()
        )
    if field == "utility":
        p, t = _grenades(pred), _grenades(true)
        if p is None or t is None:
            return 0.0
        return 1.0 if not p and not t else len(p & t) / len(p | t)
    p, t = _category(field, pred), _category(field, true)
    return float(p is not None and p == t)


def _grenades(value: object) -> set[str] | None:
    if not isinstance(value, (list, tuple, set)):
        return None
    return {n for n in (names.state_utility_name(v) for v in value) if n is not None}


def known_fields(unknown: object) -> tuple[str, ...]:
    """The §4 fields to score: all but those listed as unknown (anything else in ``unknown`` is ignored)."""
    skip = set(unknown) if isinstance(unknown, (list, tuple, set, frozenset)) else set()
    return tuple(f for f in GAME_STATE_FIELDS if f not in skip)


def percept(pred_state: object, true_state: object, unknown: object = ()) -> float:
    """Mean field match over the §4 fields of the truth that are not ``unknown`` (0 if none are known)."""
    if not isinstance(true_state, Mapping):
        return 0.0
    pred = pred_state if isinstance(pred_state, Mapping) else {}
    fields = [f for f in known_fields(unknown) if f in true_state]
    if not fields:
        return 0.0
    return sum(field_match(f, pred[f], true_state[f]) if f in pred else 0.0 for f in fields) / len(fields)


# -- decision ---------------------------------------------------------------------------------------
def advice_text(advice: object) -> str:
    """The text the decision reward reads: primary action, reasoning and fallback (not the callout)."""
    if not isinstance(advice, Mapping):
        return ""
    return " ".join(str(advice.get(k) or "") for k in ("primary_action", "reasoning", "fallback"))


def advice_behavior(advice: object) -> dict[str, object]:
    """The behaviour features the advice expresses (``None`` where it says nothing)."""
    return extract(advice_text(advice))


def _flag(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return int(value.strip().lower() in ("1", "true"))
    return None


def _direction(value: object) -> int | None:
    n = _number(value)
    return int(n) if n in (-1.0, 0.0, 1.0) else None


def decision(advice: object, pro_behavior: object) -> float:
    """Mean agreement over the five behaviour features (SPEC §8); unaddressed features score 0."""
    said = advice_behavior(advice)
    pro = pro_behavior if isinstance(pro_behavior, Mapping) else {}
    scores = []
    for feature in FEATURES:
        mine, theirs = said[feature], pro.get(feature)
        if feature == "utility_used":
            a = set(mine or [])  # naming no grenade agrees with "no grenade thrown"
            b = utility_set(theirs) if isinstance(theirs, (list, tuple, set, str)) else None
            scores.append(0.0 if b is None else 1.0 if not a and not b else len(a & b) / len(a | b))
        elif feature == "engagement_delay":
            t = _number(theirs)
            scores.append(
                float(mine is not None and t is not None and abs(float(mine) - t) <= DELAY_TOLERANCE)
            )
        elif feature == "initiated_engagement":
            scores.append(float(mine is not None and mine == _flag(theirs)))
        else:
            scores.append(float(mine is not None and mine == _direction(theirs)))
    return sum(scores) / len(scores)


# -- outcome ----------------------------------------------------------------------------------------
def phi(contribution: object) -> float:
    """φ = 0.4·damage/max damage + 0.3·survival/duration + 0.3·objective in [0, 1]; 0.5 if inputs miss."""
    if not isinstance(contribution, Mapping):
        return 0.5
    damage, most = _number(contribution.get("damage_dealt")), _number(contribution.get("max_round_damage"))
    alive, duration = _number(contribution.get("survival_time")), _number(contribution.get("round_duration"))
    objective = _flag(contribution.get("objective_action"))
    if None in (damage, most, alive, duration, objective) or duration <= 0 or most < 0:
        return 0.5
    share = min(max(damage / most, 0.0), 1.0) if most > 0 else 0.0
    survived = min(max(alive / duration, 0.0), 1.0)
    return min(max(0.4 * share + 0.3 * survived + 0.3 * objective, 0.0), 1.0)


def omega(won: object, phi_value: object, agreement: object) -> float:
    """Ω(W, φ, a) = W·φ·(0.5 + 0.5a) + (1 − W)·φ·(0.5 − 0.3a); W from a bool or 0/1."""
    w = _flag(won)
    f, a = _number(phi_value), _number(agreement)
    if w is None or f is None or a is None:
        return 0.0
    f, a = min(max(f, 0.0), 1.0), min(max(a, 0.0), 1.0)
    return w * f * (0.5 + 0.5 * a) + (1 - w) * f * (0.5 - 0.3 * a)


# -- total ------------------------------------------------------------------------------------------
VARIANTS = ("seed", "outcome_gated")


def total(
    text: object, ground_truth: object, weights: Mapping[str, float], variant: str = "seed"
) -> dict[str, float]:
    """``total``, ``gate`` and the three components (all 0 when the gate is closed).

    ``weights`` (``grpo.reward_weights``: percept, decision, outcome) are always passed in, as TRL scripts
    pass their configs: nothing here reads params behind the caller's back. ``variant`` (SPEC §8):
    ``seed`` sums ``w_p·R_percept + w_d·R_decision + w_o·Ω``; ``outcome_gated`` pays the alignment term
    only when the pro's round was won (``w_d·W·R_decision``), so on a lost round with φ > 0 the total
    prefers deviating from the pro. Evaluation always reports the ``seed`` total, so variants compare.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown reward variant {variant!r} (one of {', '.join(VARIANTS)})")
    zero = {"total": 0.0, "gate": 0.0, "percept": 0.0, "decision": 0.0, "outcome": 0.0}
    parsed = parse_output(text)
    gt = _ground_truth(ground_truth)
    if not parsed.ok or gt is None:
        return zero
    out = parsed.output
    p = percept(out.game_state.model_dump(), gt.get("game_state"), gt.get("unknown", ()))
    pro = gt.get("pro_action")
    d = decision(out.advice.model_dump(), pro.get("behavior") if isinstance(pro, Mapping) else None)
    won = gt.get("round_won")
    o = omega(won, phi(gt.get("player_contribution")), d)
    aligned = d if variant == "seed" else (_flag(won) or 0) * d
    value = (
        weights.get("percept", 0.0) * p
        + weights.get("decision", 0.0) * aligned
        + weights.get("outcome", 0.0) * o
    )
    return {"total": min(max(value, 0.0), 1.0), "gate": 1.0, "percept": p, "decision": d, "outcome": o}


def _ground_truth(value: object) -> Mapping | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None


# -- TRL adapters -----------------------------------------------------------------------------------
def completion_text(completion: Any) -> str:
    """A TRL completion (plain text, or conversational ``[{"role": "assistant", "content": ...}]``)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content") if isinstance(completion[-1], Mapping) else None
        if isinstance(content, list):  # multimodal content parts
            return " ".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        return content if isinstance(content, str) else ""
    return ""


COMPONENTS = ("total", "gate", "percept", "decision", "outcome")


def reward_functions(weights: Mapping[str, float], variant: str) -> tuple:
    """One GRPOTrainer reward function per component of :func:`total` under ``weights`` and ``variant``,
    in :data:`COMPONENTS` order. Pass them with ``reward_weights=[1, 0, 0, 0, 0]``: only the total drives
    the policy, the components are logged per step (TRL logs every reward function's mean)."""
    weights = dict(weights)
    if variant not in VARIANTS:
        raise ValueError(f"unknown reward variant {variant!r} (one of {', '.join(VARIANTS)})")

    def component(key: str):
        def reward(completions: list, ground_truth: list | None = None, **_: Any) -> list[float]:
            truths = ground_truth if ground_truth is not None else [None] * len(completions)
            return [
                total(completion_text(c), g, weights, variant)[key]
                for c, g in zip(completions, truths, strict=False)
            ]

        reward.__name__ = f"reward_{key}"
        reward.__doc__ = f"The ``{key}`` of :func:`total` for each completion (GRPOTrainer signature)."
        return reward

    return tuple(component(key) for key in COMPONENTS)
