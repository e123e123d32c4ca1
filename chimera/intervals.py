"""Confidence intervals that resample whole (match, round) clusters, never single frames (SPEC §10).

Test frames are one second apart and share their round's outcome, players and economy: resampling frames
treats 60 near-copies as 60 independent draws and gives intervals far too narrow. Here a bootstrap
replicate draws the test split's clusters with replacement and takes the frame-weighted mean over the
frames of the drawn clusters (the ratio estimator), so a round counts by its frames but varies as a unit.
A paired difference is the same interval over per-frame differences on the frames both sides scored.

Every interval reports the frames, rounds and matches it rests on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESAMPLES = 4000


def cluster_interval(values: Sequence[float | None], clusters: Sequence[tuple[str, int]], seed: int) -> dict:
    """Mean of ``values`` (``None`` = not scored on that frame) with a cluster-bootstrap 95 % interval."""
    pairs = [(v, c) for v, c in zip(values, clusters, strict=True) if v is not None]
    out = {
        "mean": None,
        "ci_low": None,
        "ci_high": None,
        "n": len(pairs),
        "rounds": len({c for _, c in pairs}),
        "matches": len({c[0] for _, c in pairs}),
    }
    if not pairs:
        return out
    x = np.array([float(v) for v, _ in pairs])
    ids = {c: i for i, c in enumerate(sorted({c for _, c in pairs}))}
    k = np.array([ids[c] for _, c in pairs])
    sums, sizes = np.bincount(k, weights=x), np.bincount(k).astype(float)
    mean = float(x.sum() / x.size)
    out["mean"] = mean
    if len(ids) == 1 or np.all(x == x[0]):
        out["ci_low"] = out["ci_high"] = mean
        return out
    draws = np.random.default_rng(seed).integers(0, len(ids), size=(RESAMPLES, len(ids)))
    weights = np.zeros((RESAMPLES, len(ids)))
    np.add.at(weights, (np.arange(RESAMPLES)[:, None], draws), 1.0)
    means = (weights @ sums) / (weights @ sizes)
    out["ci_low"], out["ci_high"] = (float(q) for q in np.percentile(means, [2.5, 97.5]))
    return out


def paired_difference(
    first: Sequence[float | None],
    second: Sequence[float | None],
    clusters: Sequence[tuple[str, int]],
    seed: int,
) -> dict:
    """``first − second`` frame by frame (frames where either is ``None`` left out), cluster interval."""
    diffs = [None if a is None or b is None else a - b for a, b in zip(first, second, strict=True)]
    return cluster_interval(diffs, clusters, seed)


def excludes_zero(interval: dict) -> bool:
    """Whether the interval lies wholly on one side of 0 (a resolved difference)."""
    low, high = interval["ci_low"], interval["ci_high"]
    return low is not None and (low > 0 or high < 0)
