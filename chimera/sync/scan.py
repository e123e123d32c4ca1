"""One decoding pass over a broadcast video: shot cuts, timer readings, and exact timer transitions.

Frames are decoded once with PyAV and used through their luma plane (no colour conversion). Every
``scene_every``-th frame goes, downscaled, to scenedetect's ``ContentDetector``; the timer crop of every
frame is kept since the last reading; the timer is read ``ocr_fps`` times a second, and when the value
has counted down between two readings the frame where it changed is found by binary search over the
kept crops (a few more reads). A transition "display became s at frame f" pins video time to the demo
clock to within one frame.

The frame count the stream header declares is kept next to the count that decoded: a file cut short
with its index at the front (a "faststart" MP4 whose download stopped) opens and decodes without an
error, only fewer frames than declared, and :func:`scan` warns about it (see :data:`SHORT_TOLERANCE`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from scenedetect import FrameTimecode
from scenedetect.detectors import ContentDetector

from chimera.config import SyncParams
from chimera.errors import ChimeraError
from chimera.sync.ocr import Reader, crop_box

BOMB_ICON_SHARE = 0.08  # share of the timer box the bomb icon covers (at least)
BOMB_ICON_CONTRAST = 25  # luma by which the icon stands out from its box
BOMB_ICON_CENTRED = 0.8  # share of the icon's pixels in the middle half of the box's width
# A decode is "short" when it yields fewer frames than the header declares by more than this share of the
# declared count, and by more than SHORT_MIN_FRAMES (a muxer's edit list or an estimate from the duration,
# where the header has no frame count, may be off by a frame or two without anything being missing).
SHORT_TOLERANCE = 0.01
SHORT_MIN_FRAMES = 2

log = logging.getLogger(__name__)


class VideoError(ChimeraError):
    """A video that cannot be decoded; the message starts with its path, ``reason`` is the rest."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = Path(path), reason


@dataclass(frozen=True)
class Transition:
    frame: int  # first frame that shows `seconds`
    seconds: int
    previous: int


@dataclass
class Scan:
    path: Path
    fps: float
    frames: int = 0  # decoded
    frames_declared: int | None = None  # from the stream header (None: it gives neither count nor duration)
    readings: list[tuple[int, int | None]] = field(default_factory=list)  # (frame, seconds or None)
    transitions: list[Transition] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    scores: list[tuple[int, int, int]] = field(default_factory=list)  # (frame, left, right)
    bomb_icon: set[int] = field(default_factory=set)  # read frames without digits that show the planted bomb
    ocr_calls: int = 0
    wall_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    @property
    def short(self) -> bool:
        """Fewer frames decoded than the header declares, beyond the tolerance (a truncated file)."""
        if self.frames_declared is None:
            return False
        missing = self.frames_declared - self.frames
        return missing > max(SHORT_MIN_FRAMES, SHORT_TOLERANCE * self.frames_declared)


def counts_down(previous: int, new: int, round_time_s: int) -> bool:
    """A change the clock makes by itself: one second down, or freeze time ending (0:01 -> 1:55)."""
    return new == previous - 1 or (previous <= 1 and new == round_time_s)


