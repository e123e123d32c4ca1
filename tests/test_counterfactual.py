"""The counterfactual stage on a short simulated match: the rows it writes, their seeds, its refusals."""

import json

import pytest

from chimera.config import load_params
from chimera.counterfactual import CounterfactualError, run
from chimera.sim.match import MatchSimulator, rollout
from chimera.tables import TICK_RATE

PARAMS = load_params()
INGEST = PARAMS.ingest.model_copy(
    update={
        "sim": PARAMS.ingest.sim.model_copy(
            update={"matches": PARAMS.ingest.sim.matches[:1], "max_rounds": 4}
        )
    }
)
CF = PARAMS.counterfactual.model_copy(update={"rollouts": 6, "workers": 1, "frames_per_round": 2})
HOLD = {"movement_direction": 0, "objective_direction": 0, "utility_used": [], "initiated_engagement": 0,
        "engagement_delay": 1.0}  # fmt: skip


@pytest.fixture(scope="module")
def match():
    sim = INGEST.sim
    simulator = MatchSimulator(
        sim.matches[0], sim, seed=f"{sim.seed}/0", snapshot_every=INGEST.snapshot_every
    )
    simulator.run()
    return simulator


def split(match, seconds=(8, 25)):
    """Test rows as grpo_data writes them, for an alive player at a few moments of every round."""
    rows = []
    for num, start in sorted(match.round_starts.items()):
        for s in seconds:
            tick = start.freeze_end_tick + s * TICK_RATE
            snap = match.snapshot(num, tick)
            if snap.winner:
                continue
            p = next(p for p in snap.players if p.alive)
            rows.append(
                {
                    "match": match.match_id,
                    "round": num,
                    "tick": tick,
                    "player": {"steamid": p.steamid, "name": p.name},
                    "ground_truth": {
                        "game_state": {"round_phase": "playing", "player_health": p.health},
                        "pro_action": {"behavior": HOLD},
                        "round_won": match.results[num - 1].winner == p.side,
                    },
                }
            )
    return rows


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_every_legal_action_is_played_on_common_seeds(tmp_path, match):
    rows = split(match)
    test = write(tmp_path / "test.jsonl", rows)
    out, metrics = tmp_path / "cf" / "test.jsonl", tmp_path / "cf.json"
    figures = run(CF, INGEST, PARAMS.evaluate.frames_per_round, test, out, metrics)
    written = [json.loads(line) for line in out.open()]
    assert figures["frames"] == len(written) == len(rows) and figures["rounds"] == len(match.round_starts)
    for r in written:
        assert {"hold", "advance", "save"} <= set(r["actions"]) and "defuse" not in r["actions"]
        for a in (*r["actions"].values(), r["policy"]):
            assert len(a["wins"]) == a["n"] == CF.rollouts
            assert a["ci_low"] <= a["win_prob"] <= a["ci_high"]
        assert r["pro_action"] == "hold" and r["policy_choice"] in r["actions"]
        assert r["actions"][r["best_action"]]["win_prob"] == max(a["win_prob"] for a in r["actions"].values())
    assert figures["rollouts"] == sum(CF.rollouts * (len(r["actions"]) + 1) for r in written)
    assert 0 <= figures["win_prob"]["floor"] <= 1 and figures["mde"] > 0
    # the unforced column is the plain engine played on the same seeds; a forced column is one rollout each
    r = written[0]
    snap = match.snapshot(r["round"], r["tick"])
    seeds = [f"{CF.seed}/{r['match']}@{r['tick']}/{k}" for k in range(CF.rollouts)]
    side = snap.player(r["steamid"]).side

    def wins(**force) -> str:
        ends = [rollout(match.graph, match.params, snap, force_s=CF.force_s, seed=s, **force) for s in seeds]
        return "".join(str(int(e.winner == side)) for e in ends)

    assert r["policy"]["wins"] == wins()
    assert r["actions"]["save"]["wins"] == wins(force={r["steamid"]: "save"})
    # the same params give the same rows
    run(CF, INGEST, PARAMS.evaluate.frames_per_round, test, tmp_path / "again.jsonl", tmp_path / "m2.json")
    assert (tmp_path / "again.jsonl").read_bytes() == out.read_bytes()


def test_frames_without_a_decision_or_out_of_step_are_skipped_and_counted(tmp_path, match):
    rows = split(match, seconds=(10,))
    freeze = {**rows[0], "tick": rows[0]["tick"] - 20 * TICK_RATE}  # still in freeze time
    state = {"round_phase": "playing", "player_health": 7}  # not what the restored player has
    wrong = {**rows[1], "ground_truth": {**rows[1]["ground_truth"], "game_state": state}}
    test = write(tmp_path / "test.jsonl", [freeze, wrong, rows[2]])
    figures = run(
        CF, INGEST, PARAMS.evaluate.frames_per_round, test, tmp_path / "o.jsonl", tmp_path / "m.json"
    )
    assert figures["frames"] == 1
    assert figures["skipped_frames"] == {"freeze time": 1, "restored health differs from the frame's": 1}


def test_a_frame_of_a_match_the_params_do_not_simulate_is_refused(tmp_path, match):
    row = {**split(match, seconds=(10,))[0], "match": "de_dust2-a-vs-b"}
    test = write(tmp_path / "test.jsonl", [row])
    with pytest.raises(CounterfactualError, match="de_dust2-a-vs-b"):
        run(CF, INGEST, PARAMS.evaluate.frames_per_round, test, tmp_path / "o.jsonl", tmp_path / "m.json")


def test_real_demos_have_no_oracle_and_say_so(tmp_path):
    demos = INGEST.model_copy(update={"source": "demos"})
    out = tmp_path / "o.jsonl"
    figures = run(CF, demos, 8, tmp_path / "missing.jsonl", out, tmp_path / "m.json")
    assert out.read_text() == "" and figures["frames"] == 0 and "cannot be replayed" in figures["note"]
