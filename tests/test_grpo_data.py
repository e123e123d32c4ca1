"""grpo_data rules, on a hand-built match whose numbers are worked out by hand.

T player A walks from x=0 towards CT player B (standing on BombsiteA at x=1000) at 1 unit a tick; T
teammate M stands on BombsiteB at x=-1500 and plants there at tick 700. M hits A for 30 at tick 600
(team damage), B hits A for 120 at 850 (lethal: A had 70 left), A hits B for 60 at 860 (as A dies).
A throws a smoke at 300 and a flash at 1300, after the round ended at 1200. A carries an HE grenade
that is never thrown.
"""

import json

import polars as pl
import pytest

from chimera import names, tables
from chimera.behavior import MatchTimeline, behavior, contribution, removed_damage
from chimera.config import load_params
from chimera.grpo_data import ground_truth
from chimera.prompt import INSTRUCTION
from chimera.tables import SIDE_CT, SIDE_T

A, B, M = 1, 2, 3
END = 1200


def frame(name: str, rows: list[dict]) -> pl.DataFrame:
    schema = tables.SCHEMAS[name]
    return pl.DataFrame([{**dict.fromkeys(schema), **r} for r in rows], schema=schema)


def x_of(sid: int, tick: int) -> float:
    return {A: float(min(tick, 896)), B: 1000.0, M: -1500.0}[sid]


@pytest.fixture(scope="module")
def match() -> dict[str, pl.DataFrame]:
    ticks = []
    for tick in range(0, 1601, 8):
        for sid, side, place in ((A, SIDE_T, "Middle"), (B, SIDE_CT, "BombsiteA"), (M, SIDE_T, "BombsiteB")):
            dead = sid == A and tick >= 856
            ticks.append(
                {
                    "tick": tick,
                    "steamid": sid,
                    "name": f"p{sid}",
                    "side": side,
                    "x": x_of(sid, tick),
                    "y": 0.0,
                    "z": 0.0,
                    "health": 0 if dead else 100,
                    "place": place,
                    "inventory": "" if dead else "glock,knife,hegrenade",
                }
            )
    return {
        **{t: tables.empty(t) for t in tables.TABLES},
        "ticks": frame("ticks", ticks),
        "rounds": frame(
            "rounds",
            [
                {
                    "round_num": 1,
                    "start_tick": 0,
                    "freeze_end_tick": 64,
                    "end_tick": END,
                    "official_end_tick": 1600,
                    "winner": 3,
                    "winner_side": SIDE_CT,
                    "reason": 8,
                    "reason_name": "ct_win",
                    "is_knife_round": False,
                }
            ],
        ),
        "grenades": frame(
            "grenades",
            [
                {
                    "tick": t,
                    "thrower_steamid": A,
                    "thrower_name": "p1",
                    "thrower_side": SIDE_T,
                    "type": kind,
                    "entity_id": e,
                    "entity_serial": 1,
                    "x": 0.0,
                    "y": 0.0,
                    "z": 0.0,
                }
                for e, kind, start in ((7, "smoke", 300), (8, "flashbang", 1300))
                for t in range(start, start + 40)
            ],
        ),
        "bomb": frame(
            "bomb",
            [
                {
                    "tick": 700,
                    "event": "finish_plant",
                    "steamid": M,
                    "name": "p3",
                    "bombsite": "B",
                    "x": -1500.0,
                    "y": 0.0,
                    "z": 0.0,
                }
            ],
        ),
        "damages": frame(
            "damages",
            [
                {
                    "tick": 600,
                    "attacker_steamid": M,
                    "attacker_side": SIDE_T,
                    "victim_steamid": A,
                    "victim_side": SIDE_T,
                    "dmg_health": 30,
                    "weapon": "ak47",
                },
                {
                    "tick": 850,
                    "attacker_steamid": B,
                    "attacker_side": SIDE_CT,
                    "victim_steamid": A,
                    "victim_side": SIDE_T,
                    "dmg_health": 120,
                    "weapon": "awp",
                },
                {
                    "tick": 860,
                    "attacker_steamid": A,
                    "attacker_side": SIDE_T,
                    "victim_steamid": B,
                    "victim_side": SIDE_CT,
                    "dmg_health": 60,
                    "weapon": "glock",
                },
            ],
        ),
    }


@pytest.fixture(scope="module")
def tl(match) -> MatchTimeline:
    return MatchTimeline.of(match)


