"""Evaluation: scores and summaries on hand-built answers with hand-computed values, paired differences,
and a real run of the tiny base model (Model A) with its baselines that resumes a partial file."""

import json

import pytest

from chimera import oracle
from chimera.compare import SCORES, CompareError, differences
from chimera.config import load_params
from chimera.evaluate import EvaluateError, run, score, summarise, with_oracle
from chimera.models.base import prepare
from chimera.rounds import sample_key, select_frames
from chimera.schema import GAME_STATE_FIELDS, ModelOutput
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


def frame_records(texts, swapped_texts, rounds):
    """Prediction records as evaluate.predict writes them, for hand-built answers."""
    return [
        {
            "key": f"k{i}",
            "match": "m",
            "round": r,
            "pro": PRO,
            "seconds": 0.5,
            "model": score(t, TRUTH, WEIGHTS),
            "swapped": score(w, TRUTH, WEIGHTS),
            "oracle": None,
        }
        for i, (t, w, r) in enumerate(zip(texts, swapped_texts, rounds, strict=True))
    ]


def oracle_row(key: str, wins: dict[str, str], pro: str) -> dict:
    """A counterfactual row as chimera.counterfactual writes it, from per-seed outcomes per action."""
    actions = {a: {"win_prob": w.count("1") / len(w), "wins": w, "n": len(w)} for a, w in wins.items()}
    best = max(actions, key=lambda a: actions[a]["win_prob"])
    return {
        "key": key,
        "actions": actions,
        "pro_action": pro,
        "best_action": best,
        "policy": {"win_prob": 0.5},
    }


def test_summary_of_hand_built_answers():
    texts = [
        answer(),
        answer(player_health=70, alive_enemies=4, player_money=3000),
        "prose",
        answer(player_health=187),
    ]
    swapped = [answer(player_health=20)] * 4  # the swapped control reads a wrong health everywhere
    recs = frame_records(texts, swapped, rounds=[1, 1, 2, 2])
    constant = [score(answer(player_money=100), TRUTH, WEIGHTS)] * 4
    chance = [dict.fromkeys(GAME_STATE_FIELDS, 0.25)] * 4
    s = summarise(recs, constant, chance, {}, seed=0)
    assert (s["n"], s["rounds"], s["matches"], s["decision_frames"]) == (4, 2, 1, 4)
    assert s["oracle_win_prob"] is None and s["oracle_baselines"] is None  # no oracle rows: no figures
    assert s["json_valid_rate"]["mean"] == pytest.approx(0.5)
    assert s["field_accuracy"]["mean"] == pytest.approx((15 + 13 + 0 + 14) / 60)
    assert s["field_accuracy"]["rounds"] == 2 and s["field_accuracy"]["n"] == 4
    per_field = s["field_accuracy"]["per_field"]
    health = per_field["player_health"]
    assert health["n"] == 4 and health["model"] == pytest.approx(1 / 4)
    assert health["swapped"] == 0.0 and health["constant"] == 1.0 and health["chance"] == 0.25
    assert health["vs_swapped"]["mean"] == pytest.approx(1 / 4)
    assert per_field["player_money"]["vs_constant"]["mean"] == pytest.approx(3 / 4)  # 3 of 4 right, const 0
    assert s["reward_total"]["mean"] == pytest.approx((0.4075 + 0.2 * 13 / 15 + 0.2075) / 4)
    assert s["baselines"]["chance"]["field_accuracy"]["mean"] == 0.25
    assert s["vs_swapped"]["field_accuracy"]["mean"] == pytest.approx((15 + 13 + 0 + 14) / 60 - 14 / 15)
    assert s["seconds_per_sample"] == 0.5
    assert s["reads_the_frame"] == []  # four frames of two rounds resolve nothing
    for key in ("json_valid_rate", "field_accuracy", "reward_total", "reward_percept", "reward_decision"):
        assert s[key]["ci_low"] <= s[key]["mean"] <= s[key]["ci_high"], key
    # advice: the two valid answers say "fall back" and "smoke", as the pro did; the other two say
    # nothing; no answer addresses the first duel
    balanced = s["advice"]["balanced_accuracy"]
    assert balanced["movement_direction"] == 0.5 and balanced["initiated_engagement"] == 0.0


