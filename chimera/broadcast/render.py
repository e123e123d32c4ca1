"""Render one parsed match as a broadcast VOD (H.264 through PyAV) plus the truth sidecar.

The sidecar (``<match>.truth.json``) records what only the renderer knows: the timeline segments
(pre-show length = the hidden start offset, clock drift, the tactical pause, replays) and every
observer shot with the spectated player and its image quality. Only evaluation code may read it.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import asdict
from pathlib import Path

import av
import cv2
import numpy as np
import polars as pl
from tqdm import tqdm

from chimera import names
from chimera.broadcast import timeline
from chimera.broadcast.hud import Card, Hud, HudView
from chimera.broadcast.observer import Director
from chimera.broadcast.scene import Scene
from chimera.clock import Display, RoundClock, display_at, round_clocks
from chimera.config import RenderParams
from chimera.gamestate import state_table
from chimera.io import atomic_path
from chimera.maps import get_map
from chimera.tables import SIDE_T, TABLES, TICK_RATE

log = logging.getLogger(__name__)
REPLAY_BANNER, PAUSE_BANNER = "REPLAY", "TACTICAL TIMEOUT"


class Footage:
    """One match's rendered rounds as per-snapshot arrays, so each frame is a few array lookups."""

    def __init__(self, match_dir: Path, params: RenderParams, round_time_s: float):
        self.header = json.loads((match_dir / "header.json").read_text())
        tables = {t: pl.read_parquet(match_dir / f"{t}.parquet") for t in TABLES}
        self.map_name = self.header["map_name"]
        self.graph = get_map(self.map_name)
        clocks = round_clocks(tables["rounds"], tables["bomb"], round_time_s)
        first = params.first_round - 1
        self.clocks: list[RoundClock] = clocks[first : first + params.round_count]
        if not self.clocks:
            raise ValueError(f"{match_dir}: no rounds from render.first_round={params.first_round}")
        lo, hi = self.clocks[0].start_tick - 64 * TICK_RATE, self.clocks[-1].end_tick + 16 * TICK_RATE
        ticks = tables["ticks"].filter(pl.col("tick").is_between(lo, hi))
        states = state_table({**tables, "ticks": ticks}, self.map_name, self.graph)
        self.teams = tuple(self.header["teams"])
        team_of = {p["steamid"]: p["team_clan_name"] for p in self.header["players"]}
        order = sorted(team_of, key=lambda sid: (self.teams.index(team_of[sid]), str(sid)))
        self.steamids, self.team = order, np.array([self.teams.index(team_of[s]) for s in order])
        wide = ticks.select("tick", "steamid", "x", "y", "health", "side", "has_bomb").join(
            states.drop("tick", "steamid").with_columns(ticks["tick"], ticks["steamid"]),
            on=["tick", "steamid"],
        )
        self.ticks = np.array(sorted(wide["tick"].unique()))
        index = {sid: j for j, sid in enumerate(order)}
        shape = (len(self.ticks), len(order))
        self.x, self.y = np.zeros(shape), np.zeros(shape)
        self.health, self.is_t, self.bomb = np.zeros(shape, int), np.zeros(shape, bool), np.zeros(shape, bool)
        self.rows: list[list[dict]] = [[{} for _ in order] for _ in self.ticks]
        k_of = {t: k for k, t in enumerate(self.ticks)}
        for row in wide.iter_rows(named=True):
            k, j = k_of[row["tick"]], index[row["steamid"]]
            self.x[k, j], self.y[k, j], self.health[k, j] = row["x"], row["y"], row["health"]
            self.is_t[k, j], self.bomb[k, j] = row["side"] == SIDE_T, bool(row["has_bomb"])
            self.rows[k][j] = row
        self.kills = tables["kills"].filter(pl.col("tick").is_between(lo, hi)).sort("tick")
        hits = tables["damages"].sort("tick")
        self.hit_ticks = hits["tick"].to_numpy()  # sorted: each frame looks up its window by bisection
        self.hit_players = list(zip(hits["attacker_steamid"], hits["victim_steamid"], strict=True))
        self.areas = [
            (s, e, x, y, True)
            for s, e, x, y in tables["smokes"].select("start_tick", "end_tick", "x", "y").rows()
        ]
        self.areas += [
            (s, e, x, y, False)
            for s, e, x, y in tables["fires"].select("start_tick", "end_tick", "x", "y").rows()
        ]
        self.round_wins = self._round_wins(tables["rounds"])

    def _round_wins(self, rounds: pl.DataFrame) -> list[tuple[int, int]]:
        """(end_tick, index of the winning team) for every round, from which side each team played."""
        wins = []
        for r in rounds.iter_rows(named=True):
            k = min(int(np.searchsorted(self.ticks, r["freeze_end_tick"])), len(self.ticks) - 1)
            t_team = self.team[self.is_t[k]][0] if self.is_t[k].any() else 0
            winner_is_t = r["winner_side"] == SIDE_T
            wins.append((r["end_tick"], int(t_team if winner_is_t else 1 - t_team)))
        return wins

    def index(self, tick: float) -> int:
        return max(0, min(int(np.searchsorted(self.ticks, tick, side="right")) - 1, len(self.ticks) - 1))

    def clock(self, tick: float) -> Display:
        return display_at(self.clocks, tick)

    def scores(self, tick: float) -> tuple[int, int]:
        won = [team for end, team in self.round_wins if end <= tick]
        return won.count(0), won.count(1)

    def action(self, tick: float, k: int) -> np.ndarray:
        """How much each player is in the fight now: enemies close by and damage just dealt or taken."""
        dx = self.x[k][:, None] - self.x[k][None, :]
        dy = self.y[k][:, None] - self.y[k][None, :]
        enemy = self.is_t[k][:, None] != self.is_t[k][None, :]
        alive = self.health[k] > 0
        close = ((np.hypot(dx, dy) < 1500) & enemy & alive[None, :]).sum(axis=1).astype(float)
        lo = np.searchsorted(self.hit_ticks, tick - 3 * TICK_RATE, side="left")
        hi = np.searchsorted(self.hit_ticks, tick, side="right")
        recent = {sid for pair in self.hit_players[lo:hi] for sid in pair}
        return close + 2.0 * np.array([sid in recent for sid in self.steamids])

    def killfeed(self, tick: float) -> list[str]:
        recent = self.kills.filter(pl.col("tick").is_between(tick - 5 * TICK_RATE, tick))
        lines = []
        for r in recent.iter_rows(named=True):
            weapon = names.display_name(r["weapon"]) or r["weapon"]
            lines.append(f"{r['attacker_name'] or 'world'}  {weapon}  {r['victim_name']}")
        return lines

    def view(self, tick: float, player: int, shot_kind: str) -> HudView:
        k = self.index(tick)
        cards = tuple(
            [
                Card(
                    self.rows[k][j].get("name", "?"),
                    "T" if self.is_t[k, j] else "CT",
                    int(self.health[k, j]),
                    bool(self.bomb[k, j]),
                )
                for j in range(len(self.steamids))
                if self.team[j] == team
            ]
            for team in (0, 1)
        )
        row = self.rows[k][player]
        banner = (
            PAUSE_BANNER
            if shot_kind == timeline.PAUSE
            else REPLAY_BANNER
            if shot_kind == timeline.REPLAY
            else None
        )
        return HudView(
            map_name=self.map_name,
            teams=self.teams,
            scores=self.scores(tick),
            timer=self.clock(tick),
            cards=cards,
            name=row.get("name"),
            side=row.get("player_side", "T"),
            health=row.get("player_health", 0),
            armor=row.get("player_armor", 0),
            money=row.get("player_money", 0),
            primary=row.get("weapon_primary"),
            secondary=row.get("weapon_secondary"),
            utility=list(row.get("utility") or []),
            place=row.get("site"),
            killfeed=self.killfeed(tick),
            banner=banner,
            show_timer=shot_kind != timeline.REPLAY,
        )

    def scene_inputs(self, tick: float, player: int) -> tuple[tuple[float, float], list, list]:
        k = self.index(tick)
        k1 = min(k + 1, len(self.ticks) - 1)
        span = max(self.ticks[k1] - self.ticks[k], 1)
        f = min(max((tick - self.ticks[k]) / span, 0.0), 1.0)
        x = self.x[k] + f * (self.x[k1] - self.x[k])
        y = self.y[k] + f * (self.y[k1] - self.y[k])
        dots = [
            (x[j], y[j], "T" if self.is_t[k, j] else "CT", j == player)
            for j in range(len(x))
            if self.health[k, j] > 0
        ]
        clouds = [(cx, cy, smoke) for s, e, cx, cy, smoke in self.areas if s <= tick <= e]
        return (x[player], y[player]), dots, clouds


