"""Which game moment each second of the broadcast shows: the realities ``sync`` has to survive.

A broadcast is not the demo played back. It starts with a pre-show (the unknown start offset), its
clock may drift slightly against the server's, a tactical timeout keeps the video running while the
game clock stands still, instant replays between rounds show past footage while the game goes on
unseen, and between two blocks of rendered rounds (``render.rounds``) the broadcast cuts to a desk shot
(a *break*, no HUD) while the game skips ahead by whole rounds, as an edited VOD does. The timeline
is a list of :class:`Segment` that maps every video time to the demo tick it shows; it is the truth
the sidecar records and the only place these realities are decided.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from chimera.clock import RoundClock
from chimera.tables import TICK_RATE

PRESHOW, LIVE, PAUSE, REPLAY, BREAK = "preshow", "live", "pause", "replay", "break"


@dataclass(frozen=True)
class Segment:
    kind: str  # preshow | live | pause | replay | break
    video_start: float  # seconds
    video_end: float
    tick_start: float  # demo tick shown at video_start
    tick_rate: float  # demo ticks per video second (0 while paused, in the pre-show or in a break)

    def tick_at(self, t: float) -> float:
        return self.tick_start + (t - self.video_start) * self.tick_rate

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Realities:
    start_delay_s: tuple[float, float]
    drift_ppm: float
    pause_round: int | None  # index among rendered rounds (0 = first, on through all blocks) with a timeout
    pause_after_s: float
    pause_s: float
    replay_rounds: tuple[int, ...]  # indices of rendered rounds followed by an instant replay
    replay_s: float
    break_s: float  # the desk shot between two blocks of rounds


def build(
    clocks: list[RoundClock], last_kill: dict[int, int], r: Realities, rng: random.Random
) -> list[Segment]:
    """Segments for the rounds in ``clocks`` (in order), ending at the last round's end + 7 s.

    Where the next round in ``clocks`` is not the one after the last (a new block), the live footage
    stops 4 s after that round's end (or after its replay), a :data:`BREAK` of ``break_s`` follows, and
    the next live footage starts at the new block's first round start: the game time jumps ahead.
    """
    rate = TICK_RATE * (1 + r.drift_ppm * 1e-6)
    delay = rng.uniform(*r.start_delay_s)
    segments = [Segment(PRESHOW, 0.0, delay, float(clocks[0].start_tick), 0.0)]
    video, tick = delay, float(clocks[0].start_tick)

    def live_until(target_tick: float) -> None:
        nonlocal video, tick
        if target_tick > tick:
            length = (target_tick - tick) / rate
            segments.append(Segment(LIVE, video, video + length, tick, rate))
            video, tick = video + length, target_tick

    for i, c in enumerate(clocks):
        if i and c.round_num != clocks[i - 1].round_num + 1:
            live_until(clocks[i - 1].end_tick + 4 * TICK_RATE)
            segments.append(Segment(BREAK, video, video + r.break_s, tick, 0.0))
            video, tick = video + r.break_s, float(c.start_tick)
        live_until(c.start_tick)
        if i == r.pause_round:
            live_until(c.start_tick + r.pause_after_s * TICK_RATE)
            segments.append(Segment(PAUSE, video, video + r.pause_s, tick, 0.0))
            video += r.pause_s
        replay_at = c.end_tick + 2 * TICK_RATE
        live_until(replay_at)
        if i in r.replay_rounds and c.round_num in last_kill:
            shown_from = last_kill[c.round_num] - (r.replay_s - 1) * TICK_RATE
            segments.append(Segment(REPLAY, video, video + r.replay_s, shown_from, TICK_RATE))
            video += r.replay_s
            tick += r.replay_s * rate  # the game went on, unseen
    live_until(clocks[-1].end_tick + 7 * TICK_RATE)
    return segments


def locate(segments: list[Segment], t: float) -> Segment:
    """The segment showing video time ``t`` (the last one for times past the end)."""
    for seg in segments:
        if t < seg.video_end:
            return seg
    return segments[-1]


@dataclass(frozen=True)
class Truth:
    """A rendered VOD's truth sidecar (``<match>.truth.json``): read by evaluation code only."""

    segments: list[Segment]
    shots: list[dict]  # observer shots: video_start, video_end, player, steamid, name, quality
    hud_style: str  # render.hud_style of this video

    def shot_at(self, t: float) -> dict | None:
        return next((s for s in self.shots if s["video_start"] <= t < s["video_end"]), None)


def load_truth(path: Path) -> Truth:
    """The sidecar :func:`chimera.broadcast.render.render_match` writes next to a rendered video."""
    data = json.loads(path.read_text())
    return Truth([Segment(**s) for s in data["segments"]], list(data["shots"]), data["hud_style"])
