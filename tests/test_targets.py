"""SFT targets: the advice reads back as the pro's behaviour; the analysis follows its documented rules."""

import random

import pytest

from chimera.phrases import all_feature_values
from chimera.rewards import advice_behavior, decision, percept
from chimera.schema import ModelOutput
from chimera.targets import economy, importance, opportunities, sft_target, threats

STATE = ModelOutput.example().game_state.model_dump()


def state(**changes):
    return {**STATE, **changes}


def test_advice_expresses_exactly_the_pro_behaviour_in_every_state():
    rng = random.Random(0)
    for behavior in all_feature_values():
        s = state(
            alive_teammates=rng.randint(0, 4),
            alive_enemies=rng.randint(0, 5),
            player_health=rng.randint(1, 100),
            bomb_status=rng.choice(["carried", "dropped", "planted", None]),
            round_phase=rng.choice(["freezetime", "playing", "post-plant"]),
        )
        target = sft_target(s, behavior, (rng.randint(0, 12), rng.randint(0, 12)), 5, 24)
        assert advice_behavior(target.advice.model_dump()) == behavior
        assert decision(target.advice.model_dump(), behavior) == 1.0
        assert target.game_state.model_dump() == s
        assert percept(target.game_state.model_dump(), s) == 1.0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"weapon_primary": "AK-47"}, "full-buy"),
        ({"weapon_primary": "AWP"}, "full-buy"),
        ({"weapon_primary": "MP9"}, "half-buy"),
        ({"weapon_primary": None, "round_phase": "freezetime", "player_money": 4500}, "full-buy"),
        ({"weapon_primary": None, "round_phase": "freezetime", "player_money": 2500}, "half-buy"),
        ({"weapon_primary": None, "round_phase": "freezetime", "player_money": 1200}, "eco"),
        ({"weapon_primary": None, "player_armor": 100}, "force-buy"),
        ({"weapon_primary": None, "player_armor": 0, "weapon_secondary": "Desert Eagle"}, "force-buy"),
        ({"weapon_primary": None, "player_armor": 0, "weapon_secondary": "USP-S"}, "eco"),
        # down two players with a rifle in a live round: keep it for the next round
        ({"weapon_primary": "M4A1-S", "alive_teammates": 1, "alive_enemies": 4}, "save"),
        ({"weapon_primary": "M4A1-S", "alive_teammates": 1, "alive_enemies": 3}, "full-buy"),
    ],
)
def test_economy_rules(changes, expected):
    assert economy(state(**changes)) == expected


@pytest.mark.parametrize(
    ("changes", "score", "round_num", "expected"),
    [
        ({}, (4, 3), 8, "medium"),
        ({}, (0, 0), 1, "high"),  # pistol round
        ({}, (7, 5), 13, "high"),  # second pistol round
        ({}, (9, 4), 14, "high"),  # a team three rounds from winning
        ({}, (12, 3), 16, "critical"),  # match point
        ({}, (12, 12), 25, "critical"),  # overtime
        ({"round_phase": "post-plant"}, (2, 2), 5, "high"),
        ({"alive_teammates": 0, "alive_enemies": 2}, (2, 2), 5, "critical"),  # clutch
        ({"round_phase": "round-over"}, (2, 2), 5, "low"),
    ],
)
def test_importance_rules(changes, score, round_num, expected):
    assert importance(state(**changes), score, round_num, 24) == expected


def test_threats_and_opportunities():
    s = state(alive_teammates=1, alive_enemies=4, visible_enemies=2, player_health=30, bomb_status="planted")
    assert threats(s) == ["outnumbered 2v4", "2 enemies in view", "low health", "the bomb is ticking"]
    assert opportunities(s) == []
    s = state(alive_teammates=4, alive_enemies=2, player_side="T", bomb_status="planted", visible_enemies=0)
    assert threats(s) == []
    assert opportunities(s) == ["man advantage 5v2", "the clock is on your side"]
