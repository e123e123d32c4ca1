"""The figures on record: ``metrics/*.json`` (git-tracked, written by the last ``make repro``) must show
the experiment's design holding on the real outputs, not only on test fixtures (SPEC §3, §9, §10)."""

import json
from pathlib import Path

import pytest

from chimera.config import load_params

ROOT = Path(__file__).resolve().parents[1]
PARAMS = load_params(ROOT / "params.yaml")


def record(name: str) -> dict:
    path = ROOT / "metrics" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run make repro and commit metrics/")
    return json.loads(path.read_text())


def test_the_test_split_is_whole_held_out_matches_whose_maps_are_trained_on():
    pairs = record("pairs.json")
    match_of = {s: {r.split("#")[0] for r in rounds} for s, rounds in pairs["rounds"].items()}
    assert match_of["test"] == set(PARAMS.pairs.split.test_matches)
    assert not match_of["test"] & (match_of["train"] | match_of["val"])
    map_of = {m: m.split("-")[0] for ms in match_of.values() for m in ms}
    assert {map_of[m] for m in match_of["test"]} <= {map_of[m] for m in match_of["train"]}
    assert len(pairs["rounds"]["test"]) == pairs["test_rounds"] >= 20


def test_the_sft_targets_do_not_carry_the_pros_play():
    summary = record("sft/summary.json")
    agreement = summary["advice_agreement_with_pro"]
    assert summary["advice"] == PARAMS.sft.advice == "situational"
    assert (
        agreement["frames"] > 0 and agreement["exact"] < 0.5
    )  # the imitation arm's is 1.0 (test_advice_rule)


def test_every_model_is_reported_beside_its_baselines_with_round_counts():
    for name in ("A", "B"):
        figures = record(f"eval_{name}.json")
        assert figures["rounds"] >= 20 and figures["matches"] == len(PARAMS.pairs.split.test_matches)
        for arm in ("swapped", "constant"):
            assert figures["baselines"][arm]["field_accuracy"]["rounds"] == figures["rounds"]
        assert all(
            v["n"] > 0 for v in figures["field_accuracy"]["per_field"].values() if v["model"] is not None
        )
