"""Phase 2 rewards against numbers worked out by hand from SPEC §8 (not from running the code)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chimera.phrases import phrase
from chimera.rewards import (
    advice_behavior,
    decision,
    format_gate,
    omega,
    percept,
    phi,
    reward_functions,
    total,
)
from chimera.schema import ModelOutput

SPEC = {"percept": 0.2, "decision": 0.3, "outcome": 0.5}  # SPEC §8
PRO = {
    "movement_direction": 1,
    "objective_direction": 0,
    "utility_used": ["smoke", "flash"],
    "initiated_engagement": 1,
    "engagement_delay": 0.5,
}


# -- percept ----------------------------------------------------------------------------------------
def test_percept_hand_computed():
    truth = {
        "player_health": 100,
        "player_armor": 50,
        "player_side": "CT",
        "utility": ["smoke", "flashbang"],
        "alive_teammates": 3,
        "visible_enemies": None,
    }
    pred = {
        "player_health": 91,
        "player_armor": 44,
        "player_side": "counter-terrorist",
        "utility": ["Smoke Grenade"],
        "alive_teammates": 3,
        "visible_enemies": 2,
    }
    # health 91 within 10 % of 100: 1; armor 44 vs 50 is 12 % off: 0; side alias: 1;
    # Jaccard {smoke}/{smoke,flash}: 0.5; teammates exact: 1; visible_enemies listed unknown: skipped
    # -> (1 + 0 + 1 + 0.5 + 1) / 5
    assert percept(pred, truth, ["visible_enemies"]) == pytest.approx(0.7)
    # not listed as unknown, the null is a value the answer (2) gets wrong -> 3.5 / 6
    assert percept(pred, truth) == pytest.approx(3.5 / 6)
    assert percept({**pred, "visible_enemies": None}, truth) == pytest.approx(4.5 / 6)


def test_an_empty_weapon_slot_is_scored_and_only_unknown_fields_are_skipped():
    truth = {"weapon_primary": None, "weapon_secondary": "Glock-18", "site": None}
    assert percept({"weapon_primary": "M4A1-S", "weapon_secondary": "Glock-18"}, truth, ["site"]) == 0.5
    assert percept({"weapon_primary": None, "weapon_secondary": "glock"}, truth, ["site"]) == 1.0
    assert percept({"weapon_primary": None, "weapon_secondary": "glock"}, truth, list(truth)) == 0.0


@pytest.mark.parametrize(
    "field, pred, true, expected",
    [
        ("player_money", 4300, 4750, 1.0),  # 450 <= 475
        ("player_money", 4200, 4750, 0.0),  # 550 > 475
        ("player_health", 0, 0, 1.0),
        ("player_health", 1, 0, 0.0),
        ("alive_enemies", 4, 5, 0.0),  # small counts are exact
        ("weapon_primary", "ak47", "AK-47", 1.0),
        ("weapon_primary", "M4A4", "AK-47", 0.0),
        ("bomb_status", "detonated", "exploded", 1.0),
        ("map_name", "Mirage", "de_mirage", 1.0),
        ("round_phase", "Post plant", "post-plant", 1.0),
        ("utility", [], [], 1.0),
        ("utility", ["Incendiary Grenade"], ["incendiary"], 1.0),
        ("site", "a site", "A Site", 1.0),
        ("player_health", "100", 100, 0.0),  # a number as text is not a number
    ],
)
def test_percept_field_rules(field, pred, true, expected):
    assert percept({field: pred}, {field: true}) == expected


def test_percept_scores_nothing_without_truth():
    assert percept({"player_health": 100}, {"player_health": None}) == 0.0
    assert percept("garbage", {"player_health": 100}) == 0.0


# -- decision ---------------------------------------------------------------------------------------
def advice(text: str) -> dict:
    return {"primary_action": text, "reasoning": "", "fallback": "", "callout": ""}


def test_decision_hand_computed():
    # movement agrees (1); objective unaddressed (0); Jaccard {smoke}/{smoke,flash} = 0.5; initiated and delay
    # unaddressed (0, 0) -> 1.5 / 5
    assert decision(advice("Push towards the enemy and use a smoke."), PRO) == pytest.approx(0.3)
    assert decision(advice(phrase(PRO)), PRO) == 1.0


def test_decision_delay_tolerance_and_negation():
    wait = advice("Fight after a short wait")  # level 0.5
    assert decision(wait, {**PRO, "engagement_delay": 0.4}) == pytest.approx(1 / 5)  # |0.1| <= 0.2
    assert decision(wait, {**PRO, "engagement_delay": 0.8}) == 0.0  # |0.3| > 0.2, utility (none named) vs 2
    calm = advice("Don't peek, hold the angle")
    pro = {
        "movement_direction": 0,
        "objective_direction": 1,
        "utility_used": [],
        "initiated_engagement": 0,
        "engagement_delay": 1.0,
    }
    assert decision(calm, pro) == pytest.approx(3 / 5)  # movement, initiated, and no grenade vs none thrown


def test_decision_reads_other_parsers_vocabulary():
    awpy_style = {**PRO, "utility_used": ["Smoke Grenade", "Flashbang"], "initiated_engagement": True}
    assert decision(advice(phrase(PRO)), awpy_style) == 1.0


@pytest.mark.parametrize(
    "text", ["play smart", "", "Think about the situation and make a good call.", "gl hf"]
)
def test_vague_advice_scores_at_most_one_fifth(text):
    assert decision(advice(text), {**PRO, "utility_used": []}) == pytest.approx(0.2)
    assert decision(advice(text), PRO) == 0.0
    assert decision({"primary_action": None}, PRO) <= 0.2


def test_advice_behavior_reads_primary_reasoning_and_fallback_not_the_callout():
    a = {
        "primary_action": "Hold your position",
        "reasoning": "they will take the site",
        "fallback": "fall back",
        "callout": "push towards the enemy",
    }
    read = advice_behavior(a)
    assert read["movement_direction"] == 0 and read["objective_direction"] == 1


# -- phi and omega ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "contribution, expected",
    [
        # 0.4 * 50/100 + 0.3 * 30/60 + 0.3 * 1
        (
            {
                "damage_dealt": 50,
                "max_round_damage": 100,
                "survival_time": 30,
                "round_duration": 60,
                "objective_action": True,
            },
            0.65,
        ),
        # damage share capped at 1: 0.4 + 0.3 * 60/60 + 0
        (
            {
                "damage_dealt": 150,
                "max_round_damage": 100,
                "survival_time": 60,
                "round_duration": 60,
                "objective_action": 0,
            },
            0.7,
        ),
        (
            {
                "damage_dealt": 0,
                "max_round_damage": 0,
                "survival_time": 0,
                "round_duration": 60,
                "objective_action": False,
            },
            0.0,
        ),
        ({"damage_dealt": 50, "max_round_damage": 100, "survival_time": 30}, 0.5),  # inputs missing
        (
            {
                "damage_dealt": 50,
                "max_round_damage": 100,
                "survival_time": 30,
                "round_duration": 60,
                "objective_action": "yes",
            },
            0.5,
        ),
        (None, 0.5),
    ],
)
def test_phi_hand_computed(contribution, expected):
    assert phi(contribution) == pytest.approx(expected)


def test_omega_matrix_at_full_contribution():
    assert omega(1, 1.0, 1.0) == pytest.approx(1.0)  # agree with a win
    assert omega(0, 1.0, 1.0) == pytest.approx(0.2)  # agree with a loss
    assert omega(1, 1.0, 0.0) == pytest.approx(0.5)  # deviate from a win
    assert omega(0, 1.0, 0.0) == pytest.approx(0.5)  # deviate from a loss
    assert omega(True, 0.5, 0.5) == pytest.approx(0.5 * 0.75)
    assert omega("0", 0.5, 0.5) == pytest.approx(0.5 * 0.35)


def test_outcome_rewards_deviating_from_a_losing_play():
    for f in (0.2, 0.6, 1.0):
        assert omega(0, f, 0.0) > omega(0, f, 1.0)
        assert omega(1, f, 1.0) > omega(1, f, 0.0)


# -- total ------------------------------------------------------------------------------------------
def completion(advice_text: str, state: dict | None = None) -> str:
    out = ModelOutput.example().model_dump()
    out["advice"] = advice(advice_text)
    if state:
        out["game_state"].update(state)
    return "Here is my read:\n```json\n" + json.dumps(out) + "\n```"


def ground_truth(won: bool) -> dict:
    return {
        "game_state": ModelOutput.example().game_state.model_dump(),
        "pro_action": {"behavior": PRO, "description": phrase(PRO)},
        "round_won": won,
        "player_contribution": {
            "damage_dealt": 50,
            "max_round_damage": 100,
            "survival_time": 30,
            "round_duration": 60,
            "objective_action": 1,
        },
    }


def test_total_hand_computed():
    weights = {"percept": 0.2, "decision": 0.3, "outcome": 0.5}
    r = total(completion(phrase(PRO)), ground_truth(won=False), weights)
    # percept 1, decision 1, outcome = 0.65 * (0.5 - 0.3) = 0.13 -> 0.2 + 0.3 + 0.5 * 0.13
    assert r == pytest.approx({"total": 0.565, "gate": 1.0, "percept": 1.0, "decision": 1.0, "outcome": 0.13})
    assert total("no json here", ground_truth(won=True), weights) == {
        "total": 0.0,
        "gate": 0.0,
        "percept": 0.0,
        "decision": 0.0,
        "outcome": 0.0,
    }


def test_total_uses_the_weights_it_is_given():
    text, gt = completion(phrase(PRO)), ground_truth(won=True)
    spec, percept_only = (
        total(text, gt, SPEC),
        total(text, gt, {"percept": 1.0, "decision": 0.0, "outcome": 0.0}),
    )
    assert percept_only["total"] == pytest.approx(spec["percept"]) and spec["total"] != percept_only["total"]


def test_total_asymmetry_holds_only_when_decision_weighs_less_than_its_outcome_penalty():
    """On a losing sample d(total)/da = w_decision - 0.3 * w_outcome * phi.

    With SPEC §8's weights (0.3 vs 0.5 * 0.3 * phi <= 0.15) agreeing still scores the higher *total*;
    the asymmetry lives in R_outcome (asserted above). With w_decision below 0.3 * w_outcome * phi a
    deviating completion wins the total, as the seed design intends.
    """
    gt = ground_truth(won=False)
    agree, deviate = (
        completion(phrase(PRO)),
        completion(
            phrase(
                {
                    **PRO,
                    "movement_direction": -1,
                    "objective_direction": -1,
                    "utility_used": ["he"],
                    "initiated_engagement": 0,
                    "engagement_delay": 0.0,
                }
            )
        ),
    )
    spec = {"percept": 0.2, "decision": 0.3, "outcome": 0.5}
    assert total(agree, gt, spec)["percept"] == total(deviate, gt, spec)["percept"]
    assert total(deviate, gt, spec)["outcome"] > total(agree, gt, spec)["outcome"]
    assert total(agree, gt, spec)["total"] > total(deviate, gt, spec)["total"]
    tilted = {"percept": 0.2, "decision": 0.05, "outcome": 0.75}  # 0.05 < 0.3 * 0.75 * 0.65
    assert total(deviate, gt, tilted)["total"] > total(agree, gt, tilted)["total"]


def test_the_two_reward_variants_on_a_lost_round_with_full_contribution():
    """SPEC §8: at phi = 1 on a lost round the seed total prefers agreeing with the pro, the
    outcome-gated total prefers deviating; on a won round both prefer agreeing."""
    full = {"damage_dealt": 100, "max_round_damage": 100, "survival_time": 60, "round_duration": 60,
            "objective_action": 1}  # fmt: skip
    agree = completion(phrase(PRO))
    other = {"movement_direction": 1, "objective_direction": 1, "utility_used": [], "initiated_engagement": 1,
             "engagement_delay": 0.0}  # fmt: skip
    deviate = completion(phrase({**PRO, **other}))
    lost = {**ground_truth(won=False), "player_contribution": full}
    won = {**lost, "round_won": True}
    assert phi(full) == 1.0

    def prefers_agreeing(gt, variant):
        return total(agree, gt, SPEC, variant)["total"] > total(deviate, gt, SPEC, variant)["total"]

    assert prefers_agreeing(lost, "seed") and not prefers_agreeing(lost, "outcome_gated")
    assert prefers_agreeing(won, "seed") and prefers_agreeing(won, "outcome_gated")
    assert total(agree, won, SPEC, "outcome_gated") == total(agree, won, SPEC, "seed")  # W = 1: the same
    with pytest.raises(ValueError, match="unknown reward variant"):
        total(agree, won, SPEC, "greedy")
    with pytest.raises(ValueError, match="unknown reward variant"):
        reward_functions(SPEC, "greedy")


# -- never raise, always in [0, 1] ------------------------------------------------------------------
json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), a=json_like, b=json_like, c=json_like)
def test_nothing_raises_and_everything_is_in_range(text, a, b, c):
    assert format_gate(text) in (0, 1)
    for value in (percept(a, b), decision(a, b), phi(a), omega(a, b, c), omega(1, b, c)):
        assert 0.0 <= value <= 1.0
    result = total(text, a, SPEC)
    assert set(result) == {"total", "gate", "percept", "decision", "outcome"}
    assert all(0.0 <= v <= 1.0 for v in result.values())


@settings(max_examples=100, deadline=None)
@given(
    health=st.integers(-50, 300),
    money=st.integers(-10, 20000),
    util=st.lists(st.text(max_size=12), max_size=5),
)
def test_valid_json_with_any_values_never_raises(health, money, util):
    out = ModelOutput.example().model_dump()
    out["game_state"].update(player_health=health, player_money=money, utility=util)
    result = total(json.dumps(out), ground_truth(won=True), SPEC)
    assert all(0.0 <= v <= 1.0 for v in result.values())


def test_trl_adapters_take_conversational_completions_and_dataset_columns():
    gt = ground_truth(won=True)
    text = completion(phrase(PRO))
    completions = [[{"role": "assistant", "content": text}], [{"role": "assistant", "content": "no idea"}]]
    funcs = reward_functions(SPEC, "seed")
    values = funcs[0](
        prompts=[[], []],
        completions=completions,
        completion_ids=[[], []],
        ground_truth=[gt, json.dumps(gt)],
        trainer_state=None,
    )
    assert values == [pytest.approx(total(text, gt, SPEC)["total"]), 0.0]
    assert [f.__name__ for f in funcs] == [
        "reward_total",
        "reward_gate",
        "reward_percept",
        "reward_decision",
        "reward_outcome",
    ]
