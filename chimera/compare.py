"""The ``compare`` stage: paired differences between evaluated models on the same test samples.

For each ``evaluate.compare`` pair (first, second) it takes the samples both models answered and writes
``first − second`` of every score with the same seeded bootstrap interval as :mod:`chimera.evaluate`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from chimera.config import EvaluateParams
from chimera.errors import ChimeraError
from chimera.evaluate import SCORES, interval, read_records
from chimera.io import write_json

log = logging.getLogger(__name__)


class CompareError(ChimeraError):
    """Two models that cannot be compared; the message names them and the predictions folder."""


def differences(pairs: list[tuple[str, str]], predictions_dir: Path, seed: int) -> dict:
    """Paired differences ``first − second`` on the samples both models answered, with bootstrap CIs."""
    out = {}
    for first, second in pairs:
        a = {r["key"]: r for r in read_records(predictions_dir / f"{first}.jsonl")}
        b = {r["key"]: r for r in read_records(predictions_dir / f"{second}.jsonl")}
        keys = sorted(a.keys() & b.keys())
        if not keys:
            raise CompareError(f"{predictions_dir}: {first} and {second} share no evaluated sample")
        out[f"{first}-{second}"] = {
            "n": len(keys),
            **{k: interval([a[key][k] - b[key][k] for key in keys], seed) for k in SCORES},
        }
    return out


def run(params: EvaluateParams, predictions_dir: Path, metrics_file: Path) -> dict:
    """Write the paired differences of ``evaluate.compare`` to ``metrics_file``."""
    diffs = differences(params.compare, predictions_dir, params.seed)
    write_json(metrics_file, diffs)
    for pair, d in diffs.items():
        fa = d["field_accuracy"]
        log.info("%s: field accuracy %+.3f [%+.3f, %+.3f]", pair, fa["mean"], fa["ci_low"], fa["ci_high"])
    return diffs
