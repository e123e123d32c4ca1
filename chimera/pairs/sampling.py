"""Where to look: a regular grid of sample times inside the synced segments, their ticks and frames."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chimera.tables import TICK_RATE

Segment = Mapping[str, Any]
"""One segment of a sync output: video_start, video_end, scale, offset, round_num, ..."""


def sample_times(segments: Iterable[Segment], fps: float) -> list[tuple[float, Segment]]:
    """A regular grid ``k / fps`` of video times strictly inside each segment's [video_start, video_end].

    One grid for the whole video, so that two segments never put samples closer than ``1 / fps``.
    """
    out = []
    for seg in segments:
        a, b = float(seg["video_start"]), float(seg["video_end"])
        k = math.floor(a * fps) + 1
        while k / fps < b:
            if k / fps > a:
                out.append((k / fps, seg))
            k += 1
    return sorted(out, key=lambda x: x[0])


def segment_tick(seg: Segment, t: float) -> float:
    """The demo tick at video time ``t`` inside ``seg``."""
    return (t - float(seg["offset"])) / float(seg["scale"]) * TICK_RATE


def frame_targets(
    samples: Sequence[tuple[float, Segment]], video_fps: float
) -> dict[int, tuple[float, Segment]]:
    """Frame index -> (frame time, segment) for the frames nearest the sample times, still in segment."""
    targets: dict[int, tuple[float, Segment]] = {}
    for t, seg in samples:
        f = round(t * video_fps)
        ft = f / video_fps
        if not float(seg["video_start"]) <= ft <= float(seg["video_end"]):
            continue
        targets.setdefault(f, (ft, seg))
    return targets