def _degrade(img: np.ndarray, quality: str) -> np.ndarray:
    if quality == "jpeg":
        _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 22])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if quality == "blur":
        return cv2.GaussianBlur(img, (5, 5), 1.1)
    return img


def _preshow(footage: Footage, w: int, h: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = np.linspace(20, 70, w, dtype=np.uint8)[None, :, None]
    s = h / 720
    cv2.putText(
        img,
        "CHIMERA MAJOR 2026",
        (round(w * 0.25), round(h * 0.42)),
        cv2.FONT_HERSHEY_DUPLEX,
        1.6 * s,
        (230, 230, 230),
        2,
        cv2.LINE_AA,
    )
    cv2.putText(
        img,
        f"{footage.teams[0]} vs {footage.teams[1]}  -  {footage.map_name}",
        (round(w * 0.25), round(h * 0.55)),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.0 * s,
        (200, 200, 200),
        2,
        cv2.LINE_AA,
    )
    return img


def render_match(
    match_dir: Path, out_dir: Path, params: RenderParams, round_time_s: float, seed: str
) -> Path:
    """Write ``<out_dir>/<match>.mp4`` and ``<match>.truth.json``; returns the video path."""
    footage = Footage(match_dir, params, round_time_s)
    rng = random.Random(f"render/{seed}/{match_dir.name}")
    last_kill = {}
    for c in footage.clocks:
        in_round = footage.kills.filter(pl.col("tick").is_between(c.freeze_end_tick, c.end_tick))
        if in_round.height:
            last_kill[c.round_num] = int(in_round["tick"][-1])
    realities = timeline.Realities(
        start_delay_s=tuple(params.start_delay_s),
        drift_ppm=params.drift_ppm,
        pause_round=params.pause.round_index,
        pause_after_s=params.pause.after_s,
        pause_s=params.pause.duration_s,
        replay_rounds=tuple(params.replay.after_round_indices),
        replay_s=params.replay.duration_s,
    )
    segments = timeline.build(footage.clocks, last_kill, realities, rng)
    w, h, fps = params.width, params.height, params.fps
    hud, scene = Hud(w, h), Scene(footage.graph, w, h, seed=rng.randrange(2**31))
    director = Director(rng, tuple(params.observer_shot_s), params.degraded_share)
    preshow = _preshow(footage, w, h)
    n_frames = round(segments[-1].video_end * fps)
    video, truth = out_dir / f"{match_dir.name}.mp4", out_dir / f"{match_dir.name}.truth.json"
    with atomic_path(video) as tmp_video:
        container = av.open(str(tmp_video), mode="w", format="mp4")
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": params.preset, "crf": str(params.crf), "g": str(2 * fps)}
        stream.thread_count = params.encoder_threads
        for f in tqdm(range(n_frames), desc=f"render {match_dir.name}", unit="frame", mininterval=5):
            t = f / fps
            seg = timeline.locate(segments, t)
            if seg.kind == timeline.PRESHOW:
                img = preshow
            else:
                tick = seg.tick_at(t)
                k = footage.index(tick)
                alive = footage.health[k] > 0
                forced = None
                if seg.kind == timeline.REPLAY:
                    killer = footage.kills.filter(
                        pl.col("tick") <= seg.tick_start + (seg.video_end - seg.video_start) * TICK_RATE
                    )
                    sid = killer["attacker_steamid"][-1] if killer.height else None
                    forced = footage.steamids.index(sid) if sid in footage.steamids else None
                shot = director.follow(t, seg.kind, alive, footage.action(tick, k), forced)
                center, dots, clouds = footage.scene_inputs(tick, shot.player)
                img = scene.frame(center, dots, clouds)
                hud.draw(img, footage.view(tick, shot.player, seg.kind))
                img = _degrade(img, shot.quality)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        container.close()
    if director.shots:
        director.shots[-1].video_end = min(director.shots[-1].video_end, n_frames / fps)
    sidecar = {
        "match": match_dir.name,
        "fps": fps,
        "width": w,
        "height": h,
        "frames": n_frames,
        "tick_rate": TICK_RATE,
        "drift_ppm": params.drift_ppm,
        "start_delay_s": segments[0].video_end,
        "rounds": [c.round_num for c in footage.clocks],
        "segments": [s.as_dict() for s in segments],
        "shots": [
            {
                **asdict(s),
                "steamid": footage.steamids[s.player],
                "name": footage.rows[0][s.player].get("name"),
            }
            for s in director.shots
        ],
    }
    with atomic_path(truth) as tmp:
        tmp.write_text(json.dumps(sidecar, indent=1) + "\n")
    log.info("rendered %s: %d frames, %.0f s", video, n_frames, n_frames / fps)
    return video
