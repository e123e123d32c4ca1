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
