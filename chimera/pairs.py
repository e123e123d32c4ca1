"""The ``pairs`` stage: broadcast frames with the ground-truth ``game_state`` of the spectated player.

For every video that ``sync`` mapped to its demo, frames are sampled at ``pairs.fps`` strictly inside
the synced segments (the only stretches of video whose tick is trusted: running clock, no replay, no
pause). For each frame:

1. *tick*: ``(t - offset) / scale * 64`` of its segment;
2. *spectated player*: the HUD name box is read by OCR and matched to the match's ten players
   (``difflib``); the health/armor and money boxes are read too. Without a name match the frame goes to
   the unique alive player whose values at the tick are exactly those; a name match is overruled only
   when the values fit other players but not the named one. Otherwise the frame is skipped
   (``player unresolved``);
3. *label*: that player's :func:`chimera.gamestate.state_table` row at the latest snapshot at or before
   the tick, kept only when the whole state holds for ``± pairs.stable_window_s`` (SPEC §5).

Each video is decoded once (PyAV); only the frames nearest the sample times are converted and saved.
Pairs are split into train/val/test by (match, round), never by frame, from ``pairs.seed``.

The renderer's truth sidecar (``<match>.truth.json`` next to the video) is read only by
:func:`evaluate`, after every pair is decided: nothing in it flows into a pair.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import re
import string
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import polars as pl
from sklearn.utils import check_random_state
from tqdm import tqdm

from chimera.broadcast import timeline
from chimera.config import Params, SplitParams
from chimera.gamestate import game_state, stable, state_table
from chimera.io import atomic_path, write_json
from chimera.sim.maps import get_map
from chimera.sync.ocr import Reader, crop_box
from chimera.tables import TABLES, TICK_RATE

log = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "val", "test")
UNRESOLVED, NOT_STABLE, NO_STATE, NOT_DECODED = (
    "player unresolved",
    "state not stable",
    "no state",
    "frame not decoded",
)
SKIP_REASONS: tuple[str, ...] = (UNRESOLVED, NOT_STABLE, NO_STATE, NOT_DECODED)
NAME_CUTOFF = 0.6  # difflib ratio a read name must reach to count as a roster name
NAME_CHARS = string.ascii_letters + string.digits + "_-"
VITALS = re.compile(r"HP\s*([0-9O]{1,3})\s*AR\s*([0-9O]{1,3})")  # a lone 0 reads as O
MONEY = re.compile(r"\$\s*([0-9O]{1,5})")
TICK_MARGIN_S = 10.0  # state rows kept around the synced ticks (covers the stability window)

Segment = Mapping[str, Any]
"""One segment of a sync output: video_start, video_end, scale, offset, round_num, ..."""


class PairsError(RuntimeError):
    """Nothing to pair: the stage's inputs are missing."""


@dataclass(frozen=True)
class Pair:
    match: str
    map_name: str
    round_num: int
    frame: int
    video_time: float
    tick: float  # fitted, unrounded
    steamid: int
    name: str
    game_state: dict
    image: str
    resolved_by: str  # "name" | "vitals"

    def row(self) -> dict:
        return {
            "image": self.image,
            "match": self.match,
            "map": self.map_name,
            "round": self.round_num,
            "tick": round(self.tick),
            "video_time": self.video_time,
            "player": {"steamid": self.steamid, "name": self.name},
            "game_state": self.game_state,
        }


@dataclass
class VideoResult:
    match: str
    video: Path
    pairs: list[Pair] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    sampled: int = 0
    resolution: Counter = field(default_factory=Counter)  # how each frame's player was (not) found
    wall_s: float = 0.0


# -- sampling ------------------------------------------------------------------------------------------


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


# -- the spectated player ------------------------------------------------------------------------------


def _digits(text: str) -> int:
    return int(text.replace("O", "0"))


def parse_vitals(text: str) -> tuple[int, int] | None:
    """``"HP 76  AR 100"`` -> (76, 100); a lone zero read as the letter O counts as 0."""
    m = VITALS.search(text)
    return (_digits(m.group(1)), _digits(m.group(2))) if m else None


