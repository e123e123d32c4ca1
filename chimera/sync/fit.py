"""From timer transitions to ``video_time = a * demo_time + b``, per segment of continuous play (SPEC §6).

1. *Runs*: transitions that follow each other second by second, each at most ``max_gap_s`` after the
   last. A pause, a replay or a cut to a screen without the clock ends a run.
2. *Round identity*: a run's values (``1:23``, ``1:22`` …) fit every round, so each run gets one
   candidate per (round, phase) whose demo clock has those values, with the offset ``b`` it implies.
   A Viterbi pass picks one candidate per run: offsets stay equal between runs of continuous play; the
   offset grows (the video ran on while the game clock stood: a pause) at a cost; it shrinks (the game
   ran ahead of the video: an edited-out stretch, a break between blocks of rounds) only where a
   stretch of at least ``sync.cut_blank_s`` without timer digits (a desk shot, a replay, a cut away)
   lies between the two runs, at a cost plus a little per skipped round, so that where nothing else
   tells, the nearest later round wins; rounds never decrease; and where the team scores were read,
   the round must be ``left + right + 1`` (after a cut the scores are what names the round).
3. *Fit*: the drift ``a`` is fitted once, robustly (scikit-learn RANSAC), on the deviations within
   chains of runs that share an offset (continuous play between pauses) and span ``min_drift_span_s``;
   each run's offset is then the median residual, and inliers are transitions within
   ``residual_threshold_ms`` of the line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sklearn.linear_model import LinearRegression, RANSACRegressor

from chimera.clock import FREEZE, LIVE, RoundClock
from chimera.config import SyncParams
from chimera.sync.scan import Transition, steps
from chimera.tables import TICK_RATE

SAME_OFFSET_S = 0.35  # two runs with offsets this close are the same continuous play
PAUSE_COST = 4.0
SCORE_COST = 3.0
CUT_COST = 4.0  # the game ran ahead of the video across a stretch without the timer
SKIP_COST = 0.25  # per round skipped by such a cut (prefers the nearest round when no score was read)


@dataclass(frozen=True)
class Candidate:
    round_num: int
    phases: tuple[str, ...]
    ticks: tuple[int, ...]
    offset: float  # median of video_time - demo_time (s)


@dataclass(frozen=True)
class SegmentFit:
    round_num: int
    phases: tuple[str, ...]
    video_start: float
    video_end: float
    scale: float  # a: video seconds per demo second
    offset: float  # b: video seconds
    inliers: int
    n: int
    residual_ms: float
    residuals_ms: tuple[float, ...]
    video_times: tuple[float, ...]
    extended_s: float = 0.0  # trusted video after the last clock step, where the demo says the clock stopped

    @property
    def drift_ppm(self) -> float:
        return (1 / self.scale - 1) * 1e6

    def tick(self, video_time: float) -> float:
        return (video_time - self.offset) / self.scale * TICK_RATE

    def video_time(self, tick: float) -> float:
        return self.offset + self.scale * tick / TICK_RATE


def _continues(last: Transition, t: Transition, fps: float, max_gap_s: float, round_time_s: int) -> bool:
    """Whether ``t`` is the same running clock as ``last``, allowing a few unread seconds in between.

    Skipped seconds are fine when the video time between the two matches them (an OCR miss); a clock
    that stood still meanwhile (a pause) or jumped (a cut to other footage) does not match.
    """
    n = steps(last.seconds, t.seconds, round_time_s)
    gap = (t.frame - last.frame) / fps
    return n >= 1 and abs(gap - n) < 0.5 and gap <= max_gap_s + n - 1


def split_runs(
    transitions: list[Transition], cuts: list[int], fps: float, max_gap_s: float, round_time_s: int
) -> list[list[Transition]]:
    """Consecutive transitions of one running clock, split at scene cuts (SPEC §6: cuts start segments)."""
    runs: list[list[Transition]] = []
    cut_frames = sorted(cuts)
    for t in transitions:
        last = runs[-1][-1] if runs else None
        cut_between = last is not None and any(last.frame < c <= t.frame for c in cut_frames)
        if last is not None and not cut_between and _continues(last, t, fps, max_gap_s, round_time_s):
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs


def candidates(
    run: list[Transition],
    demo: dict[tuple[int, str, int], int],
    rounds: list[int],
    fps: float,
) -> list[Candidate]:
    """Every (round, starting phase) whose clock shows the run's values, with the offset it implies."""
    video = np.array([(t.frame - 0.5) / fps for t in run])
    out = []
    for r in rounds:
        for start in (FREEZE, LIVE):
            phase, ticks, phases, shown = start, [], [], run[0].previous
            for t in run:
                if phase == FREEZE and t.seconds > shown:  # the clock went up: freeze time ended
                    phase = LIVE
                shown = t.seconds
                tick = demo.get((r, phase, t.seconds))
                if tick is None:
                    break
                ticks.append(tick)
                phases.append(phase)
            else:
                offset = float(np.median(video - np.array(ticks) / TICK_RATE))
                out.append(Candidate(r, tuple(dict.fromkeys(phases)), tuple(ticks), offset))
    return out