def shows_bomb(crop: np.ndarray) -> bool:
    """Whether the timer box shows the planted-bomb icon instead of digits.

    In luma the icon is a compact blob, clearly brighter than the box around it but not white (digits are
    thin and white), in the middle of the box. The box's level is read on the crop's border. Both halves
    matter: a replay or a desk shot under a translucent box (CS2's own HUD draws no box then) fills the
    crop with mid-grey picture, which has no such contrast, and an empty opaque box is uniformly dark.
    """
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
    icon = (crop > np.median(border) + BOMB_ICON_CONTRAST) & (crop < 170)
    if icon.mean() <= BOMB_ICON_SHARE:
        return False
    width = crop.shape[1]
    return bool(icon[:, width // 4 : width - width // 4].sum() >= BOMB_ICON_CENTRED * icon.sum())


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane of a decoded frame as a 2-D array, without copying or converting colour."""
    plane = frame.planes[0]
    return np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]


def declared_frames(container: av.container.InputContainer, stream: av.VideoStream, fps: float) -> int | None:
    """The frame count the header declares: the stream's count, else its (or the file's) duration × fps."""
    if stream.frames:
        return int(stream.frames)
    if stream.duration is not None and stream.time_base is not None:
        return round(float(stream.duration * stream.time_base) * fps)
    if container.duration is not None:
        return round(container.duration / av.time_base * fps)
    return None


def scan(
    path: Path,
    params: SyncParams,
    round_time_s: int,
    timer_crop: Sequence[float],
    score_crops: Sequence[Sequence[float]] = (),
) -> Scan:
    """Decode ``path`` once and collect what the fit needs; no score reads when ``score_crops`` is empty."""
    start = time.perf_counter()
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(path, f"not a readable video ({getattr(err, 'strerror', None) or err})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(path, "not a readable video (no video stream)")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    fps = float(stream.average_rate or stream.guessed_rate or 30)
    out = Scan(path, fps, frames_declared=declared_frames(container, stream, fps))
    timer = Reader(params.ocr_engine, params.tessdata, params.upscale)
    digits = Reader(params.ocr_engine, params.tessdata, params.upscale, whitelist="0123456789")
    detector = ContentDetector(threshold=params.scene_threshold, luma_only=True, min_scene_len=round(fps / 2))
    every = max(1, round(fps / params.ocr_fps))
    score_every = max(1, round(params.score_every_s * params.ocr_fps))
    kept: dict[int, np.ndarray] = {}
    last: tuple[int, int | None] | None = None
    f = -1
    try:
        for f, frame in enumerate(container.decode(stream)):
            y = luma(frame)
            if f % params.scene_every == 0:
                small = np.ascontiguousarray(y[::4, ::4])
                out.cuts += [
                    tc.frame_num
                    for tc in detector.process_frame(FrameTimecode(f, fps), np.dstack([small] * 3))
                ]
            kept[f] = crop_box(y, timer_crop).copy()
            if f % every:
                continue
            value = timer.timer(kept[f])
            out.readings.append((f, value))
            if value is None and shows_bomb(kept[f]):
                out.bomb_icon.add(f)
            previous = last[1] if last is not None else None
            if value is not None and previous is not None and counts_down(previous, value, round_time_s):
                out.transitions.append(Transition(_refine(timer, kept, last[0], f, value), value, previous))
            if score_crops and value is not None and len(out.readings) % score_every == 0:
                left, right = (digits.number(crop_box(y, box)) for box in score_crops)
                if left is not None and right is not None:
                    out.scores.append((f, left, right))
            kept = {f: kept[f]}
            last = (f, value)
    except av.error.FFmpegError as err:
        reason = f"corrupt or truncated video, decoding stopped after frame {f} ({err})"
        raise VideoError(path, reason) from None
    finally:
        container.close()
    if f < 0:
        raise VideoError(path, "not a readable video (no frame could be decoded)")
    out.cuts += [tc.frame_num for tc in detector.post_process(FrameTimecode(max(f, 0), fps))]
    out.frames, out.ocr_calls = f + 1, timer.calls + digits.calls
    out.wall_s = time.perf_counter() - start
    if out.short:
        log.warning(
            "%s: only %d of the %d frames its header declares decoded (a truncated file?); synced those",
            path,
            out.frames,
            out.frames_declared,
        )
    return out


def _refine(reader: Reader, kept: dict[int, np.ndarray], lo: int, hi: int, value: int) -> int:
    """First frame in (lo, hi] that shows ``value`` (frames before it still show the old one)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reader.timer(kept[mid]) == value:
            hi = mid
        else:
            lo = mid
    return hi
