"""Which game moment each second of the broadcast shows: the realities ``sync`` has to survive.

A broadcast is not the demo played back. It starts with a pre-show (the unknown start offset), its
clock may drift slightly against the server's, a tactical timeout keeps the video running while the
game clock stands still, and instant replays between rounds show past footage while the game goes on
unseen. The timeline is a list of :class:`Segment` that maps every video time to the demo tick it
shows; it is the truth the sidecar records and the only place these realities are decided.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from chimera.clock import RoundClock
from chimera.tables import TICK_RATE

PRESHOW, LIVE, PAUSE, REPLAY = "preshow", "live", "pause", "replay"


@dataclass(frozen=True)
class Segment:
    kind: str  # preshow | live | pause | replay
    video_start: float  # seconds
    video_end: float
    tick_start: float  # demo tick shown at video_start
    tick_rate: float  # demo ticks per video second (0 while paused or in the pre-show)

    def tick_at(self, t: float) -> float:
        return self.tick_start + (t - self.video_start) * self.tick_rate

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Realities:
    start_delay_s: tuple[float, float]
    drift_ppm: float
    pause_round: int | None  # index among rendered rounds (0 = first) with a tactical timeout in freeze time
    pause_after_s: float
    pause_s: float
    replay_rounds: tuple[int, ...]  # indices of rendered rounds followed by an instant replay
    replay_s: float


def build(
    clocks: list[RoundClock], last_kill: dict[int, int], r: Realities, rng: random.Random
) -> list[Segment]:
    """Segments for the rounds in ``clocks`` (consecutive), ending at the last round's end + 7 s."""
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

    def shot_at(self, t: float) -> dict | None:
        return next((s for s in self.shots if s["video_start"] <= t < s["video_end"]), None)


def load_truth(path: Path) -> Truth:
    """The sidecar :func:`chimera.broadcast.render.render_match` writes next to a rendered video."""
    data = json.loads(path.read_text())
    return Truth([Segment(**s) for s in data["segments"]], list(data["shots"]))
