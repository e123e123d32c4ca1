"""Decoding a broadcast video for sync: shot cuts, timer readings, and exact timer transitions.

Decoding every frame of a 720p H.264 video runs at ~60x real time on one core, so a sync that looks at
every frame cannot reach SPEC §11's 50x once it also reads. Two passes decode little instead:

1. **Keyframes** (the coarse pass). Every packet is demuxed (cheap), only keyframes are decoded (about
   one frame in 60 at a 2-s GOP), and the timer is read on each: digits, the bomb icon, or neither.
2. **Windows.** Each GOP (keyframe to keyframe) is planned from the reads at its two ends:

   - ``skip`` when nothing changes kind between them (no digits at both ends, or the bomb icon at
     both): not decoded;
   - ``first`` when the clock ran at one step a second between them (e.g. ``1:23`` then ``1:21``, two
     seconds later): decoded from its keyframe only until its first transition is pinned (about half
     a second of frames), which is all the fit needs of a running clock;
   - ``full`` otherwise (the clock stops, starts, freezes, the round changes, a cut to a replay): every
     frame decoded, read ``ocr_fps`` times a second, and fed to scenedetect, as ``sync.decode: all``
     does for the whole video.

   Where the clock runs, the fit gets one exact transition a GOP; where something happens, everything
   the single pass used to give (each transition, the cut to the frame, reads at ``ocr_fps``).

Decoded frames are used through their luma plane (no colour conversion). Each decoded stretch of
consecutive frames is a *window*: its frames go, downscaled, to a fresh scenedetect ``ContentDetector``
every ``scene_every``-th frame, the timer crop of each frame is kept since the last reading, and when
the value has counted down between two readings the frame where it changed is found by binary search
over the kept crops (a few more reads). A transition "display became s at frame f" pins video time to
the demo clock to within one frame. Frames are indexed by their timestamps, so B-frame streams (whose
decoder hands frames out late) index the same.

The frame count the stream header declares is kept next to the count of frames in the file: a file cut
short with its index at the front (a "faststart" MP4 whose download stopped) opens and decodes without
an error, only with fewer frames than declared, and :func:`scan` warns about it (see
:data:`SHORT_TOLERANCE`).
"""

from __future__ import annotations

import bisect
import collections
import itertools
import logging
import time
from collections.abc import Callable, Collection, Iterator, Sequence
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
    frames: int = 0  # in the file (its video packets)
    decoded: int = 0  # frames decoded (keyframes in pass 1, windows in pass 2)
    frames_declared: int | None = None  # from the stream header (None: it gives neither count nor duration)
    readings: list[tuple[int, int | None]] = field(default_factory=list)  # (frame, seconds or None)
    transitions: list[Transition] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    scores: list[tuple[int, int, int]] = field(default_factory=list)  # (frame, left, right)
    bomb_icon: set[int] = field(default_factory=set)  # read frames without digits that show the planted bomb
    ocr_calls: int = 0
    plan: dict[str, int] = field(default_factory=dict)  # GOPs by what pass 2 decoded of them
    wall_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    @property
    def short(self) -> bool:
        """Fewer frames in the file than the header declares, beyond the tolerance (a truncated file)."""
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


SKIP, FIRST, FULL = "skip", "first", "full"  # what pass 2 decodes of a GOP (module docstring)
IDLE, FEEDING, DROPPED = "idle", "feeding", "dropped"  # a GopDecoder's decoder, for the current GOP
COARSE_MAX_S = 4.0  # keyframes further apart than this are too sparse to vouch for what lies between
RECENT_S = 30.0  # a step pinned this recently predicts where the clock's next steps fall (to the frame)


@dataclass(frozen=True)
class Key:
    """A keyframe and what its timer box showed (the coarse pass)."""

    frame: int
    value: int | None
    bomb: bool = False


def steps(previous: int, new: int, round_time_s: int) -> int:
    """Clock steps from display ``previous`` down to ``new``; a higher ``new`` is reached only through
    freeze end (0:01 -> 1:55), and one above the round clock never (-1)."""
    if new <= previous:
        return previous - new
    if new <= round_time_s:
        return max(previous - 1, 0) + 1 + round_time_s - new
    return -1


