"""The ``sync`` stage: every VOD against its parsed match, then the error figures against the truth.

Sync reads only the video and the parsed tables. The truth sidecar (rendered matches only) is opened
afterwards, in :func:`evaluate`, to measure how far the fitted mapping is from the true tick; nothing
it contains flows back into the fit.

One bad video does not cost the others: a video that cannot be decoded is logged with its name and the
reason and skipped, as is one named after no parsed match, and both are listed in the metrics, as is a
video that decoded fewer frames than its header declares. The stage fails only when nothing was synced.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from chimera.broadcast import timeline
from chimera.clock import display_at, round_clocks, transitions
from chimera.config import SyncParams
from chimera.errors import ChimeraError
from chimera.io import atomic_path, write_json
from chimera.runtime import process_pool
from chimera.sync import fit as fitting
from chimera.sync import locate
from chimera.sync.ocr import Reader
from chimera.sync.scan import Scan, VideoError, scan
from chimera.tables import TICK_RATE

log = logging.getLogger(__name__)

SHOWN_NAMES = 10  # expected video names listed in a SyncError


class SyncError(ChimeraError):
    """Nothing was synced: no video, none named after a parsed match, or none of those could be decoded."""


@dataclass(frozen=True)
class TimerBox:
    """The timer box a video is read with, the known layout it lies in, and how it was chosen."""

    box: tuple[float, float, float, float]
    layout: str | None  # a sync.layouts name; None: a box the search found in no known layout
    chosen_by: str  # "params" (a fixed timer_crop) | "layout" | "search" | "none" (auto found no timer)
    find_s: float = 0.0  # seconds spent finding it


def timer_box(video: Path, params: SyncParams, round_time_s: int) -> TimerBox:
    """``sync.timer_crop`` when fixed; with ``auto`` the box :mod:`chimera.sync.locate` finds.

    The known layouts' timer boxes are tried first; a box found by the search in no known layout is
    read without score boxes (the round identity then rests on the clock alone). When nothing counts
    down, the first layout's box is used, so the video's frames, cuts and "no timer digits" refusals
    are still on record.
    """
    if params.timer_crop != "auto":
        return TimerBox(tuple(params.timer_crop), params.layout_of(params.timer_crop), "params")
    start = time.perf_counter()
    reader = Reader(params.ocr_engine, params.tessdata, params.upscale)
    known = [layout.timer_crop for layout in params.layouts.values()]
    found = locate.find_in_video(video, reader, params.find_samples, round_time_s, known)
    spent = time.perf_counter() - start
    if found.box is None:
        first = next(iter(params.layouts))
        log.warning(
            "%s: no box in the top band counts down at %d sampled moments (timer_crop: auto)",
            video,
            found.moments,
        )
        return TimerBox(tuple(params.layouts[first].timer_crop), first, "none", spent)
    layout = params.layout_of(found.box)
    how = "layout" if found.box in [tuple(b) for b in known] else "search"
    if layout is None:
        log.warning(
            "%s: the timer found at %s lies in none of sync.layouts: read without score boxes",
            video,
            [round(v, 4) for v in found.box],
        )
    return TimerBox(found.box, layout, how, spent)


@dataclass
class SyncResult:
    match: str
    video: Path
    scan: Scan
    segments: list[fitting.SegmentFit]
    timer: TimerBox
    refused: list[dict] = field(default_factory=list)
    wall_s: float = 0.0

    def as_json(self) -> dict:
        return {
            "match": self.match,
            "video": str(self.video),
            "timer_crop": [round(v, 4) for v in self.timer.box],
            "layout": self.timer.layout,
            "timer_chosen_by": self.timer.chosen_by,
            "fps": self.scan.fps,
            "frames": self.scan.frames,
            "frames_decoded": self.scan.decoded,
            "duration_s": self.scan.duration_s,
            "segments": [
                {k: v for k, v in asdict(s).items() if k not in ("residuals_ms", "video_times")}
                | {"drift_ppm": s.drift_ppm}
                for s in self.segments
            ],
            "refused": self.refused,
            "cuts": self.scan.cuts,
            "transitions": len(self.scan.transitions),
        }


def sync_video(video: Path, match_dir: Path, params: SyncParams, round_time_s: float) -> SyncResult:
    """Fit one VOD to its match; a video with no readable timer yields no segments (and says so)."""
    start = time.perf_counter()
    rounds, bomb = pl.read_parquet(match_dir / "rounds.parquet"), pl.read_parquet(match_dir / "bomb.parquet")
    clocks = round_clocks(rounds, bomb, round_time_s)
    clock_rows = transitions(clocks).rows()
    demo = {(r, phase, s): tick for r, phase, s, tick in clock_rows}
    steps: dict[int, list[int]] = {}
    for r, _, _, tick in clock_rows:
        steps.setdefault(r, []).append(tick)
    timer = timer_box(video, params, round(round_time_s))
    scores = params.layouts[timer.layout].score_crops if timer.layout is not None else ()
    found = scan(video, params, round(round_time_s), timer.box, scores)
    all_runs = fitting.split_runs(
        found.transitions, found.cuts, found.fps, params.max_gap_s, round(round_time_s)
    )
    runs = [r for r in all_runs if len(r) >= params.min_transitions]
    short = [r for r in all_runs if len(r) < params.min_transitions]
    options = [fitting.candidates(r, demo, rounds["round_num"].to_list(), found.fps) for r in runs]
    kept = [(r, o) for r, o in zip(runs, options, strict=True) if o]
    segments: list[fitting.SegmentFit] = []
    if kept:
        seen = [
            {left + right + 1 for f, left, right in found.scores if r[0].frame <= f <= r[-1].frame}
            for r, _ in kept
        ]
        stretches = fitting.blank_stretches(found.readings, found.bomb_icon, found.fps, params.cut_blank_s)
        cuts = fitting.cuts_between([r for r, _ in kept], stretches)
        chosen = fitting.assign([o for _, o in kept], seen, cuts)
        segments = fitting.fit([r for r, _ in kept], chosen, found.fps, params)
        segments = fitting.rescue_short_runs(segments, short, demo, found.fps)
        segments = fitting.extend_stopped_clock(
            segments,
            {c.round_num: c for c in clocks},
            {r: sorted(t) for r, t in steps.items()},
            found.cuts,
            found.readings,
            found.bomb_icon,
            found.fps,
            params.max_extrapolate_s,
            found.duration_s,
        )
    else:
        log.warning(
            "%s: no readable, running HUD timer found with timer_crop %s: nothing to sync (%s)",
            video,
            [round(v, 4) for v in timer.box],
            _suggest_crop(video, params, round(round_time_s)) if timer.chosen_by == "params" else "auto",
        )
    return SyncResult(
        match_dir.name, video, found, segments, timer, _refused(found, segments), time.perf_counter() - start
    )


def _suggest_crop(video: Path, params: SyncParams, round_time_s: int) -> str:
    """What :mod:`chimera.sync.locate` finds in ``video`` instead of a fixed box, said as a params line."""
    try:
        found = timer_box(video, params.model_copy(update={"timer_crop": "auto"}), round_time_s)
    except VideoError as err:  # the scan decoded it; seeking into it may still fail (a truncated file)
        return f"no timer search possible: {err.reason}"
    if found.chosen_by == "none":
        return "no box in the top band counts down either"
    return f"a box that counts down: timer_crop: {[round(v, 4) for v in found.box]}"


NO_DIGITS = "no timer digits (pre-show, replay, desk, or bomb planted)"
FROZEN = "timer frozen (pause, round over, or replay)"
RUNNING = "clock running but too few clean transitions (or no round matches)"
FROZEN_AFTER_S = 1.5  # one value shown this long: the clock stands still (a running one changes each second)


def _refused(found: Scan, segments: list[fitting.SegmentFit]) -> list[dict]:
    """The stretches of video not covered by a segment, each with why (from what the timer showed there).

    A gap between segments is cut where what the timer shows changes kind (no digits, one value standing
    still, a running clock), so a replay, a desk shot and a pause in one gap get a reason each."""
    covered = sorted((s.video_start, s.video_end) for s in segments)
    gaps, cursor = [], 0.0
    for a, b in covered:
        if a - cursor > 1.0:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if found.duration_s - cursor > 1.0:
        gaps.append((cursor, found.duration_s))
    out: list[dict] = []
    for a, b in gaps:
        reads = [(f / found.fps, v) for f, v in found.readings if a <= f / found.fps <= b]
        for start, end, reason in _stretches(reads, a, b):
            if out and out[-1]["reason"] == reason and abs(out[-1]["video_end"] - start) < 1e-9:
                out[-1]["video_end"] = end
            else:
                out.append({"video_start": start, "video_end": end, "reason": reason})
    return out


def _stretches(reads: list[tuple[float, int | None]], a: float, b: float) -> list[tuple[float, float, str]]:
    """``reads`` (time, value) of the gap (a, b) as stretches of one kind: runs of one value (or of none)
    are no digits, frozen (longer than :data:`FROZEN_AFTER_S`) or running; a stretch under a second joins
    the one before it (the first, the one after it)."""
    runs: list[list] = []  # [start, last read time, value]
    for t, v in reads:
        if runs and runs[-1][2] == v:
            runs[-1][1] = t
        else:
            runs.append([t, t, v])
    kinds = []
    for i, (start, last, value) in enumerate(runs):
        end = runs[i + 1][0] if i + 1 < len(runs) else b
        kind = NO_DIGITS if value is None else FROZEN if last - start >= FROZEN_AFTER_S else RUNNING
        kinds.append([a if i == 0 else start, end, kind])
    merged: list[list] = []
    for start, end, kind in kinds:
        if merged and (merged[-1][2] == kind or end - start < 1.0):
            merged[-1][1] = end
        else:
            merged.append([start, end, kind])
    if len(merged) > 1 and merged[0][1] - merged[0][0] < 1.0:  # a short first stretch joins the next
        first = merged.pop(0)
        merged[0][0] = first[0]
    return [tuple(m) for m in merged] or [(a, b, NO_DIGITS)]


def evaluate(
    result: SyncResult, truth_path: Path, match_dir: Path, round_time_s: float, step_s: float = 0.2
) -> dict:
    """Errors of the fitted mapping against the renderer's truth, on a grid of video times."""
    truth = timeline.load_truth(truth_path)
    segments = truth.segments
    errors, bad_kind = [], 0
    by_kind = {k: 0 for k in (timeline.PRESHOW, timeline.PAUSE, timeline.REPLAY, timeline.BREAK)}
    for seg in result.segments:
        for t in np.arange(seg.video_start, seg.video_end, step_s):
            true = timeline.locate(segments, float(t))
            if true.kind != timeline.LIVE:
                bad_kind += 1
                by_kind[true.kind] = by_kind.get(true.kind, 0) + 1
                continue
            errors.append(abs(seg.tick(float(t)) - true.tick_at(float(t))) / TICK_RATE * 1000)
    clocks = round_clocks(
        pl.read_parquet(match_dir / "rounds.parquet"),
        pl.read_parquet(match_dir / "bomb.parquet"),
        round_time_s,
    )
    shown, read = 0, 0
    for f, value in result.scan.readings:
        t = f / result.scan.fps
        true = timeline.locate(segments, t)
        if true.kind in (timeline.LIVE, timeline.PAUSE):
            tick = true.tick_at(t)
            if display_at(clocks, tick).seconds is not None:
                shown += 1
                read += value is not None
    offsets = [abs(s.offset - _true_offset(segments, s)) * 1000 for s in result.segments]
    return {
        "hud_style": truth.hud_style,
        "errors_ms": errors,
        "bad_kind": bad_kind,  # grid points of fitted segments on footage that is not live play
        "bad_kinds": by_kind,  # ... by the kind of footage (pre-show, pause, replay, break)
        "shown": shown,
        "read": read,
        "offset_errors_ms": offsets,
    }


