"""Train/val/test by (match, round), never by frame: neighbouring frames never straddle two splits."""

from __future__ import annotations

from collections.abc import Iterable

from sklearn.utils import check_random_state

from chimera.config import SplitParams

SPLITS: tuple[str, ...] = ("train", "val", "test")


def split_counts(n: int, split: SplitParams) -> dict[str, int]:
    """Units per split: rounded fractions; with >= 3 units every split with a positive fraction gets one."""
    val = round(n * split.val)
    test = round(n * split.test)
    if n >= 3:
        val, test = max(val, 1 if split.val > 0 else 0), max(test, 1)
    while n - val - test < min(n, 1):  # train keeps at least one unit
        if val >= test and val > 0:
            val -= 1
        else:
            test -= 1
    return {"train": n - val - test, "val": val, "test": test}


def assign_splits(
    units: Iterable[tuple[str, int]], split: SplitParams, seed: int
) -> dict[tuple[str, int], str]:
    """(match, round) -> split: a seeded permutation of the sorted units cut by the fractions."""
    ordered = sorted(set(units))
    counts = split_counts(len(ordered), split)
    order = check_random_state(seed).permutation(len(ordered))
    names = [s for s in SPLITS for _ in range(counts[s])]
    return {ordered[i]: names[k] for k, i in enumerate(order)}
