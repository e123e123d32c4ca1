"""The ``render`` stage over all parsed matches, in parallel processes (one match per process)."""

from __future__ import annotations

import logging
from pathlib import Path

from chimera.broadcast.render import render_match
from chimera.config import RenderParams
from chimera.io import atomic_path
from chimera.runtime import process_pool

log = logging.getLogger(__name__)


def run(
    params: RenderParams, source: str, round_time_s: float, parsed_dir: Path, out_dir: Path
) -> list[Path]:
    """Render every simulated match in ``parsed_dir`` into ``out_dir``, the stage's one output.

    ``out_dir`` is replaced as a whole at the end and nothing else is written. Real demos have real
    broadcasts, which live wherever ``sync.vod_dir`` points and are never touched here: with
    ``ingest.source: demos`` the stage writes an empty ``out_dir`` and says so.
    """
    matches = sorted(d for d in parsed_dir.iterdir() if d.is_dir()) if source == "sim" else []
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        seed = str(params.seed)
        jobs = [(m, tmp, params, round_time_s, seed, params.style_of(i)) for i, m in enumerate(matches)]
        with process_pool(params.workers) as pool:
            names = [Path(p).name for p in pool.map(_render, jobs)]
    if not matches:
        log.info("render: ingest.source is %r: nothing to render, %s left empty", source, out_dir)
    else:
        log.info("render: %d videos in %s", len(names), out_dir)
    return [out_dir / n for n in names]


def _render(job: tuple) -> Path:
    match_dir, out, render_params, round_time_s, seed, style = job
    return render_match(match_dir, out, render_params, round_time_s, seed, style)
