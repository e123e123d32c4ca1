"""Evaluation: scores and summaries on hand-built answers with hand-computed values, paired differences,
bootstrap intervals, and a real run of the tiny base model (Model A) that resumes a partial file."""

import json

import pytest

from chimera.compare import CompareError, differences
from chimera.config import load_params
from chimera.evaluate import SCORES, interval, run, score, summarise
from chimera.models.base import prepare
from chimera.schema import ModelOutput
from tests.grpofiles import CONTRIBUTION, write_grpo_dir

EXAMPLE = ModelOutput.example().model_dump()
# The example's advice, read with the phrase table: "smoke" (utility) and "fall back" (movement -1).
PRO = {
    "movement_direction": -1,
    "objective_direction": 0,
    "utility_used": ["smoke"],
    "initiated_engagement": 0,
    "engagement_delay": 1.0,
}
WEIGHTS = load_params().grpo.reward_weights.model_dump()
TRUTH = {
    "game_state": EXAMPLE["game_state"],
    "pro_action": {"behavior": PRO},
    "round_won": True,
    "player_contribution": CONTRIBUTION,  # phi = 0.4 * 50/200 + 0.3 * 30/60 + 0 = 0.25
}


def answer(**state_changes) -> str:
    return json.dumps({**EXAMPLE, "game_state": {**EXAMPLE["game_state"], **state_changes}})


def records():
    texts = [
        answer(),  # perfect
        answer(player_health=70, alive_enemies=4, player_money=3000),  # 87±8.7: miss; 5: miss; 3250±325: hit
        "I think the player should rotate.",  # no JSON at all
        answer(player_health=187),  # breaks the schema (health <= 100); the other 14 fields are right
    ]
    return [{"key": f"k{i}", "seconds": 0.5, **score(t, TRUTH, WEIGHTS)} for i, t in enumerate(texts)]


def test_scores_of_hand_built_answers():
    perfect, partial, prose, invalid = records()
    # decision: movement and utility agree, the other three are not addressed -> 2/5
    # outcome: won, phi 0.25 -> 0.25 * (0.5 + 0.5 * 0.4) = 0.175
    assert perfect["json_valid"] == 1 and perfect["field_accuracy"] == 1.0
    assert perfect["reward_decision"] == pytest.approx(0.4)
    assert perfect["reward_outcome"] == pytest.approx(0.175)
    assert perfect["reward_total"] == pytest.approx(0.2 * 1 + 0.3 * 0.4 + 0.5 * 0.175)
    assert partial["field_accuracy"] == pytest.approx(13 / 15)
    assert partial["fields"]["player_money"] == 1 and partial["fields"]["player_health"] == 0
    assert partial["reward_total"] == pytest.approx(0.2 * 13 / 15 + 0.3 * 0.4 + 0.5 * 0.175)
    assert prose["json_valid"] == 0 and prose["field_accuracy"] == 0 and prose["reward_total"] == 0
    assert prose["error"] == "no JSON object found" and prose["parsed"] is None
    # schema-invalid: no reward (the gate is closed), but what it read is still measured
    assert invalid["json_valid"] == 0 and invalid["reward_total"] == 0
    assert invalid["field_accuracy"] == pytest.approx(14 / 15)
    assert "player_health" in invalid["error"]


def test_summary_of_hand_built_answers():
    s = summarise(records(), seed=0)
    assert s["n"] == 4
    assert s["json_valid_rate"]["mean"] == pytest.approx(0.5)
    assert s["field_accuracy"]["mean"] == pytest.approx((15 + 13 + 0 + 14) / 60)
    per_field = s["field_accuracy"]["per_field"]
    assert per_field["player_health"] == pytest.approx(1 / 4)
    assert per_field["alive_enemies"] == pytest.approx(2 / 4)
    assert per_field["map_name"] == pytest.approx(3 / 4)
    assert s["reward_total"]["mean"] == pytest.approx((0.4075 + 0.2 * 13 / 15 + 0.2075) / 4)
    assert s["seconds_per_sample"] == 0.5
    for key in ("json_valid_rate", "field_accuracy", "reward_total", "reward_percept", "reward_decision"):
        assert s[key]["ci_low"] <= s[key]["mean"] <= s[key]["ci_high"], key


