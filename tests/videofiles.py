"""Small videos the tests write themselves: footage with no HUD (a desk shot, a pre-show), cut short."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_noise_video(
    path: Path, frames: int = 30, width: int = 320, height: int = 180, fps: int = 15, faststart: bool = False
) -> Path:
    """Random frames as H.264: a real video in which no HUD can be found.

    ``faststart`` puts the index (the moov atom) at the front, as streaming downloads have it, so that
    the file still opens once cut short.
    """
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "+faststart"} if faststart else None) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def cut_short(path: Path, share: float) -> int:
    """Truncate ``path`` at the first packet end past ``share`` of its bytes; the packets left whole.

    Cutting between packets, not inside one, leaves no half packet for the decoder to choke on, so the
    file decodes to a clean end (fewer frames, no error) whatever the decoder's threading.
    """
    with av.open(str(path)) as container:
        ends = sorted(p.pos + p.size for p in container.demux(container.streams.video[0]) if p.size)
    cut = next(end for end in ends if end >= share * path.stat().st_size)
    with path.open("r+b") as f:
        f.truncate(cut)
    return sum(end <= cut for end in ends)


def reencode(src: Path, dst: Path, preset: str, gop: int) -> Path:
    """``src`` encoded again by x264 at ``preset`` with a keyframe every ``gop`` frames. Presets from
    veryfast up use B-frames, which the decoder hands out late and out of decoding order."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        source = inp.streams.video[0]
        stream = out.add_stream("libx264", rate=source.average_rate)
        stream.width, stream.height, stream.pix_fmt = source.width, source.height, "yuv420p"
        stream.options = {"preset": preset, "g": str(gop), "crf": "23"}
        for frame in inp.decode(source):
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def render_short_match(
    root: Path,
    match_index: int,
    seed: str,
    width: int,
    height: int,
    fps: int,
    vod_dir: Path | None = None,
    max_rounds: int = 2,
    rounds: list[tuple[int, int]] | None = None,
    style: str = "broadcast",
) -> tuple[Path, Path]:
    """A short simulated match (``max_rounds``), parsed into ``root/parsed`` and rendered small and fast.

    ``rounds`` are the rendered blocks (``render.rounds``; default: every round, one block); ``style``
    the HUD (``render.hud_style``).
    Returns (video, match directory); the truth sidecar lies next to the video.
    """
    from chimera.broadcast.render import render_match
    from chimera.config import load_params
    from chimera.ingest import write_match
    from chimera.sim.match import MatchSimulator

    params = load_params()
    sim = params.ingest.sim.model_copy(update={"max_rounds": max_rounds})
    match = MatchSimulator(sim.matches[match_index], sim, seed=seed).run()
    match_dir = root / "parsed" / match.match_id
    write_match(match_dir, match)
    render = params.render.model_copy(
        update={
            "width": width,
            "height": height,
            "fps": fps,
            "rounds": rounds or [(1, max_rounds)],
            "preset": "ultrafast",
        }
    )
    out = vod_dir or root
    out.mkdir(parents=True, exist_ok=True)
    return render_match(match_dir, out, render, sim.round_time_s, "t", style), match_dir