def _step_cost(prev: Candidate, cur: Candidate, cut: bool = False) -> float:
    """The cost of ``cur`` following ``prev``; ``cut``: the video left the game clock in between."""
    if cur.round_num < prev.round_num:
        return np.inf
    jump = cur.offset - prev.offset
    if jump < -SAME_OFFSET_S:
        # The game ran ahead of the video: impossible in continuous footage, what an edit does.
        return CUT_COST + SKIP_COST * max(cur.round_num - prev.round_num - 1, 0) if cut else np.inf
    return 0.0 if jump <= SAME_OFFSET_S else PAUSE_COST


def blank_stretches(
    readings: list[tuple[int, int | None]], bomb_icon: set[int], fps: float, min_s: float
) -> list[tuple[int, int]]:
    """(first, last) frames of the stretches of timer reads with no digits and no bomb icon, >= ``min_s``.

    A stretch's length counts from its first blank read to the first read after it.
    """
    out, start, last = [], None, None
    for f, value in [*readings, (None, 0)]:
        blank = f is not None and value is None and f not in bomb_icon
        if blank and start is None:
            start = f
        elif not blank and start is not None:
            end = f if f is not None else last
            if (end - start) / fps >= min_s:
                out.append((start, last))
            start = None
        last = f if f is not None else last
    return out


def cuts_between(runs: list[list[Transition]], stretches: list[tuple[int, int]]) -> list[bool]:
    """For each run, whether a blank stretch lies between the run before it and its first transition."""
    out = []
    for i, run in enumerate(runs):
        lo = runs[i - 1][-1].frame if i else -1
        out.append(any(lo < a and b < run[0].frame for a, b in stretches))
    return out


def assign(
    options: list[list[Candidate]], rounds_seen: list[set[int]], cuts: list[bool] | None = None
) -> list[Candidate]:
    """Viterbi over runs (each with at least one candidate); ``rounds_seen[i]``: rounds its scores imply.

    ``cuts[i]``: a stretch without the timer precedes run ``i`` (the game may have run ahead there).
    Where no candidate can follow any of the previous run's (an impossible sequence), the path restarts.
    """
    cuts = cuts or [False] * len(options)

    def own(i: int, c: Candidate) -> float:
        return SCORE_COST * sum(r != c.round_num for r in rounds_seen[i])

    best = [[own(0, c) for c in options[0]]]
    back = [[-1] * len(options[0])]
    for i in range(1, len(options)):
        row, arg = [], []
        for c in options[i]:
            costs = [b + _step_cost(p, c, cuts[i]) for p, b in zip(options[i - 1], best[-1], strict=True)]
            k = int(np.argmin(costs))
            row.append(costs[k] + own(i, c))
            arg.append(k if np.isfinite(costs[k]) else -1)
        if not np.isfinite(row).any():
            row = [own(i, c) for c in options[i]]
        best.append([r if np.isfinite(r) else 1e9 for r in row])
        back.append(arg)
    k = int(np.argmin(best[-1]))
    chosen = []
    for i in range(len(options) - 1, -1, -1):
        chosen.append(options[i][k])
        k = back[i][k] if back[i][k] >= 0 else int(np.argmin(best[i - 1])) if i else 0
    return chosen[::-1]


def _segment_fit(
    c: Candidate, video: np.ndarray, residual: np.ndarray, scale: float, offset: float, inliers: np.ndarray
) -> SegmentFit:
    errors = (residual - offset) * 1000
    rms = float(np.sqrt(np.mean(errors[inliers] ** 2))) if inliers.any() else float("nan")
    return SegmentFit(
        c.round_num,
        c.phases,
        float(video[0]),
        float(video[-1]),
        scale,
        offset,
        int(inliers.sum()),
        len(video),
        rms,
        tuple(errors.tolist()),
        tuple(video.tolist()),
    )


def fit(
    runs: list[list[Transition]], chosen: list[Candidate | None], fps: float, params: SyncParams
) -> list[SegmentFit]:
    """Drift from all long runs together (RANSAC), then each run's offset and inliers."""
    data = []
    for run, c in zip(runs, chosen, strict=True):
        if c is not None:
            video = np.array([(t.frame - 0.5) / fps for t in run])
            data.append((c, video, np.array(c.ticks) / TICK_RATE))
    threshold = params.residual_threshold_ms / 1000
    # Chains: consecutive runs on one offset (no pause between them) share the broadcast clock, so the
    # drift shows across a whole chain even when cuts make every run a few seconds long.
    chains: list[list[int]] = []
    for k, (c, _, _) in enumerate(data):
        if chains and abs(c.offset - data[chains[-1][-1]][0].offset) <= SAME_OFFSET_S:
            chains[-1].append(k)
        else:
            chains.append([k])
    pooled = []
    for chain in chains:
        v = np.concatenate([data[k][1] for k in chain])
        g = np.concatenate([data[k][2] for k in chain])
        if g[-1] - g[0] >= params.min_drift_span_s and len(g) >= 3:
            pooled.append((v - v.mean(), g - g.mean()))
    scale = 1.0
    if pooled:
        x = np.concatenate([g for _, g in pooled])[:, None]
        y = np.concatenate([v for v, _ in pooled])
        ransac = RANSACRegressor(
            LinearRegression(fit_intercept=False), residual_threshold=threshold, random_state=0
        )
        scale = float(ransac.fit(x, y).estimator_.coef_[0])
    fits = []
    for c, video, demo in data:
        residual = video - scale * demo
        offset = float(np.median(residual))
        inliers = np.abs(residual - offset) < threshold
        if inliers.any():
            offset = float(np.mean(residual[inliers]))
        fits.append(_segment_fit(c, video, residual, scale, offset, inliers))
    return fits