def test_a_field_null_in_the_truth_is_skipped():
    truth = {**TRUTH, "game_state": {**TRUTH["game_state"], "team_money_total": None, "site": None}}
    r = score(answer(team_money_total=1, site="nowhere"), truth, WEIGHTS)
    assert "team_money_total" not in r["fields"] and "site" not in r["fields"]
    assert r["field_accuracy"] == 1.0
    assert summarise([{**r, "seconds": 1.0}], 0)["field_accuracy"]["per_field"]["site"] is None


def test_intervals():
    flat = interval([0.3] * 10, seed=0)
    assert flat["ci_low"] == flat["mean"] == flat["ci_high"] == pytest.approx(0.3)
    values = [0.0] * 30 + [1.0] * 10
    a, b = interval(values, seed=1), interval(values, seed=1)
    assert a == b  # seeded
    half_width = 1.96 * (0.25 * 0.75 / 40) ** 0.5  # the normal approximation: 0.134
    assert a["mean"] == 0.25
    assert a["ci_low"] == pytest.approx(0.25 - half_width, abs=0.03)
    assert a["ci_high"] == pytest.approx(0.25 + half_width, abs=0.03)
    assert interval([], seed=0)["mean"] is None


def test_paired_differences_use_shared_samples(tmp_path):
    def write(name, accuracies):
        rows = [{"key": k, **{s: 0.0 for s in SCORES}, "field_accuracy": v} for k, v in accuracies.items()]
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    write("B", {"x": 1.0, "y": 0.5, "z": 1.0, "only-b": 1.0})
    write("A", {"x": 0.0, "y": 0.5, "z": 0.5, "only-a": 0.0})
    diff = differences([("B", "A")], tmp_path, seed=0)["B-A"]
    assert diff["n"] == 3
    assert diff["field_accuracy"]["mean"] == pytest.approx(0.5)  # (1 + 0 + 0.5) / 3
    assert 0 <= diff["field_accuracy"]["ci_low"] <= 0.5 <= diff["field_accuracy"]["ci_high"] <= 1
    assert diff["reward_total"] == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    with pytest.raises(CompareError, match="share no evaluated sample"):
        write("C", {"other": 1.0})
        differences([("C", "A")], tmp_path, seed=0)


def test_a_real_model_run_writes_every_key_and_resumes(tmp_path):
    params = load_params()
    prepare(params.model, tmp_path / "base")
    grpo = write_grpo_dir(tmp_path / "grpo", n_train=0, n_test=3)
    ev = params.evaluate.model_copy(update={"max_new_tokens": 12, "batch_size": 2})
    out = tmp_path / "pred" / "A.jsonl"
    args = (
        ev,
        params.grpo.reward_weights,
        "A",
        tmp_path / "base",
        grpo / "test.jsonl",
        out,
        tmp_path / "eval_A.json",
        tmp_path / "f.json",
    )
    figures = run(*args)
    assert figures["n"] == 3 and figures["model"] == "A"
    assert set(figures) == {
        "model", "n", "json_valid_rate", "field_accuracy", "reward_total", "reward_percept",
        "reward_decision", "reward_outcome", "seconds_per_sample",
    }  # fmt: skip
    assert json.loads((tmp_path / "eval_A.json").read_text()) == json.loads(json.dumps(figures))
    first = [json.loads(line) for line in out.open()]
    assert len(first) == 3 and all(r["json_valid"] == 0 and r["error"] for r in first)  # random weights
    # a partial file from a killed run is resumed, not regenerated
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(json.dumps({**first[0], "raw": "kept from the killed run", "seconds": 0.1}) + "\n")
    run(*args)
    again = [json.loads(line) for line in out.open()]
    assert again[0]["raw"] == "kept from the killed run"
    assert [r["raw"] for r in again[1:]] == [r["raw"] for r in first[1:]]  # greedy: the same text
    assert not partial.exists()
    # timings stay in the metrics: the same model and data give the same predictions file
    assert "seconds" not in first[0]
    before = out.read_bytes()
    out.write_text("")
    run(*args)
    assert out.read_bytes() != before  # the resumed first record is regenerated now
    assert [json.loads(line) for line in out.open()] == first