def test_oracle_figures_of_hand_built_answers():
    # the example's advice ("smoke", "fall back") is the utility action; prose and a schema-invalid
    # answer advise nothing and are worth a random legal action (the floor)
    texts = [answer(), answer(player_health=70), "prose", answer(player_health=187)]
    wins = {"hold": "0011", "utility": "1111", "advance": "0000"}  # P(win) 0.5, 1.0, 0.0; floor 0.5
    rows = {f"k{i}": oracle_row(f"k{i}", wins, pro="hold") for i in range(4)}
    recs = [with_oracle(r, rows[r["key"]]) for r in frame_records(texts, ["prose"] * 4, rounds=[1, 1, 2, 2])]
    assert [r["oracle"]["advised_action"] for r in recs] == ["utility", "utility", None, None]
    assert [r["model"]["oracle_win_prob"] for r in recs] == [1.0, 1.0, 0.5, 0.5]
    constant = [score(answer(player_money=100), TRUTH, WEIGHTS)] * 4
    s = summarise(recs, constant, [{}] * 4, rows, seed=0)
    assert s["oracle_win_prob"]["mean"] == pytest.approx(0.75)
    assert s["oracle_uplift_vs_pro"]["mean"] == pytest.approx(0.25)  # the pro held: 0.5 on every frame
    assert s["beyond_expert_rate"]["mean"] == pytest.approx(0.5) and s["beyond_expert_rate"]["n"] == 4
    base = s["oracle_baselines"]
    assert base["pro"]["mean"] == 0.5 and base["floor"]["mean"] == 0.5 and base["ceiling"]["mean"] == 1.0
    assert base["swapped"]["mean"] == 0.5 and base["constant"]["mean"] == 1.0
    # the ceiling is cross-fitted: an action that wins only on the seeds it was chosen on is not flattered
    lucky = oracle_row("k", {"hold": "1010", "advance": "0101"}, pro="hold")
    assert oracle.ceiling(lucky) == 0.0 and oracle.floor(lucky) == 0.5


def test_null_is_a_value_and_only_unknown_fields_are_skipped():
    truth = {
        **TRUTH,
        "game_state": {**TRUTH["game_state"], "weapon_primary": None, "site": None},
        "unknown": ["site", "team_money_total"],
    }
    r = score(answer(team_money_total=1, site="nowhere"), truth, WEIGHTS)
    assert "team_money_total" not in r["fields"] and "site" not in r["fields"]
    assert r["fields"]["weapon_primary"] == 0.0  # "M4A1-S" for an empty slot is wrong
    assert score(answer(weapon_primary=None), truth, WEIGHTS)["fields"]["weapon_primary"] == 1.0


def test_a_field_left_out_is_wrong_even_where_the_truth_is_null():
    truth = {**TRUTH, "game_state": {**TRUTH["game_state"], "weapon_primary": None}, "unknown": []}
    assert score("no JSON at all", truth, WEIGHTS)["field_accuracy"] == 0.0
    partial = json.dumps({"game_state": {"player_health": 87}})
    assert score(partial, truth, WEIGHTS)["fields"]["weapon_primary"] == 0.0


def test_a_frame_with_no_decision_left_has_no_decision_score():
    r = score(answer(), {**TRUTH, "pro_action": None}, WEIGHTS)
    assert r["reward_decision"] is None and r["reward_total"] is None and r["advice"] is None
    assert r["field_accuracy"] == 1.0 and r["advice_valid"] == 1.0


def test_advice_that_contradicts_the_visible_state_is_counted():
    plant = json.dumps({**EXAMPLE, "advice": {**EXAMPLE["advice"], "primary_action": "Plant on A"}})
    assert score(plant, TRUTH, WEIGHTS)["advice_valid"] == 0.0  # the example player is a CT
    assert score(answer(), TRUTH, WEIGHTS)["advice_valid"] == 1.0


def test_frames_are_evenly_spaced_within_each_round():
    rows = [{"match": "m", "round": r, "tick": t} for r, n in ((1, 10), (2, 3)) for t in range(n)]
    picked = select_frames(rows, 4)
    assert [(r["round"], r["tick"]) for r in picked] == [
        (1, 0),
        (1, 3),
        (1, 6),
        (1, 9),
        (2, 0),
        (2, 1),
        (2, 2),
    ]


def test_paired_differences_use_shared_frames_and_round_clusters(tmp_path):
    def write(name, accuracies):
        rows = [
            {"key": k, "match": "m", "round": i, "model": {**dict.fromkeys(SCORES, 0.0), "field_accuracy": v}}
            for i, (k, v) in enumerate(accuracies.items())
        ]
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    write("B", {"x": 1.0, "y": 0.5, "z": 1.0, "only-b": 1.0})
    write("A", {"x": 0.0, "y": 0.5, "z": 0.5, "only-a": 0.0})
    diff = differences([("B", "A")], tmp_path, seed=0)["B-A"]
    assert diff["field_accuracy"]["n"] == 3 and diff["field_accuracy"]["rounds"] == 3
    assert diff["field_accuracy"]["mean"] == pytest.approx(0.5)  # (1 + 0 + 0.5) / 3
    assert 0 <= diff["field_accuracy"]["ci_low"] <= 0.5 <= diff["field_accuracy"]["ci_high"] <= 1
    assert diff["reward_total"]["ci_low"] == diff["reward_total"]["ci_high"] == 0.0
    with pytest.raises(CompareError, match="share no evaluated frame"):
        write("C", {"other": 1.0})
        differences([("C", "A")], tmp_path, seed=0)
    with pytest.raises(CompareError, match="no predictions"):
        differences([("D", "A")], tmp_path, seed=0)


