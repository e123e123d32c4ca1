"""One video: its sampled frames decoded (only the GOPs that hold one, each up to its last one), every
sampled frame turned into a :class:`Pair` or counted as skipped."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
from tqdm import tqdm

from chimera.config import PairsLayout, PairsParams, SyncParams
from chimera.gamestate import game_state, unknown_fields
from chimera.pairs.hud import HudReader
from chimera.pairs.sampling import Segment, frame_targets, sample_times, segment_tick
from chimera.pairs.states import States, resolve_player
from chimera.sync.scan import VideoError, frames_at, open_video, video_fps
from chimera.tables import TICK_RATE

log = logging.getLogger(__name__)

UNRESOLVED, NOT_STABLE, NO_STATE, NOT_DECODED = (
    "player unresolved",
    "state not stable",
    "no state",
    "frame not decoded",
)
SKIP_REASONS: tuple[str, ...] = (UNRESOLVED, NOT_STABLE, NO_STATE, NOT_DECODED)
TICK_MARGIN_S = 10.0  # state rows kept around the synced ticks (covers the stability window)


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
    unknown: list[str]  # SPEC §5: the game_state fields scoring must skip (null elsewhere is a value)
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
            "unknown": self.unknown,
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


def pair_video(
    video: Path,
    match_dir: Path,
    segments: Sequence[Segment],
    layout: PairsLayout,
    params: PairsParams,
    sync: SyncParams,
    frames_dir: Path,
    image_root: Path,
) -> VideoResult:
    """Every pair of one video, its HUD panel read in ``layout``; images go to ``frames_dir`` and are
    named under ``image_root`` in rows."""
    start = time.perf_counter()
    match = match_dir.name
    out = VideoResult(match, video)
    if not segments:
        log.warning("%s: no synced segments, no pairs", video)
        return out
    p = params
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
    hud = HudReader(layout, sync)
    try:
        container, stream = open_video(video)
    except VideoError as err:
        log.error("%s, no pairs", err)
        return out
    with container:
        targets = frame_targets(samples, video_fps(stream))
    out.sampled = len(targets)
    frames_dir.mkdir(parents=True, exist_ok=True)
    ext = p.image_format
    write_opts = [cv2.IMWRITE_JPEG_QUALITY, p.jpeg_quality] if ext == "jpg" else []
    done: set[int] = set()
    f = -1
    bar = tqdm(total=len(targets), desc=f"pairs {match}", unit="frame", mininterval=5, leave=False)
    try:
        for f, frame in frames_at(video, targets):
            bar.update(1)
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
                    unknown_fields(row, params.not_shown),
                    str(image_root / name),
                    how,
                )
            )
    except (av.error.FFmpegError, VideoError) as err:
        log.error("%s: decoding stopped after frame %d (%s); pairs so far are kept", video, f, err)
    finally:
        bar.close()
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