def _true_offset(segments: list[timeline.Segment], seg: fitting.SegmentFit) -> float:
    """The true b of the segment's middle: video time minus demo time there."""
    t = (seg.video_start + seg.video_end) / 2
    return t - seg.scale * timeline.locate(segments, t).tick_at(t) / TICK_RATE


def run(
    params: SyncParams,
    parsed_dir: Path,
    out_dir: Path,
    metrics_path: Path,
    residuals_path: Path,
    round_time_s: float,
) -> list[SyncResult]:
    """Sync each ``<match>.mp4`` in ``params.vod_dir`` against ``parsed_dir/<match>``; write outs, metrics.

    A video that cannot be decoded, or named after no parsed match, is logged and skipped (and listed in
    the metrics); :class:`SyncError` when no video at all was synced, and then nothing is written.
    """
    vod_dir = Path(params.vod_dir)
    videos = sorted(vod_dir.glob("*.mp4"))
    results, evals = [], []
    skipped: list[dict] = []  # {"video", "reason"}: could not be decoded
    unmatched: list[str] = []  # named after no parsed match
    matched = []
    for video in videos:
        if (parsed_dir / video.stem).is_dir():
            matched.append(video)
        else:
            log.warning(
                "%s: skipped (no parsed match %s: name the video after one)", video, parsed_dir / video.stem
            )
            unmatched.append(str(video))
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        jobs = [(v, parsed_dir / v.stem, params, round_time_s) for v in matched]
        with process_pool(params.workers) as pool:
            outcomes = list(pool.map(_sync_one, jobs))
        for video, (result, reason) in zip(matched, outcomes, strict=True):
            match_dir = parsed_dir / video.stem
            if result is None:
                log.error("%s: skipped (%s)", video, reason)
                skipped.append({"video": str(video), "reason": reason})
                continue
            (tmp / f"{video.stem}.json").write_text(json.dumps(result.as_json(), indent=1) + "\n")
            log.info(
                "%s: %d segments, %.0fx real time",
                video.name,
                len(result.segments),
                result.scan.duration_s / result.wall_s,
            )
            results.append(result)
            truth = video.with_suffix(".truth.json")
            if truth.exists():
                evals.append(evaluate(result, truth, match_dir, round_time_s))
        if not results:
            raise SyncError(_nothing_synced(vod_dir, parsed_dir, videos, unmatched, skipped))
    write_json(metrics_path, metrics(results, evals, skipped, unmatched))
    rows = [
        (r.match, t, e)
        for r in results
        for s in r.segments
        for t, e in zip(s.video_times, s.residuals_ms, strict=True)
    ]
    with atomic_path(residuals_path) as tmp:
        pl.DataFrame(
            rows, schema={"match": pl.String, "video_s": pl.Float64, "residual_ms": pl.Float64}, orient="row"
        ).write_csv(tmp)
    return results