def plan(keys: Sequence[Key], fps: float, round_time_s: int, pin_every_s: float) -> list[str]:
    """What to decode of each GOP (the last runs from ``keys[-1]`` to the end: decoded in full).

    Where the clock runs for several GOPs, only one GOP every ``pin_every_s`` seconds has its first step
    pinned, and always the first and the last GOP of the stretch (a run's ends are exact)."""
    modes = []
    for a, b in itertools.pairwise(keys):
        span = (b.frame - a.frame) / fps
        if span > COARSE_MAX_S:
            modes.append(FULL)
        elif a.value is None and b.value is None:
            modes.append(SKIP if a.bomb == b.bomb else FULL)
        elif a.value is not None and b.value is not None:
            modes.append(FIRST if abs(steps(a.value, b.value, round_time_s) - span) < 1 else FULL)
        else:
            modes.append(FULL)
    running = [*modes, FULL][: len(keys)]
    modes, pinned = list(running), -np.inf
    for i, mode in enumerate(running):
        inner = 0 < i < len(running) - 1 and running[i - 1] == running[i + 1] == FIRST
        if mode == FIRST and inner and keys[i].frame - pinned < pin_every_s * fps:
            modes[i] = SKIP
        elif mode == FIRST:
            pinned = keys[i].frame
    return modes


class _Reading:
    """The reads of decoded frames into a :class:`Scan`, window by window (module docstring)."""

    def __init__(self, out: Scan, params: SyncParams, round_time_s: int, timer_crop, score_crops) -> None:
        self.out, self.params, self.round_time_s = out, params, round_time_s
        self.timer_crop, self.score_crops = timer_crop, score_crops
        self.timer = Reader(params.ocr_engine, params.tessdata, params.upscale)
        self.digits = Reader(params.ocr_engine, params.tessdata, params.upscale, whitelist="0123456789")
        self.every = max(1, round(out.fps / params.ocr_fps))
        self.score_every = params.score_every_s * out.fps
        self.last_score = -np.inf
        self.detector: ContentDetector | None = None
        self.scenes_from = 0  # the detector's first frame
        self.end = -2  # the last decoded frame
        self.origin = 0  # reads fall on origin + k * every
        self.kept: dict[int, np.ndarray] = {}  # timer crops since the last read
        self.last: tuple[int, int | None] | None = None  # the last read: (frame, value)

    def key(self, f: int, y: np.ndarray) -> Key:
        """Read a keyframe (pass 1), and the scores when they are due."""
        crop = crop_box(y, self.timer_crop)
        value = self.timer.timer(crop)
        if self.score_crops and value is not None and f - self.last_score >= self.score_every:
            left, right = (self.digits.number(crop_box(y, box)) for box in self.score_crops)
            self.last_score = f
            if left is not None and right is not None:
                self.out.scores.append((f, left, right))
        return Key(f, value, value is None and shows_bomb(crop))

    def record(self, key: Key) -> None:
        """A keyframe of a GOP that is not decoded: its read is the only one there."""
        self.out.readings.append((key.frame, key.value))
        if key.bomb:
            self.out.bomb_icon.add(key.frame)

    def frame(
        self, f: int, y: np.ndarray, key: Key | None, scenes: bool, read: bool = True
    ) -> Transition | None:
        """One decoded frame: fed to scenedetect (``scenes``), its timer crop kept, and read when it is a
        keyframe (``key``: the read of pass 1) or falls on the cadence (and ``read``). Returns the
        transition pinned when the read shows the clock counted down since the last one."""
        if f != self.end + 1:  # nothing decoded next to it: a new window
            self.close_scenes()
            self.origin, self.kept, self.last = f, {}, None
        self.end = f
        self.out.decoded += 1
        if scenes:
            self._scenes(f, y)
        else:
            self.close_scenes()
        self.kept[f] = crop = crop_box(y, self.timer_crop).copy()
        if key is None and (not read or (f - self.origin) % self.every):
            return None
        value = key.value if key is not None else self.timer.timer(crop)
        bomb = key.bomb if key is not None else value is None and shows_bomb(crop)
        return self._read(f, value, bomb)

    def due(self, f: int, y: np.ndarray) -> Transition | None:
        """Frame ``f`` is where the clock's next step is due: read it and the frame before, pinning the
        step with two reads when it came on time (by bisection when earlier); reads go on from ``f`` on
        the cadence when it has not come yet."""
        self.frame(f, y, None, scenes=False, read=False)
        self.origin = f
        value = self.timer.timer(self.kept[f])
        shown = self.last[1] if self.last is not None else None
        stepped = value is not None and shown is not None and counts_down(shown, value, self.round_time_s)
        if stepped and f - 1 in self.kept and self.timer.timer(self.kept[f - 1]) == shown:
            self.last = (f - 1, shown)  # on time: the bisection has nothing left to read
        return self._read(f, value, value is None and shows_bomb(self.kept[f]))

    def _read(self, f: int, value: int | None, bomb: bool) -> Transition | None:
        self.out.readings.append((f, value))
        if bomb:
            self.out.bomb_icon.add(f)
        pinned, (before, shown) = None, self.last or (f, None)
        if value is not None and shown is not None and counts_down(shown, value, self.round_time_s):
            pinned = Transition(_refine(self.timer, self.kept, before, f, value), value, shown)
            self.out.transitions.append(pinned)
        self.kept = {f: self.kept[f]}
        self.last = (f, value)
        return pinned

    def expected(self, key: Key) -> int | None:
        """The frame where the clock's first step after ``key`` is due, from the last step pinned, when
        that step is recent enough to vouch for the clock's phase."""
        if not self.out.transitions or key.value is None:
            return None
        last = self.out.transitions[-1]
        n = steps(last.seconds, key.value, self.round_time_s)
        due = last.frame + round((n + 1) * self.out.fps)
        recent = key.frame - last.frame <= RECENT_S * self.out.fps
        return due if n >= 0 and recent and key.frame < due <= key.frame + self.out.fps else None

    def _scenes(self, f: int, y: np.ndarray) -> None:
        if self.detector is None:
            self.scenes_from = f
            self.detector = ContentDetector(
                threshold=self.params.scene_threshold, luma_only=True, min_scene_len=round(self.out.fps / 2)
            )
        if (f - self.scenes_from) % self.params.scene_every == 0:
            small = np.ascontiguousarray(y[::4, ::4])
            found = self.detector.process_frame(FrameTimecode(f, self.out.fps), np.dstack([small] * 3))
            self.out.cuts += [t.frame_num for t in found]

    def close_scenes(self) -> None:
        """The cuts the current detector still holds; the next decoded frame starts a new one."""
        if self.detector is not None:
            last = FrameTimecode(self.end, self.out.fps)
            self.out.cuts += [t.frame_num for t in self.detector.post_process(last)]
            self.detector = None