def parse_money(text: str) -> int | None:
    m = MONEY.search(text)
    return _digits(m.group(1)) if m else None


def match_name(text: str, roster: Mapping[str, int]) -> int | None:
    """Steamid of the roster name closest to the OCR'd ``text`` (case-insensitive); None if none or tied."""
    read = "".join(text.split()).lower()
    if not read:
        return None
    lower: dict[str, list[int]] = {}
    for name, sid in roster.items():
        lower.setdefault(name.lower(), []).append(sid)
    best = difflib.get_close_matches(read, list(lower), n=2, cutoff=NAME_CUTOFF)
    if not best or len(lower[best[0]]) > 1:
        return None
    if len(best) == 2:
        ratio = [difflib.SequenceMatcher(None, read, b).ratio() for b in best]
        if ratio[0] - ratio[1] < 1e-9:
            return None  # two names equally close: not decidable from the name
    return lower[best[0]][0]


def thinned(crop: np.ndarray, upscale: int) -> np.ndarray:
    """Upscaled, Otsu-binarised crop (dark text on white) with the text strokes eroded by a 3x3 step."""
    big = cv2.resize(crop, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
    _, binary = cv2.threshold(big, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if binary.mean() < 127:
        binary = 255 - binary
    return cv2.dilate(binary, np.ones((3, 3), np.uint8))


class HudReader:
    """OCR of the spectated player's HUD panel: name, health/armor, money."""

    def __init__(self, params: Params):
        sync, self.pairs = params.sync, params.pairs
        up = sync.upscale
        self.up = up
        self.name = Reader(sync.ocr_engine, sync.tessdata, up, whitelist=NAME_CHARS)
        self.thin_name = Reader(sync.ocr_engine, sync.tessdata, 1, whitelist=NAME_CHARS)
        # two scales for the short number reads: Tesseract drops a lone "0" at some scales
        self.vitals = [
            Reader(sync.ocr_engine, sync.tessdata, u, whitelist="HPARO0123456789 ") for u in (up, up + 1)
        ]
        self.money = [
            Reader(sync.ocr_engine, sync.tessdata, u, whitelist="$O0123456789") for u in (up, up + 1)
        ]

    @property
    def calls(self) -> int:
        return self.name.calls + self.thin_name.calls + sum(r.calls for r in (*self.vitals, *self.money))

    def read_names(self, gray: np.ndarray) -> Iterator[str]:
        """The name box read as is, then (lazily) with its strokes thinned.

        Bold HUD text at 720p merges narrow letters ("ii" in "mezii" becomes one block that Tesseract
        rejects); thinning the dark strokes of the upscaled binary image separates them again.
        """
        crop = crop_box(gray, self.pairs.name_crop)
        yield self.name.text(crop).strip()
        yield self.thin_name.text(thinned(crop, self.up)).strip()

    def read_values(self, gray: np.ndarray) -> tuple[int, int, int] | None:
        """(health, armor, money) as the HUD shows them, or None when any is unreadable."""
        vitals = money = None
        for reader in self.vitals:
            vitals = parse_vitals(reader.text(crop_box(gray, self.pairs.vitals_crop)))
            if vitals is not None:
                break
        if vitals is None:
            return None
        for reader in self.money:
            money = parse_money(reader.text(crop_box(gray, self.pairs.money_crop)))
            if money is not None:
                break
        return None if money is None else (*vitals, money)


# -- ground truth --------------------------------------------------------------------------------------


class States:
    """A match's state table with stability, looked up by (player, tick): latest row at or before it."""

    def __init__(self, match_dir: Path, header: dict, window_ticks: int, tick_range: tuple[float, float]):
        tables = {t: pl.read_parquet(match_dir / f"{t}.parquet") for t in TABLES}
        lo, hi = tick_range
        tables["ticks"] = tables["ticks"].filter(pl.col("tick").is_between(lo, hi))
        map_name = header["map_name"]
        try:
            graph = get_map(map_name)
        except KeyError:
            graph = None  # a real map the simulator has no graph of: site = place, visible_enemies null
        states = state_table(tables, map_name, graph)
        self.table = states.with_columns(stable(states, window_ticks)).with_row_index("_row")
        self._index: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for (sid,), part in self.table.select("steamid", "tick", "_row").group_by("steamid"):
            part = part.sort("tick")
            self._index[int(sid)] = (part["tick"].to_numpy(), part["_row"].to_numpy())

    def row(self, steamid: int, tick: float) -> dict | None:
        if steamid not in self._index:
            return None
        ticks, rows = self._index[steamid]
        k = int(np.searchsorted(ticks, tick, side="right")) - 1
        return None if k < 0 else self.table.row(int(rows[k]), named=True)


def showing(
    values: tuple[int, int, int] | None, roster: Mapping[str, int], states: States, tick: float
) -> list[int]:
    """The alive players whose (health, armor, money) at ``tick`` are exactly ``values``."""
    if values is None:
        return []
    rows = {sid: states.row(sid, tick) for sid in sorted(set(roster.values()))}
    return [
        sid
        for sid, row in rows.items()
        if row is not None
        and row["player_health"] > 0
        and (row["player_health"], row["player_armor"], row["player_money"]) == values
    ]


def resolve_player(
    hud: HudReader, gray: np.ndarray, roster: Mapping[str, int], states: States, tick: float
) -> tuple[int | None, str]:
    """(steamid, how) of the spectated player; how is ``name``, ``vitals`` or why it is unresolved.

    The name read decides unless the HUD's health, armor and money are readable and fit other alive
    players but not the named one (a misread name matched to the wrong roster entry). Without a name,
    the unique alive player showing those values is the one.
    """
    named = next(
        (sid for text in hud.read_names(gray) if (sid := match_name(text, roster)) is not None), None
    )
    values = hud.read_values(gray)
    fits = showing(values, roster, states, tick)
    if named is not None and (not fits or named in fits):
        return named, "name"
    if len(fits) == 1:
        return fits[0], "vitals" if named is None else "vitals over name"
    if named is not None:
        return None, "name contradicted"
    if values is None:
        return None, "no name, values unread"
    return None, "no name, values fit several" if fits else "no name, values fit nobody"


# -- one video -----------------------------------------------------------------------------------------


def pair_video(
    video: Path,
    match_dir: Path,
    segments: Sequence[Segment],
    params: Params,
    frames_dir: Path,
    image_root: Path,
) -> VideoResult:
    """Every pair of one video; images go to ``frames_dir`` and are named under ``image_root`` in rows."""
    start = time.perf_counter()
    match = match_dir.name
    out = VideoResult(match, video)
    if not segments:
        log.warning("%s: no synced segments, no pairs", video)
        return out
    p = params.pairs
    header = json.loads((match_dir / "header.json").read_text())
    roster = {player["name"]: int(player["steamid"]) for player in header["players"]}
    samples = sample_times(segments, p.fps)
    ticks = [segment_tick(seg, t) for t, seg in samples]
    margin = TICK_MARGIN_S * TICK_RATE
    states = States(
        match_dir,
        header,
        round(p.stable_window_s * TICK_RATE),
        (min(ticks, default=0) - margin, max(ticks, default=0) + margin),
    )
    hud = HudReader(params)
    try:
        container = av.open(str(video))
        stream = container.streams.video[0]
    except (av.error.FFmpegError, IndexError, OSError) as err:
        log.error("%s: not a readable video (%s), no pairs", video, err)
        return out
    stream.thread_type = "AUTO"
    video_fps = float(stream.average_rate or stream.guessed_rate or 30)
    targets = frame_targets(samples, video_fps)
    out.sampled = len(targets)
    last = max(targets, default=-1)
    frames_dir.mkdir(parents=True, exist_ok=True)
    ext = p.image_format
    write_opts = [cv2.IMWRITE_JPEG_QUALITY, p.jpeg_quality] if ext == "jpg" else []
    done: set[int] = set()
    f = -1
    bar = tqdm(total=last + 1, desc=f"pairs {match}", unit="frame", mininterval=5, leave=False)
    try:
        for f, frame in enumerate(container.decode(stream)):
            bar.update(1)
            if f > last:
                break
            if f not in targets:
                continue
            done.add(f)
            t, seg = targets[f]
            tick = segment_tick(seg, t)
            bgr = frame.to_ndarray(format="bgr24")
            gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            sid, how = resolve_player(hud, gray, roster, states, tick)
            out.resolution[how] += 1
            if sid is None:
                out.skipped[UNRESOLVED] += 1
                continue
            row = states.row(sid, tick)
            if row is None:
                out.skipped[NO_STATE] += 1
                continue
            if not row["stable"]:
                out.skipped[NOT_STABLE] += 1
                continue
            name = f"{f:06d}.{ext}"
            cv2.imwrite(str(frames_dir / name), bgr, write_opts)
            out.pairs.append(
                Pair(
                    match,
                    header["map_name"],
                    int(row["round_num"] if row["round_num"] is not None else seg["round_num"]),
                    f,
                    t,
                    tick,
                    sid,
                    row["name"],
                    game_state(row).model_dump(mode="json"),
                    str(image_root / name),
                    how,
                )
            )
    except av.error.FFmpegError as err:
        log.error("%s: decoding stopped after frame %d (%s); pairs so far are kept", video, f, err)
    finally:
        bar.close()
        container.close()
    if len(done) < len(targets):
        out.skipped[NOT_DECODED] += len(targets) - len(done)
    out.wall_s = time.perf_counter() - start
    log.info(
        "%s: %d pairs from %d sampled frames, player %s, skipped %s, %.1f s, %d OCR reads",
        video.name,
        len(out.pairs),
        out.sampled,
        dict(out.resolution),
        dict(out.skipped) or "none",
        out.wall_s,
        hud.calls,
    )
    return out


# -- splits --------------------------------------------------------------------------------------------


def split_counts(n: int, split: SplitParams) -> dict[str, int]:
    """Units per split: rounded fractions; with >= 3 units every split with a positive fraction gets one."""
    val = round(n * split.val)
    test = round(n * split.test)
    if n >= 3:
        val, test = max(val, 1 if split.val > 0 else 0), max(test, 1)
    while n - val - test < min(n, 1):  # train keeps at least one unit
        if val >= test and val > 0:
            val -= 1
        else:
            test -= 1
    return {"train": n - val - test, "val": val, "test": test}


def assign_splits(
    units: Iterable[tuple[str, int]], split: SplitParams, seed: int
) -> dict[tuple[str, int], str]:
    """(match, round) -> split: a seeded permutation of the sorted units cut by the fractions."""
    ordered = sorted(set(units))
    counts = split_counts(len(ordered), split)
    order = check_random_state(seed).permutation(len(ordered))
    names = [s for s in SPLITS for _ in range(counts[s])]
    return {ordered[i]: names[k] for k, i in enumerate(order)}


# -- evaluation (the only reader of the truth sidecar) -------------------------------------------------


def evaluate(pairs: Sequence[Pair], truth_path: Path) -> dict:
    """Against the renderer's truth: spectated player right?, footage kind, tick error (ms)."""
    truth = json.loads(truth_path.read_text())
    segments = [timeline.Segment(**s) for s in truth["segments"]]
    shots = truth["shots"]
    correct, bad_kind, errors = 0, 0, []
    for p in pairs:
        shot = next((s for s in shots if s["video_start"] <= p.video_time < s["video_end"]), None)
        correct += shot is not None and int(shot["steamid"]) == p.steamid
        seg = timeline.locate(segments, p.video_time)
        if seg.kind != timeline.LIVE:
            bad_kind += 1
        else:
            errors.append(abs(p.tick - seg.tick_at(p.video_time)) / TICK_RATE * 1000)
    return {"n": len(pairs), "correct": correct, "bad_kind": bad_kind, "errors_ms": errors}


# -- the stage -----------------------------------------------------------------------------------------


def _relative(path: Path) -> Path:
    """``path`` relative to the working directory (the repo root for a stage) when it lies under it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def load_segments(sync_path: Path) -> list[dict] | None:
    """The segments of a sync output; None (logged) when the file is missing or unreadable."""
    if not sync_path.exists():
        return None
    try:
        return list(json.loads(sync_path.read_text() or "{}").get("segments", []))
    except (json.JSONDecodeError, AttributeError) as err:
        log.warning("%s: not a sync output (%s), treated as no segments", sync_path, err)
        return []


def run(
    params: Params, parsed_dir: Path, vod_dir: Path, sync_dir: Path, out_dir: Path, metrics_path: Path
) -> dict:
    """Pair every synced video; write ``out_dir/{train,val,test}.jsonl`` and frames, and the metrics."""
    videos = sorted(Path(vod_dir).glob("*.mp4"))
    if not videos:
        raise PairsError(f"{vod_dir}: no .mp4 broadcast videos to pair")
    if not Path(sync_dir).is_dir():
        raise PairsError(f"{sync_dir}: no sync output (run the sync stage first)")
    results: list[VideoResult] = []
    evals: list[dict] = []
    missing_sync = 0
    image_root = _relative(Path(out_dir)) / "frames"
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for video in videos:
            match_dir = Path(parsed_dir) / video.stem
            if not match_dir.is_dir():
                log.error("skipping %s: no parsed match %s (name the video after it)", video, match_dir)
                continue
            segments = load_segments(Path(sync_dir) / f"{video.stem}.json")
            if segments is None:
                log.error("skipping %s: no sync output %s", video, Path(sync_dir) / f"{video.stem}.json")
                missing_sync += 1
                continue
            result = pair_video(
                video, match_dir, segments, params, tmp / "frames" / video.stem, image_root / video.stem
            )
            results.append(result)
            truth = video.with_suffix(".truth.json")
            if truth.exists() and result.pairs:
                evals.append(evaluate(result.pairs, truth))
        pairs = [p for r in results for p in r.pairs]
        splits = assign_splits({(p.match, p.round_num) for p in pairs}, params.pairs.split, params.pairs.seed)
        rows: dict[str, list[Pair]] = {s: [] for s in SPLITS}
        for p in sorted(pairs, key=lambda p: (p.match, p.round_num, p.frame)):
            rows[splits[(p.match, p.round_num)]].append(p)
        for s in SPLITS:
            (tmp / f"{s}.jsonl").write_text("".join(json.dumps(p.row()) + "\n" for p in rows[s]))
    out = metrics(results, evals, {s: len(rows[s]) for s in SPLITS}, missing_sync)
    write_json(metrics_path, out)
    if not pairs:
        log.warning("no pairs at all from %d videos in %s", len(videos), vod_dir)
    return out


def metrics(results: list[VideoResult], evals: list[dict], counts: dict[str, int], missing_sync: int) -> dict:
    skipped = Counter(dict.fromkeys(SKIP_REASONS, 0))
    for r in results:
        skipped.update(r.skipped)
    per_map = Counter(p.map_name for r in results for p in r.pairs)
    judged = sum(e["n"] for e in evals)
    errors = np.array([x for e in evals for x in e["errors_ms"]])
    return {
        **counts,
        "per_map": dict(sorted(per_map.items())),
        "per_match": {r.match: len(r.pairs) for r in results},
        "sampled": sum(r.sampled for r in results),
        "skipped": dict(skipped),
        "player_resolution": dict(sorted(sum((r.resolution for r in results), Counter()).items())),
        "videos_without_sync": missing_sync,
        "videos_without_segments": sum(1 for r in results if r.sampled == 0),
        "player_correct_rate": sum(e["correct"] for e in evals) / judged if judged else None,
        "pairs_from_replay_or_pause": int(sum(e["bad_kind"] for e in evals)),
        "median_tick_error_ms": float(np.median(errors)) if errors.size else None,
        "p95_tick_error_ms": float(np.percentile(errors, 95)) if errors.size else None,
    }
