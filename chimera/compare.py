"""The ``compare`` stage: paired differences between evaluated models on the same test frames.

For each ``evaluate.compare`` pair (first, second) it takes the frames both models answered and writes
``first − second`` of every score with the (match, round) cluster interval of :mod:`chimera.intervals`,
so the difference varies with whole rounds, as the evidence does.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from chimera.config import EvaluateParams
from chimera.errors import ChimeraError
from chimera.intervals import paired_difference
from chimera.io import write_json

log = logging.getLogger(__name__)
SCORES = (
    "field_accuracy",
    "json_valid",
    "reward_total",
    "reward_percept",
    "reward_decision",
    "reward_outcome",
    "advice_valid",
    "oracle_win_prob",
)
"""The per-frame scores :func:`chimera.evaluate.score` writes (``None`` where one does not apply)."""


class CompareError(ChimeraError):
    """Two models that cannot be compared; the message names them and the predictions folder."""


def _records(path: Path) -> dict[str, dict]:
    if not path.exists():
        raise CompareError(f"{path}: no predictions (run evaluate for this model first)")
    return {r["key"]: r for r in (json.loads(line) for line in path.open())}


def differences(pairs: list[tuple[str, str]], predictions_dir: Path, seed: int) -> dict:
    """Paired differences ``first − second`` on the frames both models answered, cluster intervals."""
    out = {}
    for first, second in pairs:
        a = _records(predictions_dir / f"{first}.jsonl")
        b = _records(predictions_dir / f"{second}.jsonl")
        keys = sorted(a.keys() & b.keys())
        if not keys:
            raise CompareError(f"{predictions_dir}: {first} and {second} share no evaluated frame")
        clusters = [(a[k]["match"], a[k]["round"]) for k in keys]
        out[f"{first}-{second}"] = {
            k: paired_difference(
                [a[key]["model"][k] for key in keys], [b[key]["model"][k] for key in keys], clusters, seed
            )
            for k in SCORES
        }
    return out


def run(params: EvaluateParams, predictions_dir: Path, metrics_file: Path) -> dict:
    """Write the paired differences of ``evaluate.compare`` to ``metrics_file``."""
    diffs = differences(params.compare, predictions_dir, params.seed)
    write_json(metrics_file, diffs)
    for pair, d in diffs.items():
        fa = d["field_accuracy"]
        log.info(
            "%s: field accuracy %+.3f [%+.3f, %+.3f] over %d rounds of %d matches",
            pair,
            fa["mean"],
            fa["ci_low"],
            fa["ci_high"],
            fa["rounds"],
            fa["matches"],
        )
    return diffs
