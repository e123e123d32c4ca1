"""The ``report`` stage (SPEC §14): ``report.md``, its PNG plots and the review page, from files alone.

It reads metrics and predictions, never a model (no torch import), so it reruns in seconds whenever an
upstream figure changes. :mod:`~chimera.report.markdown` writes the tables and verdicts,
:mod:`~chimera.report.plots` the PNGs, :mod:`~chimera.report.review` the static page. Each output is
written atomically: the folders are built in a temporary sibling and renamed into place.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from chimera.errors import ChimeraError
from chimera.io import atomic_path
from chimera.report import markdown, plots, review

log = logging.getLogger(__name__)


class ReportError(ChimeraError):
    """A metrics file the report needs is missing or unreadable; the message names it."""


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ReportError(
            f"{path}: not a readable metrics file ({err}); run the stage that writes it"
        ) from None


def read_evals(metrics_dir: Path) -> dict[str, dict]:
    """``eval_<M>.json`` of every evaluated model, by model name, in name order."""
    evals = {p.stem.removeprefix("eval_"): _read(p) for p in sorted(metrics_dir.glob("eval_*.json"))}
    if not evals:
        raise ReportError(f"{metrics_dir}: no eval_<M>.json (run evaluate first)")
    return evals


def _link(target: Path, report_file: Path) -> str:
    return Path(os.path.relpath(target, report_file.parent)).as_posix()


def run(
    source: str,
    metrics_dir: Path,
    predictions_dir: Path,
    test_file: Path,
    frames_root: Path,
    report_file: Path,
    plots_dir: Path,
    review_dir: Path,
) -> str:
    """Write the plots, the review page and the report; return the report's text.

    ``source`` is ``ingest.source``: it says why there is no oracle when there is none.
    """
    evals = read_evals(metrics_dir)
    compare = _read(metrics_dir / "compare.json")
    cf_file = metrics_dir / "counterfactual.json"
    counterfactual = _read(cf_file) if cf_file.exists() else None
    with atomic_path(plots_dir) as tmp:
        tmp.mkdir()
        drawn = plots.draw_all(metrics_dir, evals, tmp)
    with atomic_path(review_dir) as tmp:
        frames = review.write(predictions_dir, test_file, frames_root, tmp)
    text = markdown.render(
        source,
        evals,
        compare,
        counterfactual,
        drawn,
        _link(plots_dir, report_file),
        _link(review_dir, report_file),
    )
    with atomic_path(report_file) as tmp:
        tmp.write_text(text)
    for line in markdown.verdicts(source, evals, compare):
        log.info("%s", line)
    log.info("%s, %d plots in %s, %d frames in %s", report_file, len(drawn), plots_dir, frames, review_dir)
    return text