def extend_stopped_clock(
    segments: list[SegmentFit],
    clocks: dict[int, RoundClock],
    steps: dict[int, list[int]],
    cuts: list[int],
    readings: list[tuple[int, int | None]],
    bomb_icon: set[int],
    fps: float,
    max_s: float,
    video_end_s: float,
) -> list[SegmentFit]:
    """Carry a segment past its last clock step when the demo says why the clock stopped.

    After the plant the HUD hides the digits, and once the round is decided the timer stands still,
    so the footage that matters most (post-plant, round end) has no clock steps. A segment is extended
    only if the demo's next display change would have come *after* the plant or the round end, and only
    while every timer read shows what that stop looks like (the bomb icon after a plant, the frozen value
    after the end), until the first of: the next segment, the next round's start (where the display
    changes again), ``max_s`` seconds, the video's end (``video_end_s``), or (after the end only) a scene
    cut. A pause cannot hide in an extension: without a plant or an end to explain it, a missing step
    ends the segment; a replay shows no bomb icon.
    """
    out = []
    for i, seg in enumerate(segments):
        clock, last_tick = clocks[seg.round_num], seg.tick(seg.video_end)
        stops = [t for t in (clock.plant_tick, clock.end_tick) if t is not None and t > last_tick - TICK_RATE]
        next_step = next((t for t in steps.get(seg.round_num, []) if t > last_tick + TICK_RATE / 2), None)
        # a step the stop hides within a frame was never on screen: its absence says nothing
        if not stops or (next_step is not None and next_step <= min(stops) - TICK_RATE / fps):
            out.append(seg)
            continue
        planted = clock.plant_tick is not None and min(stops) == clock.plant_tick
        limits = [seg.video_end + max_s, video_end_s]
        # The bomb icon is evidence that survives an observer cut (a replay or a desk shot has none); a
        # frozen round-end value proves less, so a round-over extension ends at the next cut.
        cut_after = [c / fps for c in cuts if c / fps > seg.video_end + (1.0 if planted else 0.0)]
        limits += cut_after[:1] if not planted else []
        limits += [s.video_start for s in segments[i + 1 :]]
        following = clocks.get(seg.round_num + 1)
        if following is not None:
            limits.append(seg.video_time(following.start_tick))
        end = min(limits) - 1 / fps
        settle = seg.video_time(min(stops)) + 0.5  # the display reacts to the plant or the end
        shown = [v for f, v in readings if f / fps >= seg.video_end and v is not None]
        frozen = shown[0] if shown else None  # the value of the last step, frozen if the round is over
        last_ok = seg.video_end
        for f, value in readings:
            t = f / fps
            if not seg.video_end < t <= end:
                continue
            # What the HUD must show for the clock to be stopped for the reason the demo gives: the bomb
            # icon after a plant, the frozen value after the end. A blank box (a replay, a desk shot) or a
            # running clock ends the extension at the last read that still showed the stop (the frames
            # between that read and this one are unread: the replay may have begun on any of them).
            expected = (f in bomb_icon) if planted and t > settle else (value == frozen or t <= settle)
            if not expected:
                end = last_ok
                break
            last_ok = t
        out.append(replace(seg, video_end=max(seg.video_end, end), extended_s=max(0.0, end - seg.video_end)))
    return out


def rescue_short_runs(
    segments: list[SegmentFit],
    short: list[list[Transition]],
    demo: dict[tuple[int, str, int], int],
    fps: float,
) -> list[SegmentFit]:
    """Keep runs too short to identify a round when a fitted neighbour vouches for them.

    One or two clock steps between two observer cuts say nothing about the round on their own, but if
    the nearest fitted segment before them implies the same offset for its round, they are the same
    continuous play. These are often the seconds just before a plant, which the plant extension needs.
    """
    out = list(segments)
    for run in short:
        before = [s for s in segments if s.video_end <= (run[0].frame - 0.5) / fps]
        if not before:
            continue
        neighbour = before[-1]
        options = candidates(run, demo, [neighbour.round_num], fps)
        video = np.array([(t.frame - 0.5) / fps for t in run])
        for c in options:
            residual = video - neighbour.scale * np.array(c.ticks) / TICK_RATE
            offset = float(np.mean(residual))
            if abs(offset - neighbour.offset) <= SAME_OFFSET_S:
                out.append(_segment_fit(c, video, residual, neighbour.scale, offset, np.ones(len(run), bool)))
                break
    return sorted(out, key=lambda s: s.video_start)