def _sync_one(job: tuple) -> tuple[SyncResult | None, str | None]:
    """One video in a worker process: its result, or None and why it could not be decoded."""
    video, match_dir, params, round_time_s = job
    try:
        return sync_video(video, match_dir, params, round_time_s), None
    except VideoError as err:
        return None, err.reason


def _nothing_synced(
    vod_dir: Path, parsed_dir: Path, videos: list[Path], unmatched: list[str], skipped: list[dict]
) -> str:
    """One line: what was looked for, where, and why each video found was not synced."""
    matches = sorted(p.name for p in parsed_dir.iterdir() if p.is_dir()) if parsed_dir.is_dir() else []
    names = [f"{m}.mp4" for m in matches[:SHOWN_NAMES]] + (["..."] if len(matches) > SHOWN_NAMES else [])
    wanted = (
        f"looked for <match>.mp4 for the {len(matches)} parsed matches in {parsed_dir}: {', '.join(names)}"
        if matches
        else f"there are no parsed matches in {parsed_dir} to sync against"
    )
    if not videos:
        return f"nothing synced: no .mp4 videos in {vod_dir} (sync.vod_dir); {wanted}"
    why = []
    if unmatched:
        why.append("named after no parsed match: " + ", ".join(Path(v).name for v in unmatched))
    if skipped:
        why.append("not decodable: " + "; ".join(f"{Path(s['video']).name} ({s['reason']})" for s in skipped))
    found = f"the {len(videos)} .mp4 videos in {vod_dir} (sync.vod_dir)"
    return f"nothing synced from {found}: {'; '.join(why)}; {wanted}"


