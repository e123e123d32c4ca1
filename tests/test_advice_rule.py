"""The situational advice rule (SFT's advice, SPEC §9) and the validity checks of advice (SPEC §10)."""

import random

import pytest

from chimera.advice import contradictions, situational
from chimera.phrases import extract, phrase
from chimera.schema import ModelOutput
from chimera.sft import agreement_with_pro
from tests.grpofiles import row

LIVE = {**ModelOutput.example().game_state.model_dump(), "round_phase": "playing", "bomb_status": None}


def state(**changes):
    return {**LIVE, **changes}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # outnumbered CT before the plant: fall back, stay off the site, no duel, avoid fighting
        (
            {"player_side": "CT", "alive_teammates": 1, "alive_enemies": 4, "utility": ["smoke"]},
            {
                "movement_direction": -1,
                "objective_direction": 0,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 1.0,
            },
        ),
        # T with a man advantage before the plant, holding a flash and a molotov: push with the flash
        (
            {
                "player_side": "T",
                "alive_teammates": 4,
                "alive_enemies": 2,
                "player_health": 80,
                "utility": ["molotov", "flashbang"],
            },
            {
                "movement_direction": 1,
                "objective_direction": 1,
                "utility_used": ["flash"],
                "initiated_engagement": 1,
                "engagement_delay": 0.25,
            },
        ),
        # the same with 30 health: still push, but let them peek
        (
            {
                "player_side": "T",
                "alive_teammates": 4,
                "alive_enemies": 2,
                "player_health": 30,
                "utility": [],
            },
            {
                "movement_direction": 1,
                "objective_direction": 1,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 0.25,
            },
        ),
        # CT after the plant, even numbers: go to the bomb, fight right away
        (
            {
                "player_side": "CT",
                "alive_teammates": 1,
                "alive_enemies": 2,
                "bomb_status": "planted",
                "round_phase": "post-plant",
                "utility": [],
            },
            {
                "movement_direction": 0,
                "objective_direction": 1,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 0.0,
            },
        ),
        # no decision left: the round is over
        (
            {"round_phase": "round-over"},
            {
                "movement_direction": 0,
                "objective_direction": 0,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 1.0,
            },
        ),
        (
            {"round_phase": "freezetime"},
            {
                "movement_direction": 0,
                "objective_direction": 0,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 0.75,
            },
        ),
    ],
)
def test_the_rule_on_hand_written_states(changes, expected):
    assert situational(state(**changes)) == expected
    assert extract(phrase(expected)) == expected  # the phrase table carries it without loss


def test_the_rule_reads_only_the_visible_state():
    """Two frames with the same game_state get the same advice whatever the pros did next."""
    rng = random.Random(3)
    rows = [row(i, f"{i}.jpg", rng) for i in range(40)]
    for r in rows:
        other = {**r["ground_truth"], "pro_action": None, "round_won": not r["ground_truth"]["round_won"]}
        assert situational(other["game_state"]) == situational(r["ground_truth"]["game_state"])


def test_the_imitation_arm_copies_the_pro_and_the_default_does_not():
    rng = random.Random(5)
    rows = [row(i, f"{i}.jpg", rng) for i in range(60)]
    assert agreement_with_pro(rows, 24, "pro")["exact"] == 1.0
    default = agreement_with_pro(rows, 24, "situational")
    assert default["frames"] == 60 and default["exact"] < 0.5 and default["decision_reward"] < 0.9


@pytest.mark.parametrize(
    ("text", "changes", "expected"),
    [
        ("Plant the bomb on A.", {"player_side": "CT"}, ["plant as CT"]),
        ("Plant the bomb on A.", {"player_side": "T"}, []),
        ("Go defuse now.", {"bomb_status": "carried"}, ["defuse with no bomb planted"]),
        ("Go defuse now.", {"bomb_status": "planted"}, []),
        ("Use a molotov on the site.", {"utility": ["smoke"]}, ["grenade not held: molotov"]),
        ("Use a smoke, then hold your position.", {"utility": ["smoke"]}, []),
        ("Push towards the enemy.", {"alive_enemies": 0}, ["a fight with no enemy alive"]),
        ("Hold your position, the bomb is planted.", {"player_side": "CT", "bomb_status": None}, []),
    ],
)
def test_contradictions_with_the_visible_state(text, changes, expected):
    assert contradictions(text, state(**changes)) == expected
