"""The stage: pair every synced video, split, write the outs; then the truth evaluation and the metrics."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chimera.broadcast import timeline
from chimera.config import PairsParams, SyncParams
from chimera.errors import ChimeraError
from chimera.io import atomic_path, write_json
from chimera.pairs.split import SPLITS, assign_splits, check_held_out
from chimera.pairs.video import SKIP_REASONS, Pair, VideoResult, pair_video
from chimera.runtime import process_pool
from chimera.tables import TICK_RATE

log = logging.getLogger(__name__)


class PairsError(ChimeraError, RuntimeError):
    """Nothing to pair: the stage's inputs are missing."""


def _relative(path: Path) -> Path:
    """``path`` relative to the working directory (the repo root for a stage) when it lies under it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def load_sync(sync_path: Path) -> tuple[list[dict], str | None] | None:
    """(segments, HUD layout) of a sync output; None when the file is missing, no segments (logged)
    when it is unreadable."""
    if not sync_path.exists():
        return None
    try:
        data = json.loads(sync_path.read_text() or "{}")
        return list(data.get("segments", [])), data.get("layout")
    except (json.JSONDecodeError, AttributeError) as err:
        log.warning("%s: not a sync output (%s), treated as no segments", sync_path, err)
        return [], None


def run(
    params: PairsParams,
    sync: SyncParams,
    parsed_dir: Path,
    vod_dir: Path,
    sync_dir: Path,
    out_dir: Path,
    metrics_path: Path,
) -> dict:
    """Pair every synced video; write ``out_dir/{train,val,test}.jsonl`` and frames, and the metrics.

    ``sync`` gives the OCR engine and its upscale for the HUD reads.
    """
    videos = sorted(Path(vod_dir).glob("*.mp4"))
    if not videos:
        raise PairsError(f"{vod_dir}: no .mp4 broadcast videos to pair")
    if not Path(sync_dir).is_dir():
        raise PairsError(f"{sync_dir}: no sync output (run the sync stage first)")
    parsed = [Path(parsed_dir) / v.stem for v in videos if (Path(parsed_dir) / v.stem).is_dir()]
    check_held_out(params.split, {d.name: _map_of(d) for d in parsed})
    evals: list[dict] = []
    missing_sync, unknown_layout = 0, []
    image_root = _relative(Path(out_dir)) / "frames"
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        jobs = []
        for video in videos:
            match_dir = Path(parsed_dir) / video.stem
            if not match_dir.is_dir():
                log.error("skipping %s: no parsed match %s (name the video after it)", video, match_dir)
                continue
            synced = load_sync(Path(sync_dir) / f"{video.stem}.json")
            if synced is None:
                log.error("skipping %s: no sync output %s", video, Path(sync_dir) / f"{video.stem}.json")
                missing_sync += 1
                continue
            segments, layout = synced
            if segments and layout not in params.layouts:
                log.error(
                    "skipping %s: its HUD (sync found the timer in layout %s) has no player-panel boxes in "
                    "pairs.layouts (%s)",
                    video,
                    layout,
                    ", ".join(params.layouts),
                )
                unknown_layout.append(str(video))
                continue
            frames = (tmp / "frames" / video.stem, image_root / video.stem)
            panel = params.layouts.get(layout, next(iter(params.layouts.values())))
            jobs.append((video, match_dir, segments, panel, params, sync, *frames))
        with process_pool(params.workers) as pool:
            results = list(pool.map(_pair_one, jobs))
        for result in results:
            truth = result.video.with_suffix(".truth.json")
            if truth.exists() and result.pairs:
                evals.append(evaluate(result.pairs, truth))
        pairs = [p for r in results for p in r.pairs]
        splits = assign_splits({(p.match, p.round_num) for p in pairs}, params.split, params.seed)
        rows: dict[str, list[Pair]] = {s: [] for s in SPLITS}
        for p in sorted(pairs, key=lambda p: (p.match, p.round_num, p.frame)):
            rows[splits[(p.match, p.round_num)]].append(p)
        for s in SPLITS:
            (tmp / f"{s}.jsonl").write_text("".join(json.dumps(p.row()) + "\n" for p in rows[s]))
    out = metrics(results, evals, rows, missing_sync, unknown_layout)
    write_json(metrics_path, out)
    if not pairs:
        log.warning("no pairs at all from %d videos in %s", len(videos), vod_dir)
    return out


def _pair_one(job: tuple) -> VideoResult:
    """One video in a worker process (frames are written straight into the stage's temporary output)."""
    return pair_video(*job)


# -- evaluation (the only reader of the truth sidecar) -------------------------------------------------


def evaluate(pairs: Sequence[Pair], truth_path: Path) -> dict:
    """Against the renderer's truth: spectated player right?, footage kind, tick error (ms)."""
    truth = timeline.load_truth(truth_path)
    correct, bad_kind, errors = 0, 0, []
    for p in pairs:
        shot = truth.shot_at(p.video_time)
        correct += shot is not None and int(shot["steamid"]) == p.steamid
        seg = timeline.locate(truth.segments, p.video_time)
        if seg.kind != timeline.LIVE:
            bad_kind += 1
        else:
            errors.append(abs(p.tick - seg.tick_at(p.video_time)) / TICK_RATE * 1000)
    return {
        "hud_style": truth.hud_style,
        "n": len(pairs),
        "correct": correct,
        "bad_kind": bad_kind,
        "errors_ms": errors,
    }


def _map_of(match_dir: Path) -> str:
    """The map a parsed match is played on, from its ``header.json``."""
    try:
        return json.loads((match_dir / "header.json").read_text())["map_name"]
    except (OSError, ValueError, KeyError) as err:
        raise PairsError(f"{match_dir}: no readable parsed match header ({err})") from None


def split_counts(rows: dict[str, list[Pair]]) -> dict:
    """Frames, rounds and matches per split, the test split's rounds per map, and every split's rounds
    by name (``match#round``), so the split on record can be checked (SPEC §3, §10)."""
    out: dict = {s: len(rows[s]) for s in SPLITS}
    for s in SPLITS:
        out[f"{s}_rounds"] = len({(p.match, p.round_num) for p in rows[s]})
        out[f"{s}_matches"] = len({p.match for p in rows[s]})
    per_map = Counter(m for m, _ in {(p.map_name, (p.match, p.round_num)) for p in rows["test"]})
    out["test_rounds_per_map"] = dict(sorted(per_map.items()))
    out["rounds"] = {s: sorted({f"{p.match}#{p.round_num}" for p in rows[s]}) for s in SPLITS}
    return out


def accuracy(evals: Sequence[dict]) -> dict:
    """SPEC §6's pairs figures over ``evals`` (the :func:`evaluate` of some videos)."""
    judged = sum(e["n"] for e in evals)
    errors = np.array([x for e in evals for x in e["errors_ms"]])
    return {
        "player_correct_rate": sum(e["correct"] for e in evals) / judged if judged else None,
        "pairs_from_replay_or_pause": int(sum(e["bad_kind"] for e in evals)),
        "median_tick_error_ms": float(np.median(errors)) if errors.size else None,
        "p95_tick_error_ms": float(np.percentile(errors, 95)) if errors.size else None,
    }


def metrics(
    results: list[VideoResult],
    evals: list[dict],
    rows: dict[str, list[Pair]],
    missing_sync: int,
    unknown_layout: Sequence[str] = (),
) -> dict:
    skipped = Counter(dict.fromkeys(SKIP_REASONS, 0))
    for r in results:
        skipped.update(r.skipped)
    per_map = Counter(p.map_name for r in results for p in r.pairs)
    styles = sorted({e["hud_style"] for e in evals})
    return {
        **split_counts(rows),
        "per_map": dict(sorted(per_map.items())),
        "per_match": {r.match: len(r.pairs) for r in results},
        "sampled": sum(r.sampled for r in results),
        "skipped": dict(skipped),
        "player_resolution": dict(sorted(sum((r.resolution for r in results), Counter()).items())),
        "videos_without_sync": missing_sync,
        "videos_without_segments": sum(1 for r in results if r.sampled == 0),
        "videos_without_panel_layout": list(unknown_layout),
        **accuracy(evals),
        "by_style": {
            s: {"pairs": sum(e["n"] for e in evals if e["hud_style"] == s)}
            | accuracy([e for e in evals if e["hud_style"] == s])
            for s in styles
        },
    }
