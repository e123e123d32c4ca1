"""The ``render`` stage over all parsed matches, in parallel processes (one match per process)."""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from chimera.broadcast.render import render_match
from chimera.config import Params
from chimera.io import atomic_path

log = logging.getLogger(__name__)


def run(params: Params, parsed_dir: Path, out_dir: Path) -> list[Path]:
    """Render every simulated match in ``parsed_dir`` to ``out_dir`` (replaced as a whole at the end).

    Real demos have real broadcasts: with ``ingest.source: demos`` nothing is rendered and the stage
    leaves an empty directory, and ``sync.vod_dir`` should point at the real VODs instead.
    """
    matches = sorted(d for d in parsed_dir.iterdir() if d.is_dir()) if params.ingest.source == "sim" else []
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        jobs = [
            (m, tmp, params.render, params.ingest.sim.round_time_s, str(params.render.seed)) for m in matches
        ]
        with ProcessPoolExecutor(max_workers=params.render.workers) as pool:
            names = [Path(p).name for p in pool.map(_render, jobs)]
    if not matches:
        log.info("render: ingest.source is %r, nothing to render", params.ingest.source)
    return [out_dir / n for n in names] if matches else []


def _render(job: tuple) -> Path:
    match_dir, out, render_params, round_time_s, seed = job
    return render_match(match_dir, out, render_params, round_time_s, seed)