def accuracy(evals: Sequence[dict]) -> dict:
    """SPEC §6's sync figures over ``evals`` (the :func:`evaluate` of some videos)."""
    errors = np.array([e for ev in evals for e in ev["errors_ms"]])
    shown = sum(ev["shown"] for ev in evals)
    return {
        "median_abs_error_ms": float(np.median(errors)) if errors.size else None,
        "p95_abs_error_ms": float(np.percentile(errors, 95)) if errors.size else None,
        "frac_pairs_within_500ms": float((errors <= 500).mean()) if errors.size else None,
        "pairs_from_replay_or_pause": int(sum(ev["bad_kind"] for ev in evals)),  # or break or pre-show
        "ocr_read_rate": sum(ev["read"] for ev in evals) / shown if shown else None,
    }


def metrics(
    results: list[SyncResult],
    evals: list[dict],
    skipped: Sequence[dict] = (),
    unmatched: Sequence[str] = (),
) -> dict:
    """The error figures (against truth sidecars) overall and per HUD style, the real-time factor, and
    what each video gave: its timer box and layout, frames, skips, short decodes."""
    videos = [
        {
            "match": r.match,
            "video": str(r.video),
            "timer_crop": [round(v, 4) for v in r.timer.box],
            "layout": r.timer.layout,
            "timer_chosen_by": r.timer.chosen_by,
            "find_s": round(r.timer.find_s, 2),
            "frames_declared": r.scan.frames_declared,
            "frames_in_file": r.scan.frames,
            "frames_decoded": r.scan.decoded,  # keyframes + the GOPs planned (sync.decode)
            "gops": r.scan.plan,
            "realtime_factor": round(r.scan.duration_s / r.wall_s, 1),
        }
        for r in results
    ]
    readings = [v for r in results for _, v in r.scan.readings]
    video_s = sum(r.scan.duration_s for r in results)
    wall_s = sum(r.wall_s for r in results)
    overall = accuracy(evals)
    if overall["ocr_read_rate"] is None and readings:  # no truth: the share of reads that gave a value
        overall["ocr_read_rate"] = sum(v is not None for v in readings) / len(readings)
    styles = sorted({ev["hud_style"] for ev in evals})
    return {
        **overall,
        "pairs_from_kind": {
            kind: int(sum(ev.get("bad_kinds", {}).get(kind, 0) for ev in evals))
            for kind in (timeline.PRESHOW, timeline.PAUSE, timeline.REPLAY, timeline.BREAK)
        },
        "by_style": {s: accuracy([ev for ev in evals if ev["hud_style"] == s]) for s in styles},
        "video_fps": results[0].scan.fps if results else None,
        "realtime_factor": video_s / wall_s if wall_s else None,
        "videos_synced": len(results),
        "videos": videos,
        "short_decodes": [
            {k: v[k] for k in ("video", "frames_declared", "frames_in_file")}
            for v, r in zip(videos, results, strict=True)
            if r.scan.short
        ],
        "skipped": list(skipped),
        "unmatched": list(unmatched),
    }
