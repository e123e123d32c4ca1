"""Small videos the tests write themselves: footage with no HUD at all (a desk shot, a pre-show)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_noise_video(
    path: Path, frames: int = 30, width: int = 320, height: int = 180, fps: int = 15
) -> Path:
    """Random frames as H.264: a real video in which no HUD can be found."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def render_short_match(
    root: Path, match_index: int, seed: str, width: int, height: int, fps: int, vod_dir: Path | None = None
) -> tuple[Path, Path]:
    """A two-round simulated match, parsed into ``root/parsed`` and rendered small and fast.

    Returns (video, match directory); the truth sidecar lies next to the video.
    """
    from chimera.broadcast.render import render_match
    from chimera.config import load_params
    from chimera.ingest import write_match
    from chimera.sim.match import MatchSimulator

    params = load_params()
    sim = params.ingest.sim.model_copy(update={"max_rounds": 2})
    match = MatchSimulator(sim.matches[match_index], sim, seed=seed).run()
    match_dir = root / "parsed" / match.match_id
    write_match(match_dir, match)
    render = params.render.model_copy(
        update={"width": width, "height": height, "fps": fps, "round_count": 2, "preset": "ultrafast"}
    )
    out = vod_dir or root
    out.mkdir(parents=True, exist_ok=True)
    return render_match(match_dir, out, render, sim.round_time_s, seed="t"), match_dir
