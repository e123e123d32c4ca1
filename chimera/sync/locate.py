"""Finding the round timer of an unknown overlay (``sync.timer_crop: auto``, ``chimera crop --find``).

Overlays differ between tournaments, resolutions, letterboxing and crops, so a fixed box is a guess. A
round timer is light ``M:SS`` digits in the top band of the picture that count down once a second;
this module finds the box that behaves like one:

1. **Candidates from the picture alone.** In the top band of the content (below any letterbox bar)
   light strokes are picked out by a white top-hat (small bright shapes on a darker surround), joined
   sideways into words, and each word of plausible text height becomes a candidate; the same word seen
   at several moments is one candidate whose box is the union of its sightings, padded.
2. **Reads decide.** In a video every candidate is read at :data:`STEPS` frames one second apart at each
   of ``sync.find_samples`` moments spread over the video; the candidate whose reads count down once a
   second at the most moments wins (a score, a money count or a name never does that). In a still
   there is no second frame: the candidate must read a strict ``M:SS`` (colon included, at most
   :data:`MAX_CLOCK_S`), the one nearest the top centre winning when several do; a still without a
   timer reads nothing rather than a made-up time.

The timer boxes of the known layouts (``sync.layouts``) are read first and win as they are when one
counts down; :meth:`chimera.config.SyncParams.layout_of` then names the layout a box belongs to, which
gives the score boxes and pairs' panel boxes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from chimera.sync.ocr import Reader, parse_timer
from chimera.sync.scan import VideoError, counts_down, luma

TOP_BAND = 0.14  # share of the content height searched for the timer, from the content's top edge
CONTENT_LUMA = 24  # rows brighter than this somewhere are picture; darker rows above are a letterbox bar
MIN_CONTENT = 0.6  # share of the frame height a letterboxed picture keeps at least (2.39:1 in 16:9: 0.74)
TEXT_HEIGHT = (0.008, 0.06)  # plausible text heights, shares of the content height
STROKE = (40, 120)  # a stroke: this much brighter than its surround (white top-hat), and this bright
FAINT = (20, 80)  # a faint stroke (a 5-px digit's antialiased diagonal) counts where it touches a stroke
GAP = 0.9  # widest gap inside a word, in multiples of its text height
DOT = 0.25  # a glyph this small against a word's height (and under any text height) is punctuation
PAD = (0.45, 0.22)  # padding of a found box, in multiples of its text height (sideways, up/down)
STEPS = 3  # frames read per moment, one second apart: two countdown steps
MAX_CLOCK_S = 5 * 60  # longest clock a still may read (round, freeze, warm-up and timeout clocks are shorter)
STRICT = re.compile(r"^[0-9]:[0-5][0-9]$")

Box = tuple[int, int, int, int]  # pixels, x0 y0 x1 y1 (exclusive)


@dataclass
class Found:
    """The timer box found, as fractions of the frame, and the evidence for it."""

    box: tuple[float, float, float, float] | None  # None: no timer found
    reads: list[int | None] = field(default_factory=list)  # the winner's reads (seconds), in sample order
    counting: int = 0  # moments at which the reads counted down (a video), or 1 (a still that read)
    moments: int = 0  # moments sampled
    candidates: int = 0  # words considered

    def as_json(self) -> dict:
        box = None if self.box is None else [round(v, 4) for v in self.box]
        return {"timer_crop": box, "reads": self.reads, "counting": self.counting, "moments": self.moments}


def content_rows(frames: Sequence[np.ndarray]) -> tuple[int, int]:
    """First and last row (exclusive) of the picture in ``frames``: letterbox bars above and below excluded.

    Bars are rows dark in every frame at the top and bottom edges; a "picture" under
    :data:`MIN_CONTENT` of the frame height is a dark scene, not letterboxing, and the whole frame counts.
    """
    full = frames[0].shape[0]
    bright = np.max([f.max(axis=1) for f in frames], axis=0) > CONTENT_LUMA
    rows = np.flatnonzero(bright)
    if not rows.size or rows[-1] + 1 - rows[0] < MIN_CONTENT * full:
        return 0, full
    return int(rows[0]), int(rows[-1]) + 1


def strokes(band: np.ndarray, hat: np.ndarray) -> np.ndarray:
    """Light strokes of ``band`` (its white top-hat ``hat``), as a 0/1 mask, by hysteresis.

    Clear strokes (:data:`STROKE`) seed; a faint one (:data:`FAINT`) is kept where it touches a clear one.
    A single level either drops the thin diagonal of a 5-px "7" (the word then ends before it) or lets
    the noise of a bright picture in.
    """
    strong = (hat > STROKE[0]) & (band > STROKE[1])
    _, labels = cv2.connectedComponents(
        ((hat > FAINT[0]) & (band > FAINT[1])).astype(np.uint8), connectivity=8
    )
    seeded = np.unique(labels[strong])
    return np.isin(labels, seeded[seeded > 0]).astype(np.uint8)


def words(gray: np.ndarray, top: int, height: int) -> list[Box]:
    """Boxes of light words of plausible text height in the band of ``height`` rows from ``top``.

    Strokes are the white top-hat of the band (:func:`strokes`); each connected stroke is a glyph (a
    colon is two); a glyph joins a word to its left when the gap is under :data:`GAP` of the word's
    height, it sits within the word's rows and is of a like height (or a dot: under :data:`DOT` of the
    word's height and under any plausible text height; a dot that could join several words joins the
    smallest text), so words form at any scale without a fixed dilation, and small digits next to big
    icons stay a word of their own.
    """
    band = gray[top : top + max(round(TOP_BAND * height), 8)]
    k = max(5, round(0.02 * height)) | 1
    hat = cv2.morphologyEx(band, cv2.MORPH_TOPHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(strokes(band, hat), connectivity=8)
    glyphs = sorted((int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, _ in stats[1:n])
    open_words: list[list[int]] = []
    lo, hi = TEXT_HEIGHT[0] * height, TEXT_HEIGHT[1] * height

    def joins(word: list[int], x0: int, y0: int, x1: int, y1: int) -> bool:
        wh, gh = word[3] - word[1], y1 - y0
        inside = min(y1, word[3]) - max(y0, word[1]) >= 0.5 * min(gh, wh)
        dot = max(gh, x1 - x0) <= min(DOT * wh, lo)  # a colon's dot, a full stop
        alike = dot or max(gh, wh) <= 1.6 * min(gh, wh)
        return inside and alike and x0 - word[2] <= GAP * wh

    for x0, y0, x1, y1 in glyphs:
        # of the words it could join, the smallest text, then the nearest: a colon between big icons and
        # small digits is the digits' punctuation
        near = min(
            (w for w in open_words if joins(w, x0, y0, x1, y1)),
            key=lambda w: (w[3] - w[1], -w[2]),
            default=None,
        )
        if near is None:
            open_words.append([x0, y0, x1, y1])
        else:
            near[:] = [near[0], min(near[1], y0), max(near[2], x1), max(near[3], y1)]
    return [
        (x0, y0 + top, x1, y1 + top)
        for x0, y0, x1, y1 in open_words
        if lo <= y1 - y0 <= hi and 1.0 * (y1 - y0) <= x1 - x0 <= 8 * (y1 - y0)
    ]


def _same_word(a: Box, b: Box) -> bool:
    """Two sightings of one word: vertically overlapping, similar height, centres close sideways."""
    ha, hb = a[3] - a[1], b[3] - b[1]
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    near = abs((a[0] + a[2]) - (b[0] + b[2])) / 2 <= max(ha, hb) * 1.5
    return overlap >= 0.6 * min(ha, hb) and max(ha, hb) <= 1.4 * min(ha, hb) and near


def cluster(sightings: Iterable[Box]) -> list[Box]:
    """Sightings of the same word over several moments merged into one box (their union)."""
    groups: list[list[Box]] = []
    for box in sightings:
        for g in groups:
            if _same_word(g[0], box):
                g.append(box)
                break
        else:
            groups.append([box])
    return [
        (min(b[0] for b in g), min(b[1] for b in g), max(b[2] for b in g), max(b[3] for b in g))
        for g in groups
    ]


def padded(box: Box, shape: tuple[int, int]) -> Box:
    x0, y0, x1, y1 = box
    h = y1 - y0
    px, py = round(PAD[0] * h), max(1, round(PAD[1] * h))
    return max(x0 - px, 0), max(y0 - py, 0), min(x1 + px, shape[1]), min(y1 + py, shape[0])


def fraction(box: Box, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    h, w = shape
    return (box[0] / w, box[1] / h, box[2] / w, box[3] / h)


def _crop(gray: np.ndarray, box: Box) -> np.ndarray:
    return gray[box[1] : box[3], box[0] : box[2]]


def _centrality(box: Box, shape: tuple[int, int]) -> float:
    """Distance of a box from the top centre, as a share of the frame width (smaller is more central)."""
    return abs((box[0] + box[2]) / 2 - shape[1] / 2) / shape[1] + box[1] / shape[0]


def find_in_still(gray: np.ndarray, reader: Reader) -> Found:
    """The box in the top band of one frame that reads a strict ``M:SS``; ``box=None`` when none does."""
    top, bottom = content_rows([gray])
    boxes = [padded(b, gray.shape) for b in words(gray, top, bottom - top)]
    valid = []
    for box in boxes:
        text = reader.text(_crop(gray, box)).strip()
        seconds = parse_timer(text) if STRICT.match(text) else None
        if seconds is not None and seconds <= MAX_CLOCK_S:
            valid.append((_centrality(box, gray.shape), box, seconds))
    if not valid:
        return Found(None, moments=1, candidates=len(boxes))
    _, box, seconds = min(valid)
    return Found(fraction(box, gray.shape), [seconds], 1, 1, len(boxes))


def _steps_down(a: int | None, b: int | None, round_time_s: int) -> bool:
    return a is not None and b is not None and counts_down(a, b, round_time_s)


def _pixels(box: Sequence[float], shape: tuple[int, int]) -> Box:
    h, w = shape
    return (round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h))


def _best_counting(
    moments: Sequence[Sequence[np.ndarray]], boxes: Sequence[Box], reader: Reader, round_time_s: int
) -> tuple[int, Found] | None:
    """(index, evidence) of the box whose reads count down at the most moments (two at least), or None."""
    shape = moments[0][0].shape
    best: tuple | None = None
    for i, box in enumerate(boxes):
        reads = [[reader.timer(_crop(f, box)) for f in m] for m in moments]
        counting = sum(all(_steps_down(a, b, round_time_s) for a, b in itertools.pairwise(r)) for r in reads)
        valid = sum(v is not None for r in reads for v in r)
        key = (counting, valid, -_centrality(box, shape))
        if counting >= 2 and (best is None or key > best[0]):
            best = (key, i, [v for r in reads for v in r])
    if best is None:
        return None
    (counting, _, _), i, reads = best
    return i, Found(fraction(boxes[i], shape), reads, counting, len(moments), len(boxes))


def find_in_frames(
    moments: Sequence[Sequence[np.ndarray]],
    reader: Reader,
    round_time_s: int,
    known: Sequence[Sequence[float]] = (),
) -> Found:
    """The box whose reads count down at the most moments; each moment is :data:`STEPS` frames 1 s apart.

    ``known`` boxes (fractions: the timer boxes of ``sync.layouts``) are tried first, and one that counts
    down is returned exactly as given, so a video in a known layout keeps that layout's tuned box and
    costs a few dozen reads; only when none does are candidates searched in the picture.
    """
    if not moments:
        return Found(None)
    shape = moments[0][0].shape
    hit = _best_counting(moments, [_pixels(b, shape) for b in known], reader, round_time_s)
    if hit is not None:
        i, found = hit
        found.box = tuple(known[i])
        return found
    frames = [f for m in moments for f in m]
    top, bottom = content_rows(frames)
    boxes = [padded(b, shape) for b in cluster(w for f in frames for w in words(f, top, bottom - top))]
    hit = _best_counting(moments, boxes, reader, round_time_s)
    return hit[1] if hit is not None else Found(None, moments=len(moments), candidates=len(boxes))


def sample_moments(path: Path, samples: int, steps: int = STEPS) -> list[list[np.ndarray]]:
    """Luma of ``steps`` frames one second apart at ``samples`` moments spread evenly over the video.

    A video that decodes but is shorter than ``steps`` seconds has no moments (an empty list); only a
    video of which no frame decodes at all is an error.
    """
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(path, f"not a readable video ({getattr(err, 'strerror', None) or err})") from None
    with container:
        if not container.streams.video:
            raise VideoError(path, "not a readable video (no video stream)")
        stream = container.streams.video[0]
        duration = (
            float(stream.duration * stream.time_base)
            if stream.duration is not None
            else (container.duration or 0) / av.time_base
        )
        span = max(duration - steps, 0.0)
        moments, decoded = [], False
        for k in range(samples):
            start = span * (k + 0.5) / samples
            wanted, got = [start + i for i in range(steps)], []
            try:
                container.seek(int(start / stream.time_base), stream=stream, backward=True)
                for frame in container.decode(stream):
                    decoded = True
                    if frame.time is not None and frame.time + 1e-6 >= wanted[len(got)]:
                        got.append(luma(frame).copy())
                        if len(got) == steps:
                            break
            except av.error.FFmpegError as err:
                raise VideoError(
                    path, f"corrupt video, no frame decodes near {start:.1f} s ({err})"
                ) from None
            if len(got) == steps:
                moments.append(got)
    if not decoded:
        raise VideoError(path, "not a readable video (no frame could be decoded)")
    return moments


def find_in_video(
    path: Path, reader: Reader, samples: int, round_time_s: int, known: Sequence[Sequence[float]] = ()
) -> Found:
    """:func:`find_in_frames` over ``samples`` moments of the video at ``path``."""
    return find_in_frames(sample_moments(path, samples), reader, round_time_s, known)