def open_video(path: Path) -> tuple[av.container.InputContainer, av.VideoStream]:
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(path, f"not a readable video ({getattr(err, 'strerror', None) or err})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(path, "not a readable video (no video stream)")
    stream = container.streams.video[0]
    stream.thread_count = 1  # frames come out as their packets go in; workers run videos in parallel
    return container, stream


def video_fps(stream: av.VideoStream) -> float:
    return float(stream.average_rate or stream.guessed_rate or 30)


def _index(stream: av.VideoStream, fps: float):
    """Frame number of a timestamp (frames counted from the stream's start)."""
    start, base = stream.start_time or 0, float(stream.time_base)
    return lambda pts: round((pts - start) * base * fps)


def scan(
    path: Path,
    params: SyncParams,
    round_time_s: int,
    timer_crop: Sequence[float],
    score_crops: Sequence[Sequence[float]] = (),
) -> Scan:
    """Read ``path`` in the two passes of the module docstring (``sync.decode: all``: the second decodes
    every frame); no score reads when ``score_crops`` is empty."""
    started = time.perf_counter()
    container, stream = open_video(path)
    fps = video_fps(stream)
    out = Scan(path, fps, frames_declared=declared_frames(container, stream, fps))
    reading = _Reading(out, params, round_time_s, timer_crop, score_crops)
    index = _index(stream, fps)
    keys: dict[int, Key] = {}
    try:
        with container:
            for packet in container.demux(stream):
                if packet.size:
                    out.frames += 1
                if packet.size and packet.is_keyframe:
                    for frame in stream.decode(packet):
                        f = index(frame.pts)
                        keys[f] = reading.key(f, luma(frame))
            for frame in stream.decode(None):
                f = index(frame.pts)
                keys[f] = reading.key(f, luma(frame))
    except av.error.FFmpegError as err:
        reason = f"corrupt or truncated video, decoding stopped at a keyframe ({err})"
        raise VideoError(path, reason) from None
    if not keys:
        raise VideoError(path, "not a readable video (no frame could be decoded)")
    ordered = sorted(keys.values(), key=lambda k: k.frame)
    if params.decode == "keyframes":
        modes = plan(ordered, fps, round_time_s, params.pin_every_s)
    else:
        modes = [FULL] * len(ordered)
    _windows(path, reading, {k.frame: (k, m) for k, m in zip(ordered, modes, strict=True)})
    out.decoded += len(keys)
    out.ocr_calls = reading.timer.calls + reading.digits.calls
    out.plan = dict(collections.Counter(modes))
    out.readings.sort()
    out.transitions.sort(key=lambda t: t.frame)
    out.wall_s = time.perf_counter() - started
    if out.short:
        log.warning(
            "%s: only %d of the %d frames its header declares are in the file (truncated?); synced those",
            path,
            out.frames,
            out.frames_declared,
        )
    return out


class GopDecoder:
    """Decodes the GOPs of a video that a caller picks, each as far as the caller wants.

    :meth:`frames` demuxes every packet (cheap) and hands a GOP's packets to the decoder only when
    ``pick(keyframe)`` accepts it; :meth:`stop` leaves the current GOP there (its other packets are not
    decoded). At each GOP's end, frames a B-frame decoder still holds are drained out before the next
    keyframe; the decoder is then reset, as after a GOP left half-way. Decoding errors are av's
    ``FFmpegError``; ``last`` is the last frame handed out.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.last, self._stopped = path, -1, False

    def stop(self) -> None:
        self._stopped = True

    def frames(self, pick: Callable[[int], bool]) -> Iterator[tuple[int, int, av.VideoFrame]]:
        """(keyframe of the GOP, frame number, frame), in order, for the GOPs picked."""
        container, stream = open_video(self.path)
        index = _index(stream, video_fps(stream))
        state, start = IDLE, -1
        with container:
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                if packet.is_keyframe:
                    if state == FEEDING:
                        yield from self._out(start, stream.decode(None), index)
                    if state != IDLE:
                        stream.codec_context.flush_buffers()
                    start, self._stopped = index(packet.pts), False
                    state = FEEDING if pick(start) else IDLE
                if state == FEEDING and self._stopped:
                    state = DROPPED
                if state == FEEDING:
                    yield from self._out(start, stream.decode(packet), index)
            if state == FEEDING:
                yield from self._out(start, stream.decode(None), index)

    def _out(self, start: int, frames, index) -> Iterator[tuple[int, int, av.VideoFrame]]:
        for frame in frames:
            self.last = index(frame.pts)
            yield start, self.last, frame


def _windows(path: Path, reading: _Reading, gops: dict[int, tuple[Key, str]]) -> None:
    """Pass 2: each GOP decoded as planned (``gops``: keyframe -> its read and mode)."""
    decoder, due = GopDecoder(path), {}

    def plan_of(start: int) -> tuple[Key, str]:  # a keyframe pass 1 did not decode: read it in full
        return gops.get(start, (Key(start, None), FULL))

    def pick(start: int) -> bool:
        key, mode = plan_of(start)
        if mode == SKIP:
            reading.record(key)
        elif mode == FIRST:
            due[start] = reading.expected(key)
        return mode != SKIP

    try:
        for start, f, frame in decoder.frames(pick):
            key, mode = plan_of(start)
            y = luma(frame)
            if f == due.get(start):
                pinned = reading.due(f, y)
            else:
                read = due.get(start) is None or f > due[start]
                pinned = reading.frame(f, y, key if f == key.frame else None, scenes=mode == FULL, read=read)
            if mode == FIRST and pinned is not None and pinned.frame >= key.frame:
                decoder.stop()
    except av.error.FFmpegError as err:
        reason = f"corrupt or truncated video, decoding stopped after frame {decoder.last} ({err})"
        raise VideoError(path, reason) from None
    reading.close_scenes()


def frames_at(path: Path, wanted: Collection[int]) -> Iterator[tuple[int, av.VideoFrame]]:
    """The frames numbered in ``wanted``, in order; a GOP that holds one is decoded only up to its last
    one, the others not at all (a frame a second, as pairs samples, is about half the frames).

    :class:`VideoError` when the file does not open; av's ``FFmpegError`` when decoding fails midway.
    """
    targets = sorted(wanted)
    container, stream = open_video(path)
    with container:
        index = _index(stream, video_fps(stream))
        starts = [index(p.pts) for p in container.demux(stream) if p.size and p.is_keyframe]
    decoder, last = GopDecoder(path), {}

    def pick(start: int) -> bool:
        i = bisect.bisect_right(starts, start)
        end = starts[i] if i < len(starts) else np.inf
        inside = targets[bisect.bisect_left(targets, start) : bisect.bisect_left(targets, end)]
        last[start] = inside[-1] if inside else -1
        return bool(inside)

    given: set[int] = set()
    for start, f, frame in decoder.frames(pick):
        if f in wanted and f not in given:
            given.add(f)
            yield f, frame
        if f >= last[start]:
            decoder.stop()


def _refine(reader: Reader, kept: dict[int, np.ndarray], lo: int, hi: int, value: int) -> int:
    """First frame in (lo, hi] that shows ``value`` (frames before it still show the old one)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reader.timer(kept[mid]) == value:
            hi = mid
        else:
            lo = mid
    return hi
