"""Advice scored by the counterfactual oracle: P(round win | the advised action) (SPEC §13).

A row of ``data/counterfactual/test.jsonl`` (:mod:`chimera.counterfactual`) holds, for one test frame,
each legal action's rollout outcomes on common seeds. Advice becomes an action through the one map of
:func:`chimera.phrases.sim_action`; advice that names no action (vague, or no advice at all) is worth the
*floor*, what a legal action drawn at random wins, so saying nothing is never better than chance. The
*ceiling* is the best action's win probability, cross-fitted (chosen on half the seeds, scored on the
other half) so that the maximum of noisy estimates is not flattered by its own noise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from chimera.intervals import cluster_interval, paired_difference
from chimera.phrases import sim_action


def read(path: Path) -> dict[str, dict]:
    """Oracle rows by frame key; empty when the file is empty (real demos: no oracle)."""
    return {r["key"]: r for r in (json.loads(line) for line in path.open() if line.strip())}


def outcomes(figures: Mapping) -> np.ndarray:
    """The 0/1 round outcomes of one action's rollouts, in seed order."""
    return np.array([int(c) for c in figures["wins"]])


def floor(row: Mapping) -> float:
    """P(win) of a legal action drawn uniformly at random."""
    return float(np.mean([a["win_prob"] for a in row["actions"].values()]))


def ceiling(row: Mapping) -> float:
    """The best action's P(win) without the winner's curse: the action that wins most on the even seeds
    is scored on the odd ones and vice versa, and the two scores averaged."""
    wins = {a: outcomes(f) for a, f in row["actions"].items()}
    halves = []
    for pick, judge in ((slice(0, None, 2), slice(1, None, 2)), (slice(1, None, 2), slice(0, None, 2))):
        best = max(sorted(wins), key=lambda a: wins[a][pick].mean())
        halves.append(float(wins[best][judge].mean()))
    return float(np.mean(halves))


def win_prob(row: Mapping, action: str | None) -> float:
    """P(win) of ``action`` on this frame; the floor for no action."""
    return row["actions"][action]["win_prob"] if action is not None else floor(row)


def frame(advice: Mapping | None, row: Mapping | None) -> dict | None:
    """The oracle's figures for one answer's advice features (``None`` when the frame has no oracle row)."""
    if row is None:
        return None
    advised = sim_action(advice or {}, tuple(row["actions"]))
    return {
        "advised_action": advised,
        "advised_win_prob": win_prob(row, advised),
        "pro_action": row["pro_action"],
        "pro_win_prob": win_prob(row, row["pro_action"]),
        "best_action": row["best_action"],
        "best_win_prob": ceiling(row),
        "floor_win_prob": floor(row),
        "policy_win_prob": row["policy"]["win_prob"],
    }


def summary(
    frames: Sequence[dict | None],
    baselines: Mapping[str, Sequence[dict | None]],
    clusters: Sequence[tuple[str, int]],
    seed: int,
) -> dict:
    """The ``metrics/eval_<M>.json`` oracle keys from per-frame :func:`frame` figures of the model's answers
    (and of the baselines' answers, aligned with them), every interval over (match, round) clusters."""
    if not any(frames):
        return {
            "oracle_win_prob": None,
            "oracle_uplift_vs_pro": None,
            "beyond_expert_rate": None,
            "oracle_baselines": None,
        }

    def column(figures: Sequence[dict | None], key: str) -> list[float | None]:
        return [f[key] if f else None for f in figures]

    advised, pro = column(frames, "advised_win_prob"), column(frames, "pro_win_prob")
    beyond = [
        None
        if f is None or f["advised_action"] == f["pro_action"]
        else float(f["advised_win_prob"] > f["pro_win_prob"])
        for f in frames
    ]
    return {
        "oracle_win_prob": cluster_interval(advised, clusters, seed),
        "oracle_uplift_vs_pro": paired_difference(advised, pro, clusters, seed),
        "beyond_expert_rate": cluster_interval(beyond, clusters, seed),
        "oracle_baselines": {
            "pro": cluster_interval(pro, clusters, seed),
            "ceiling": cluster_interval(column(frames, "best_win_prob"), clusters, seed),
            "floor": cluster_interval(column(frames, "floor_win_prob"), clusters, seed),
            "policy": cluster_interval(column(frames, "policy_win_prob"), clusters, seed),
            **{
                name: cluster_interval(column(answers, "advised_win_prob"), clusters, seed)
                for name, answers in baselines.items()
            },
        },
    }
