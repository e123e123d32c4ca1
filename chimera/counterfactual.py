"""The ``counterfactual`` stage: what each legal action would have won, frame by frame (SPEC §13).

A real round happens once; a simulated one can be replayed. For a seeded, evenly spaced choice of the
test split's decision frames (``counterfactual.frames_per_round`` per round among the frames ``evaluate``
scores, so every oracle frame is an evaluated frame), the match is re-simulated from its params and seed,
the round restored at the frame's tick (:meth:`MatchSimulator.moments`), and for every action the
spectated player can legally take then, the round is played out ``rollouts`` times with that action forced
for ``force_s`` seconds (:func:`chimera.sim.match.rollout`). The k-th rollout of every action uses the same
seed (common random numbers), so actions are compared on the same futures; one more column plays the same
seeds unforced (the simulator policy's own play, its calibration check against the recorded outcomes).

``data/counterfactual/test.jsonl``, one row per frame: ``key`` (``match@tick``, as in the predictions),
match, round, tick, the spectated player's steamid and side, per action its win probability for the
player's side with a 95 % Wilson interval and the per-seed outcomes (``wins``, a 0/1 string, for paired
statistics downstream), the ``policy`` column, ``pro_action`` (the pro's observed behaviour through
:func:`chimera.phrases.sim_action`), ``policy_choice`` (the policy's highest-scored action) and
``best_action``.

``metrics/counterfactual.json``: frames, rounds, matches, rollouts and rollouts per second; the frames
skipped and why; per-frame effect sizes (best − worst action); ``mde``, the smallest mean uplift over
these frames that rollout noise alone lets a run detect (80 % power, two-sided 5 %); the mean win
probability of the pro's action, the policy, a random legal action (floor) and the best action
(ceiling, cross-fitted: :func:`chimera.oracle.ceiling`); and ``calibration``: the policy column's mean
win probability against the share of those rounds the side really won.

With ``ingest.source: demos`` there is nothing to replay: the stage writes an empty file and says so.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import binomtest
from tqdm import tqdm

from chimera.config import CounterfactualParams, IngestParams
from chimera.errors import ChimeraError
from chimera.io import atomic_path, write_json
from chimera.oracle import ceiling, floor, outcomes
from chimera.phrases import sim_action
from chimera.rounds import round_of, sample_key, select_frames
from chimera.runtime import process_pool

log = logging.getLogger(__name__)
POLICY = "policy"
LIVE = ("playing", "post-plant")  # phases with a decision to make (freeze time has none yet)
Z80, Z975 = 0.8416, 1.96


class CounterfactualError(ChimeraError):
    """The test split and the simulated matches do not agree."""


def frames(test: Sequence[dict], evaluated_per_round: int, per_round: int) -> list[dict]:
    """The oracle's frames: ``per_round`` evenly spaced live decision frames among those ``evaluate``
    scores (frames in freeze time or after the round's end have no action to compare)."""
    scored = select_frames(test, evaluated_per_round)
    live = [
        r
        for r in scored
        if r["ground_truth"]["pro_action"] is not None
        and r["ground_truth"]["game_state"]["round_phase"] in LIVE
    ]
    return select_frames(live, per_round)


def _win_figures(outcomes: Sequence[int]) -> dict:
    n, k = len(outcomes), int(sum(outcomes))
    ci = binomtest(k, n).proportion_ci(method="wilson")
    return {
        "win_prob": k / n,
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "n": n,
        "wins": "".join(map(str, outcomes)),
    }


def play_frame(task: dict) -> dict:
    """Every legal action of one frame (and the unforced policy), ``rollouts`` common seeds each.

    Runs in a worker process: ``task`` holds the pickled snapshot, so no match is re-simulated here.
    """
    from chimera.maps import get_map
    from chimera.sim.match import rollout
    from chimera.sim.recorder import NullRecorder
    from chimera.sim.round import RoundEngine

    snapshot, sim, steamid, side = task["snapshot"], task["sim"], task["steamid"], task["side"]
    graph = get_map(task["map"])
    engine = RoundEngine(graph, sim, snapshot, NullRecorder(), every=10**9)  # reads, never steps
    scores = engine.scores(snapshot.player(steamid))
    legal = engine.legal_actions(steamid)
    seeds = [f"{task['seed']}/{k}" for k in range(task["rollouts"])]
    columns = {}
    for action in (*legal, POLICY):
        force = None if action == POLICY else {steamid: action}
        columns[action] = [
            int(rollout(graph, sim, snapshot, force=force, force_s=task["force_s"], seed=s).winner == side)
            for s in seeds
        ]
    return {
        "legal": legal,
        "columns": columns,
        "policy_choice": max(legal, key=lambda a: scores[a]),
        "rollouts": len(seeds) * len(columns),
    }


def row_of(frame: dict, player: dict, side: str, played: dict) -> dict:
    actions = {a: _win_figures(played["columns"][a]) for a in played["legal"]}
    pro = sim_action(frame["ground_truth"]["pro_action"]["behavior"], played["legal"])
    return {
        "key": sample_key(frame),
        "match": frame["match"],
        "round": frame["round"],
        "tick": frame["tick"],
        "steamid": player["steamid"],
        "side": side,
        "round_won": frame["ground_truth"]["round_won"],
        "actions": actions,
        POLICY: _win_figures(played["columns"][POLICY]),
        "pro_action": pro,
        "policy_choice": played["policy_choice"],
        "best_action": max(actions, key=lambda a: (actions[a]["win_prob"], a == pro)),
    }


def _tasks(params: CounterfactualParams, ingest: IngestParams, chosen: list[dict], skipped: Counter):
    """Re-simulate each test match once and restore every chosen frame's moment (in the parent: a
    match replay is shared by all its frames), yielding ``(frame, player, side, task)``."""
    from chimera.sim.match import MatchSimulator
    from chimera.sim.recorder import NullRecorder
    from chimera.sim.round import RoundEngine

    sim = ingest.sim
    by_match: dict[str, list[dict]] = {}
    for f in chosen:
        by_match.setdefault(f["match"], []).append(f)
    simulators = [
        MatchSimulator(spec, sim, seed=f"{sim.seed}/{i}", snapshot_every=ingest.snapshot_every)
        for i, spec in enumerate(sim.matches)
    ]
    known = {s.match_id: s for s in simulators}
    for match, rows in by_match.items():
        if match not in known:
            raise CounterfactualError(
                f"test frame of match {match!r}, which ingest.sim.matches does not simulate "
                f"(it simulates {sorted(known)}): was data/grpo made with other params?"
            )
        simulator = known[match]
        simulator.run()
        for (_, num), group in _by_round(rows).items():
            ticks = [f["tick"] for f in group]
            for f, state in zip(group, simulator.moments(num, ticks), strict=True):
                player = f["player"]
                p = state.player(player["steamid"])
                if state.tick < state.freeze_end_tick:
                    skipped["freeze time"] += 1
                    continue
                if not p.alive or state.winner is not None:
                    skipped["no decision left in the restored state"] += 1
                    continue
                if p.health != f["ground_truth"]["game_state"]["player_health"]:
                    skipped["restored health differs from the frame's"] += 1
                    continue
                if not RoundEngine(simulator.graph, sim, state, NullRecorder(), every=10**9).legal_actions(
                    p.steamid
                ):
                    skipped["mid-plant or mid-defuse: no action to choose"] += 1
                    continue
                task = {
                    "snapshot": state,
                    "sim": sim,
                    "map": simulator.graph.name,
                    "steamid": p.steamid,
                    "side": p.side,
                    "seed": f"{params.seed}/{f['match']}@{f['tick']}",
                    "rollouts": params.rollouts,
                    "force_s": params.force_s,
                }
                yield f, player, p.side, task


def _by_round(rows: list[dict]) -> dict[tuple[str, int], list[dict]]:
    out: dict[tuple[str, int], list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["tick"]):
        out.setdefault(round_of(r), []).append(r)
    return out


def summarise(rows: list[dict], rollouts: int, seconds: float, skipped: Counter) -> dict:
    """``metrics/counterfactual.json`` from the rows (see the module docstring)."""
    effects = [max(a["win_prob"] for a in r["actions"].values()) - floor(r) for r in rows]
    spread = [
        max(a["win_prob"] for a in r["actions"].values()) - min(a["win_prob"] for a in r["actions"].values())
        for r in rows
    ]
    return {
        "frames": len(rows),
        "rounds": len({round_of(r) for r in rows}),
        "matches": len({r["match"] for r in rows}),
        "rollouts_per_action": rows[0][POLICY]["n"] if rows else 0,
        "rollouts": rollouts,
        "seconds": round(seconds, 1),
        "rollouts_per_second": round(rollouts / seconds, 1) if seconds else None,
        "skipped_frames": dict(sorted(skipped.items())),
        "legal_actions_per_frame": float(np.mean([len(r["actions"]) for r in rows])) if rows else None,
        "effect": {
            "best_minus_worst_median": _median(spread),
            "best_minus_floor_median": _median(effects),
            "share_pro_differs_significantly": _share_significant(rows),
        },
        "mde": mde(rows),
        "win_prob": {
            "pro": _mean([r["actions"][r["pro_action"]]["win_prob"] for r in rows if r["pro_action"]]),
            "policy": _mean([r[POLICY]["win_prob"] for r in rows]),
            "floor": _mean([floor(r) for r in rows]),
            "ceiling": _mean([ceiling(r) for r in rows]),
        },
        "pro_unmapped": sum(r["pro_action"] is None for r in rows),
        "calibration": {
            "policy_win_prob": _mean([r[POLICY]["win_prob"] for r in rows]),
            "recorded_win_share": _mean([float(r["round_won"]) for r in rows]),
        },
    }


def _share_significant(rows: list[dict]) -> float | None:
    """Share of (frame, alternative action) pairs whose paired difference to the pro's action excludes 0."""
    hits = []
    for r in rows:
        if r["pro_action"] is None:
            continue
        pro = outcomes(r["actions"][r["pro_action"]])
        for a, f in r["actions"].items():
            if a != r["pro_action"]:
                d = outcomes(f) - pro
                se = d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else 0.0
                hits.append(abs(d.mean()) > Z975 * se if se > 0 else d.mean() != 0)
    return float(np.mean(hits)) if hits else None


def mde(rows: list[dict]) -> float | None:
    """Smallest mean uplift over the pro (an advised action ≠ the pro's on every frame) that rollout noise
    alone lets this run detect: (z₀.₉₇₅ + z₀.₈) × the standard error of a mean of per-frame paired
    differences, each frame's variance that of a random alternative action against the pro's."""
    variances = []
    for r in rows:
        if r["pro_action"] is None or len(r["actions"]) < 2:
            continue
        pro = outcomes(r["actions"][r["pro_action"]])
        alternatives = [outcomes(f) - pro for a, f in r["actions"].items() if a != r["pro_action"]]
        variances.append(np.mean([d.var(ddof=1) / d.size for d in alternatives]))
    if not variances:
        return None
    return float((Z975 + Z80) * math.sqrt(sum(variances)) / len(variances))


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def run(
    params: CounterfactualParams,
    ingest: IngestParams,
    evaluated_per_round: int,
    test_file: Path,
    out_file: Path,
    metrics_file: Path,
) -> dict:
    """Play out every legal action of the chosen test frames; write the rows and the metrics."""
    if ingest.source != "sim":
        log.info(
            "counterfactual: ingest.source is %s: real rounds cannot be replayed, no oracle", ingest.source
        )
        with atomic_path(out_file) as tmp:
            tmp.write_text("")
        figures = {"source": ingest.source, "frames": 0, "note": "no oracle: real matches cannot be replayed"}
        write_json(metrics_file, figures)
        return figures
    try:
        test = [json.loads(line) for line in test_file.open()]
    except (OSError, ValueError) as err:
        raise CounterfactualError(f"{test_file}: not a readable split ({err})") from None
    chosen = frames(test, evaluated_per_round, params.frames_per_round)
    skipped: Counter = Counter()
    started, rows, rollouts = time.perf_counter(), [], 0
    with process_pool(params.workers) as pool:
        jobs = [
            (f, player, side, pool.submit(play_frame, task))
            for f, player, side, task in _tasks(params, ingest, chosen, skipped)
        ]
        for f, player, side, job in tqdm(jobs, desc="counterfactual", unit="frame", mininterval=5):
            played = job.result()
            rollouts += played["rollouts"]
            rows.append(row_of(f, player, side, played))
    seconds = time.perf_counter() - started
    with atomic_path(out_file) as tmp:
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    figures = {"source": ingest.source, **summarise(rows, rollouts, seconds, skipped)}
    write_json(metrics_file, figures)
    log.info(
        "counterfactual: %d frames of %d rounds, %d rollouts in %.0f s (%.0f/s); pro %.3f, policy %.3f, "
        "floor %.3f, ceiling %.3f; smallest detectable uplift %.3f",
        figures["frames"],
        figures["rounds"],
        rollouts,
        seconds,
        figures["rollouts_per_second"] or 0,
        *(figures["win_prob"][k] or 0 for k in ("pro", "policy", "floor", "ceiling")),
        figures["mde"] or 0,
    )
    return figures
