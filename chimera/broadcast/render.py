"""Render one parsed match as a broadcast VOD (H.264 through PyAV) plus the truth sidecar.

The rendered rounds are the blocks of ``render.rounds`` (spread over the match: both pistols, the rounds
after them, the last ones), with a desk shot between two blocks (a break: no HUD, the game skips ahead).
The sidecar (``<match>.truth.json``) records what only the renderer knows: the timeline segments
(pre-show length = the hidden start offset, clock drift, the tactical pause, replays, breaks) and every
observer shot with the spectated player and its image quality. Only evaluation code may read it.

Speed (SPEC §11, ``make bench``): the map is drawn once per image quality (:class:`Scene`), each HUD
element once per content (:class:`Hud`); a frame is a window copied into one reused buffer, converted
to I420 by OpenCV into another and handed to x264 as ``yuv420p`` (no conversion left inside the
encoder); the per-frame lookups into the match are array bisections.
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
from chimera.broadcast.hud import HUDS, Card, HudView, to_i420
from chimera.broadcast.observer import Director
from chimera.broadcast.scene import Scene
from chimera.clock import Display, RoundClock, display_at, round_clocks
from chimera.config import HudStyle, RenderParams
from chimera.gamestate import state_table
from chimera.io import atomic_path
from chimera.maps import get_map
from chimera.tables import SIDE_T, TABLES, TICK_RATE

log = logging.getLogger(__name__)
REPLAY_BANNER, PAUSE_BANNER = "REPLAY", "TACTICAL TIMEOUT"
PRE_S, POST_S = 64, 16  # seconds of ticks loaded before a block's first round and after its last


def rendered_rounds(blocks: list[tuple[int, int]], last_round: int) -> list[int]:
    """The round numbers ``render.rounds`` selects in a match of ``last_round`` rounds, in order.

    Each block is ``[first, last]`` inclusive; a negative number counts from the last round (-1 = the
    last). Blocks are clipped to the match and merged where they overlap or touch, so a short match
    renders fewer rounds, never one twice.
    """
    wanted: set[int] = set()
    for first, last in blocks:
        lo = first if first > 0 else last_round + 1 + first
        hi = last if last > 0 else last_round + 1 + last
        wanted.update(range(max(lo, 1), min(hi, last_round) + 1))
    return sorted(wanted)


class Footage:
    """One match's rendered rounds as per-snapshot arrays, so each frame is a few array lookups."""

    def __init__(self, match_dir: Path, params: RenderParams, round_time_s: float):
        self.header = json.loads((match_dir / "header.json").read_text())
        tables = {t: pl.read_parquet(match_dir / f"{t}.parquet") for t in TABLES}
        self.map_name = self.header["map_name"]
        self.graph = get_map(self.map_name)
        clocks = round_clocks(tables["rounds"], tables["bomb"], round_time_s)
        by_num = {c.round_num: c for c in clocks}
        chosen = rendered_rounds(params.rounds, max(by_num, default=0))
        self.clocks: list[RoundClock] = [by_num[r] for r in chosen if r in by_num]
        if not self.clocks:
            raise ValueError(f"{match_dir}: no rounds in render.rounds={params.rounds}")
        windows, start = [], self.clocks[0]
        for prev, c in zip(self.clocks, [*self.clocks[1:], None], strict=True):
            if c is None or c.round_num != prev.round_num + 1:
                windows.append((start.start_tick - PRE_S * TICK_RATE, prev.end_tick + POST_S * TICK_RATE))
                start = c
        in_window = pl.any_horizontal([pl.col("tick").is_between(lo, hi) for lo, hi in windows])
        ticks = tables["ticks"].filter(in_window)
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
        kills = tables["kills"].filter(in_window).sort("tick")
        self.kill_ticks = kills["tick"].to_numpy()
        self.kill_attackers = kills["attacker_steamid"].to_list()
        self.kill_lines = [
            f"{r['attacker_name'] or 'world'}  {names.display_name(r['weapon']) or r['weapon']}  "
            f"{r['victim_name']}"
            for r in kills.iter_rows(named=True)
        ]
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
        wins = sorted(self.round_wins)
        self.win_ticks = np.array([end for end, _ in wins])
        self.wins_by_team = np.cumsum([[team == 0, team == 1] for _, team in wins], axis=0).reshape(-1, 2)
        self._cards: dict[int, tuple[list[Card], list[Card]]] = {}

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
        n = int(np.searchsorted(self.win_ticks, tick, side="right"))
        return (0, 0) if n == 0 else (int(self.wins_by_team[n - 1, 0]), int(self.wins_by_team[n - 1, 1]))

    def last_attacker(self, tick: float):
        """The steamid of the latest killer at or before ``tick`` (None before the first kill)."""
        n = int(np.searchsorted(self.kill_ticks, tick, side="right"))
        return self.kill_attackers[n - 1] if n else None

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
        lo = int(np.searchsorted(self.kill_ticks, tick - 5 * TICK_RATE, side="left"))
        hi = int(np.searchsorted(self.kill_ticks, tick, side="right"))
        return self.kill_lines[lo:hi]

    def cards(self, k: int) -> tuple[list[Card], list[Card]]:
        cards = self._cards.get(k)
        if cards is None:
            cards = self._cards[k] = tuple(
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
        return cards

    def view(self, tick: float, player: int, shot_kind: str, k: int | None = None) -> HudView:
        k = self.index(tick) if k is None else k
        cards = self.cards(k)
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

    def scene_inputs(
        self, tick: float, player: int, k: int | None = None
    ) -> tuple[tuple[float, float], list, list]:
        k = self.index(tick) if k is None else k
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


def _desk(w: int, h: int, lines: list[tuple[str, float, float]], light: tuple[int, int]) -> np.ndarray:
    """A still without HUD (the pre-show, the analyst desk): a grey gradient ``light`` and lines of text."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = np.linspace(*light, w, dtype=np.uint8)[None, :, None]
    s = h / 720
    for i, (text, size, y) in enumerate(lines):
        cv2.putText(
            img,
            text,
            (round(w * 0.25), round(h * y)),
            cv2.FONT_HERSHEY_DUPLEX if i == 0 else cv2.FONT_HERSHEY_SIMPLEX,
            size * s,
            (230, 230, 230) if i == 0 else (200, 200, 200),
            2,
            cv2.LINE_AA,
        )
    return img


def _preshow(footage: Footage, w: int, h: int) -> np.ndarray:
    teams = f"{footage.teams[0]} vs {footage.teams[1]}  -  {footage.map_name}"
    return _desk(w, h, [("CHIMERA MAJOR 2026", 1.6, 0.42), (teams, 1.0, 0.55)], (20, 70))


def _break(footage: Footage, w: int, h: int, next_round: int, tick: float) -> np.ndarray:
    """The analyst desk between two blocks: the score so far and the round the broadcast returns to.

    Darker than the pre-show where the timer sits (a mid-grey box there reads as the planted-bomb
    icon, and sync must see a desk shot as footage without the timer).
    """
    left, right = footage.scores(tick)
    score = f"{footage.teams[0]} {left} - {right} {footage.teams[1]}"
    lines = [("ANALYST DESK", 1.6, 0.42), (score, 1.0, 0.55), (f"back for round {next_round}", 0.8, 0.65)]
    return _desk(w, h, lines, (10, 40))


class _Encoder:
    """x264 through PyAV, fed I420 pictures (no colour conversion inside the encoder).

    One :class:`av.VideoFrame` is refilled for every picture (its planes are :attr:`planes`): x264
    copies each picture in before ``encode`` returns.
    """

    def __init__(self, path: Path, params: RenderParams):
        w, h, fps = params.width, params.height, params.fps
        self.container = av.open(str(path), mode="w", format="mp4")
        self.stream = self.container.add_stream("libx264", rate=fps)
        self.stream.width, self.stream.height, self.stream.pix_fmt = w, h, "yuv420p"
        self.stream.options = {"preset": params.preset, "crf": str(params.crf), "g": str(2 * fps)}
        self.stream.thread_count = params.encoder_threads
        self.frame = av.VideoFrame(w, h, "yuv420p")
        self.planes = [
            np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in self.frame.planes
        ]
        self.count = 0

    def write_still(self, planes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        for dst, src in zip(self.planes, planes, strict=True):
            np.copyto(dst, src)
        self.write()

    def write(self) -> None:
        """Encode what :attr:`planes` hold now."""
        self.frame.pts, self.count = self.count, self.count + 1
        for packet in self.stream.encode(self.frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def render_match(
    match_dir: Path, out_dir: Path, params: RenderParams, round_time_s: float, seed: str, style: HudStyle
) -> Path:
    """Write ``<out_dir>/<match>.mp4`` (``style``'s HUD) and ``<match>.truth.json``; returns the video."""
    footage = Footage(match_dir, params, round_time_s)
    rng = random.Random(f"render/{seed}/{match_dir.name}")
    last_kill = {}
    for c in footage.clocks:
        lo = np.searchsorted(footage.kill_ticks, c.freeze_end_tick, side="left")
        hi = np.searchsorted(footage.kill_ticks, c.end_tick, side="right")
        if hi > lo:
            last_kill[c.round_num] = int(footage.kill_ticks[hi - 1])
    realities = timeline.Realities(
        start_delay_s=tuple(params.start_delay_s),
        drift_ppm=params.drift_ppm,
        pause_round=params.pause.round_index,
        pause_after_s=params.pause.after_s,
        pause_s=params.pause.duration_s,
        replay_rounds=tuple(params.replay.after_round_indices),
        replay_s=params.replay.duration_s,
        break_s=params.break_s,
    )
    segments = timeline.build(footage.clocks, last_kill, realities, rng)
    w, h, fps = params.width, params.height, params.fps
    hud, scene = HUDS[style](w, h), Scene(footage.graph, w, h, seed=rng.randrange(2**31))
    director = Director(rng, tuple(params.observer_shot_s), params.degraded_share)
    stills = {0: to_i420(_preshow(footage, w, h))}
    for k, seg in enumerate(segments):
        if seg.kind == timeline.BREAK:
            resume = segments[k + 1].tick_start if k + 1 < len(segments) else seg.tick_start
            next_round = next((c.round_num for c in footage.clocks if c.start_tick >= resume), 0)
            stills[k] = to_i420(_break(footage, w, h, next_round, resume))
    n_frames = round(segments[-1].video_end * fps)
    video, truth = out_dir / f"{match_dir.name}.mp4", out_dir / f"{match_dir.name}.truth.json"
    with atomic_path(video) as tmp_video:
        encoder = _Encoder(tmp_video, params)
        k_seg = 0
        for f in tqdm(range(n_frames), desc=f"render {match_dir.name}", unit="frame", mininterval=5):
            t = f / fps
            while k_seg + 1 < len(segments) and t >= segments[k_seg].video_end:
                k_seg += 1
            seg = segments[k_seg]
            if seg.kind in (timeline.PRESHOW, timeline.BREAK):
                director.cut(t)
                encoder.write_still(stills[k_seg])
                continue
            tick = seg.tick_at(t)
            k = footage.index(tick)
            alive = footage.health[k] > 0
            forced = None
            if seg.kind == timeline.REPLAY:
                sid = footage.last_attacker(seg.tick_start + (seg.video_end - seg.video_start) * TICK_RATE)
                forced = footage.steamids.index(sid) if sid in footage.steamids else None
            shot = director.follow(t, seg.kind, alive, lambda tick=tick, k=k: footage.action(tick, k), forced)
            center, dots, clouds = footage.scene_inputs(tick, shot.player, k)
            scene.frame_i420(center, dots, clouds, shot.quality, encoder.planes)
            hud.draw_i420(encoder.planes, footage.view(tick, shot.player, seg.kind, k), shot.quality)
            encoder.write()
        encoder.close()
    if director.shots:
        director.shots[-1].video_end = min(director.shots[-1].video_end, n_frames / fps)
    sidecar = {
        "match": match_dir.name,
        "hud_style": style,
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
