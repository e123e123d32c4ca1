"""The (match, round) is the unit of evidence: frames a second apart share their round's outcome,
players and economy. Helpers that group and thin frames by round, for evaluation and validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def sample_key(row: Mapping) -> str:
    """A frame's key (``match@tick``) in the predictions, the oracle's rows and the review page."""
    return f"{row['match']}@{row['tick']}"


def round_of(row: Mapping) -> tuple[str, int]:
    """The (match, round) cluster of a ``pairs``/``grpo_data`` row or a prediction record."""
    return (row["match"], row["round"])


def select_frames(rows: Sequence[dict], per_round: int) -> list[dict]:
    """``per_round`` evenly spaced frames of every (match, round), in split order."""
    by_round: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        by_round.setdefault(round_of(r), []).append(r)
    out = []
    for frames in by_round.values():
        picks = sorted({round(x) for x in np.linspace(0, len(frames) - 1, min(per_round, len(frames)))})
        out += [frames[i] for i in picks]
    return out