def test_features_over_the_window(tl):
    f = behavior(tl, A, 200, window_s=12, move_threshold=200)
    assert f["movement_direction"] == 1  # A's own move 200 -> 896 runs straight at B (at 1000)
    assert f["objective_direction"] == 1  # nearest site at tick 200 is A's site, 800 -> 104 away
    assert f["utility_used"] == ["smoke"]  # thrown at 300; the HE grenade was carried, never thrown
    assert f["initiated_engagement"] == 0  # B hit A first (850); M's team damage at 600 is not a fight
    assert f["engagement_delay"] == pytest.approx((850 - 200) / 768, abs=1e-4)


def test_movement_is_the_players_own_move_not_the_enemys(match):
    """CT player B stands still while T player A walks up to him: B holds, A advances."""
    tl = MatchTimeline.of(match)
    assert behavior(tl, B, 200, window_s=12, move_threshold=200)["movement_direction"] == 0
    assert behavior(tl, A, 200, window_s=12, move_threshold=200)["movement_direction"] == 1
    # sideways movement is not an advance: A walks along +x, an enemy straight above it in y
    sideways = match["ticks"].with_columns(
        pl.when(pl.col("steamid") == B).then(0.0).otherwise(pl.col("x")).alias("x"),
        pl.when(pl.col("steamid") == B).then(5000.0).otherwise(pl.col("y")).alias("y"),
    )
    moved = MatchTimeline.of({**match, "ticks": sideways})
    assert behavior(moved, A, 200, window_s=12, move_threshold=200)["movement_direction"] == 0


def test_window_is_clipped_at_the_round_end(tl):
    f = behavior(tl, M, 1000, window_s=12, move_threshold=200)
    assert f["utility_used"] == []  # nobody's grenades after 1200 count, A's flash at 1300 included
    a = behavior(tl, A, 1000, window_s=12, move_threshold=200)
    assert a["utility_used"] == [] and a["engagement_delay"] == 1.0


def test_objective_never_uses_the_plant_before_it_happens(tl):
    # before the plant (700) A's objective is the nearest site (A, at x=1000): moving +x is towards it.
    # Using the plant spot (x=-1500) from the future would call the same walk "away" (-1).
    assert behavior(tl, A, 400, window_s=12, move_threshold=100)["objective_direction"] == 1
    # after the plant the objective is the planted bomb: walking +x from 704 to 896 moves away from it
    assert behavior(tl, A, 704, window_s=12, move_threshold=100)["objective_direction"] == -1


def test_contribution_counts_removed_enemy_damage_only(match, tl):
    removed = removed_damage(match["damages"], match["rounds"])
    got = {sid: v for _, sid, v in removed.rows()}
    assert got == {B: 70, A: 60}  # B's 120 removes the 70 A had left after M's 30; M's team damage counts 0
    c = contribution(tl, removed, A, 1)
    assert c == {
        "damage_dealt": 60,
        "max_round_damage": 70,
        "survival_time": (856 - 64) / 64,
        "round_duration": (END - 64) / 64,
        "objective_action": 0,
    }
    assert contribution(tl, removed, M, 1)["objective_action"] == 1  # planted (and last T alive)


def test_ground_truth_shape_and_outcome(tl, match):
    removed = removed_damage(match["damages"], match["rounds"])
    state = {"player_side": "T", "round_phase": "playing", "player_health": 100}
    pair = {"player": {"steamid": A}, "tick": 200, "round": 1, "game_state": state, "unknown": ["site"]}
    gt = ground_truth(tl, removed, pair, load_params().grpo_data)
    assert set(gt) == {"game_state", "unknown", "pro_action", "round_won", "player_contribution"}
    assert gt["round_won"] is False and gt["unknown"] == ["site"]  # CT won
    assert gt["pro_action"]["description"].startswith("Push towards the enemy")
    json.dumps(gt)  # plain JSON all the way down


@pytest.mark.parametrize(
    "change", [{"round_phase": "round-over"}, {"player_health": 0}, {"round_phase": "warmup"}]
)
def test_a_frame_with_no_decision_left_has_no_pro_action(tl, match, change):
    removed = removed_damage(match["damages"], match["rounds"])
    state = {"player_side": "T", "round_phase": "playing", "player_health": 100, **change}
    pair = {"player": {"steamid": A}, "tick": 200, "round": 1, "game_state": state, "unknown": []}
    gt = ground_truth(tl, removed, pair, load_params().grpo_data)
    assert gt["pro_action"] is None and gt["round_won"] is False


def test_prompt_gives_away_nothing_the_perception_reward_scores():
    assert not any(ch.isdigit() for ch in INSTRUCTION.replace("Counter-Strike 2", "the game"))
    text = INSTRUCTION.lower()
    for weapon in names.WEAPONS:  # the grenade vocabulary is listed as allowed values, never a gun
        if weapon.is_gun:
            assert weapon.display.lower() not in text, weapon.display
    for word in ("hp ", "armor 1", "alive: ", "planted at", "$"):
        assert word not in text
