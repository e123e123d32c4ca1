"""Baselines and cluster intervals (SPEC §10): what a model must beat, and how sure we can be."""

import json
import random

import numpy as np
import pytest

from chimera.baselines import Chance, constant_answer, swap_partners
from chimera.intervals import cluster_interval, excludes_zero, paired_difference
from chimera.schema import parse_output
from tests.grpofiles import row


def test_a_round_varies_as_a_unit():
    """10 rounds of 20 identical frames: the interval is that of 10 draws, not of 200."""
    rng = random.Random(0)
    clusters = [("m", r) for r in range(10) for _ in range(20)]
    values = [float(r < 3) for r in range(10) for _ in range(20)]  # 3 of 10 rounds right
    got = cluster_interval(values, clusters, seed=1)
    assert (got["mean"], got["n"], got["rounds"], got["matches"]) == (0.3, 200, 10, 1)
    by_rounds = 1.96 * (0.3 * 0.7 / 10) ** 0.5  # 0.28; resampling frames would give 0.06
    assert got["ci_high"] - got["ci_low"] == pytest.approx(2 * by_rounds, rel=0.3)
    assert cluster_interval(values, clusters, seed=1) == got  # seeded
    shuffled = [rng.random() < 0.3 for _ in values]  # the same rate, independent frames
    frames = cluster_interval([float(v) for v in shuffled], [("m", i) for i in range(200)], seed=1)
    assert frames["ci_high"] - frames["ci_low"] < 0.5 * (got["ci_high"] - got["ci_low"])


def test_not_scored_frames_are_left_out_and_degenerate_cases_are_exact():
    clusters = [("a", 1), ("a", 1), ("b", 2)]
    got = cluster_interval([1.0, None, 0.0], clusters, seed=0)
    assert (got["mean"], got["n"], got["rounds"], got["matches"]) == (0.5, 2, 2, 2)
    assert cluster_interval([None, None, None], clusters, seed=0)["mean"] is None
    flat = cluster_interval([0.4, 0.4, 0.4], clusters, seed=0)
    assert flat["ci_low"] == flat["mean"] == flat["ci_high"] == pytest.approx(0.4)
    one = cluster_interval([0.0, 1.0], [("a", 1), ("a", 1)], seed=0)
    assert one["ci_low"] == one["ci_high"] == 0.5  # one round: nothing to resample


def test_paired_differences_pair_frames_and_resolve_only_clear_gaps():
    clusters = [("m", r) for r in range(12) for _ in range(5)]
    better = [1.0] * 60
    worse = [0.0 if r % 3 else 1.0 for r in range(12) for _ in range(5)]
    diff = paired_difference(better, worse, clusters, seed=0)
    assert diff["mean"] == pytest.approx(8 / 12) and excludes_zero(diff)
    other = [1.0 if r % 3 == 1 else 0.0 for r in range(12) for _ in range(5)]  # as often right, elsewhere
    noise = paired_difference(worse, other, clusters, seed=0)
    assert noise["mean"] == 0.0 and not excludes_zero(noise)
    assert paired_difference([1.0, None], [0.0, 0.0], clusters[:2], seed=0)["n"] == 1


def test_the_constant_answer_is_the_train_split_modes_and_a_valid_object():
    rng = random.Random(2)
    rows = [row(i, f"{i}.jpg", rng) for i in range(30)]
    for r in rows[:20]:
        r["ground_truth"]["game_state"]["weapon_primary"] = None  # an empty slot is a value too
    rows[0]["ground_truth"]["pro_action"] = None
    parsed = parse_output(constant_answer(rows, 24))
    assert parsed.ok
    state = parsed.output.game_state.model_dump()
    sides = [r["ground_truth"]["game_state"]["player_side"] for r in rows]
    assert state["player_side"] == max(set(sides), key=sides.count)
    assert state["weapon_primary"] is None
    with pytest.raises(ValueError, match="non-empty train split"):
        constant_answer([], 24)


def test_chance_is_the_expected_match_of_a_random_train_value():
    rows = [row(i, f"{i}.jpg", random.Random(i)) for i in range(4)]
    for r, side, money in zip(rows, ("T", "T", "T", "CT"), (1000, 1050, 4000, 5000), strict=True):
        r["ground_truth"]["game_state"].update(player_side=side, player_money=money)
    odds = Chance(rows)
    assert odds.expected("player_side", "T") == 0.75
    assert odds.expected("player_money", 1000) == 0.5  # 1000 and 1050 are within 10 %
    assert odds.expected("player_money", 3000) == 0.0


def test_swapped_images_come_from_other_rounds_and_are_seeded():
    clusters = [(m, r) for m in ("a", "b") for r in range(6) for _ in range(4 + r % 3)]
    partners = swap_partners(clusters, seed=3)
    assert sorted(partners) == list(range(len(clusters)))  # every image shown exactly once
    assert all(clusters[p] != clusters[i] for i, p in enumerate(partners))
    assert swap_partners(clusters, seed=3) == partners and swap_partners(clusters, seed=4) != partners
    assert json.dumps(swap_partners([("a", 1)], 0)) == "[0]"
    assert np.all(np.array(swap_partners(clusters[:2], 0)) == [1, 0])