def test_a_real_model_run_writes_every_key_and_resumes(tmp_path):
    params = load_params()
    prepare(params.model, tmp_path / "base")
    grpo = write_grpo_dir(tmp_path / "grpo", n_train=4, n_test=3)
    ev = params.evaluate.model_copy(update={"max_new_tokens": 12, "batch_size": 2, "workers": 1})
    out = tmp_path / "pred" / "A.jsonl"
    first_frame = json.loads((grpo / "test.jsonl").open().readline())
    oracle_file = tmp_path / "counterfactual.jsonl"
    oracle_file.write_text(
        json.dumps(oracle_row(sample_key(first_frame), {"hold": "00", "save": "11"}, "hold"))
    )
    args = (
        ev,
        params.grpo.reward_weights,
        params.ingest.sim.max_rounds,
        "A",
        tmp_path / "base",
        grpo / "test.jsonl",
        grpo / "train.jsonl",
        oracle_file,
        out,
        tmp_path / "eval_A.json",
        tmp_path / "f.json",
    )
    figures = run(*args)
    assert figures["n"] == 3 and figures["model"] == "A" and figures["rounds"] == 1
    assert set(figures) == {
        "model", "n", "rounds", "matches", "decision_frames", "json_valid_rate", "field_accuracy",
        "reward_total", "reward_percept", "reward_decision", "reward_outcome", "advice", "baselines",
        "vs_swapped", "vs_constant", "reads_the_frame", "seconds_per_sample",
        "oracle_win_prob", "oracle_uplift_vs_pro", "beyond_expert_rate", "oracle_baselines",
    }  # fmt: skip
    assert figures["oracle_win_prob"]["n"] == 1  # one frame has an oracle row; the others have none
    assert figures["oracle_baselines"]["ceiling"]["mean"] == 1.0
    assert set(figures["baselines"]) == {"swapped", "constant", "chance"}
    assert figures["baselines"]["constant"]["json_valid_rate"]["mean"] == 1.0
    assert json.loads((tmp_path / "eval_A.json").read_text()) == json.loads(json.dumps(figures))
    first = [json.loads(line) for line in out.open()]
    assert len(first) == 3 and {r["swapped_image"] for r in first} <= {r["image"] for r in first}
    assert all(r["swapped_image"] != r["image"] for r in first)
    # a partial file from a killed run is resumed, not regenerated
    partial = out.with_name(f".{out.name}.partial")
    kept = {**first[0], "model": {**first[0]["model"], "raw": "kept from the killed run"}, "seconds": 0.1}
    partial.write_text(json.dumps(kept) + "\n")
    run(*args)
    again = [json.loads(line) for line in out.open()]
    assert again[0]["model"]["raw"] == "kept from the killed run"
    assert [r["model"]["raw"] for r in again[1:]] == [r["model"]["raw"] for r in first[1:]]  # greedy
    assert not partial.exists()
    # timings stay in the metrics: the same model and data give the same predictions file
    assert "seconds" not in first[0]
    before = out.read_bytes()
    out.write_text("")
    run(*args)
    assert out.read_bytes() != before  # the resumed first record is regenerated now
    assert [json.loads(line) for line in out.open()] == first
    # two processes answering batches side by side write the same file
    run(ev.model_copy(update={"workers": 2}), *args[1:])
    assert [json.loads(line) for line in out.open()] == first


def test_an_empty_train_split_is_refused_by_name(tmp_path):
    params = load_params()
    grpo = write_grpo_dir(tmp_path / "grpo", n_train=0, n_test=2)
    with pytest.raises(EvaluateError, match=r"train\.jsonl: the train split is empty"):
        run(
            params.evaluate,
            params.grpo.reward_weights,
            24,
            "A",
            tmp_path / "no-model",
            grpo / "test.jsonl",
            grpo / "train.jsonl",
            *(tmp_path / n for n in ("o.jsonl", "p.jsonl", "e.json", "f.json")),
        )
