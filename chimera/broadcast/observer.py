"""The broadcast director: whom the camera follows, switching every few seconds towards the action.

Like a human observer it holds a player for a few seconds, cuts to whoever is about to fight (enemies
close by, damage just dealt or taken), and leaves a dead player shortly after the death.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEAD_HOLD_S = 1.5


@dataclass
class Shot:
    video_start: float
    video_end: float
    player: int  # index into the footage's player order
    quality: str  # clean | jpeg | blur
    kind: str  # live | pause | replay (no shot covers the pre-show or a break: no camera there)


class Director:
    def __init__(self, rng: random.Random, shot_s: tuple[float, float], degraded_share: float):
        self.rng, self.shot_s, self.degraded = rng, shot_s, degraded_share
        self.shots: list[Shot] = []
        self.dead_since: float | None = None

    def _quality(self) -> str:
        r = self.rng.random()
        return "clean" if r >= self.degraded else ("jpeg" if r < 0.6 * self.degraded else "blur")

    def cut(self, t: float) -> None:
        """The broadcast cut away from the game (a break): the current shot ends at ``t``."""
        if self.shots and self.shots[-1].video_end > t:
            self.shots[-1].video_end = t

    def follow(
        self,
        t: float,
        kind: str,
        alive: np.ndarray,
        action: Callable[[], np.ndarray],
        forced: int | None = None,
    ) -> Shot:
        """The shot at video time ``t``; ``action()`` scores each player's involvement right now.

        ``action`` is called only when a new shot is chosen (a few times a minute, not every frame).
        """
        shot = self.shots[-1] if self.shots else None
        if (
            shot is not None
            and shot.kind == kind
            and t < shot.video_end
            and (forced is None or forced == shot.player)
        ):
            if alive[shot.player] or kind != "live":
                self.dead_since = None
                return shot
            self.dead_since = t if self.dead_since is None else self.dead_since
            if t - self.dead_since < DEAD_HOLD_S:
                return shot
        if shot is not None:
            shot.video_end = t
        if forced is not None:
            player = forced
        else:
            candidates = np.flatnonzero(alive) if alive.any() else np.arange(len(alive))
            noise = np.array([self.rng.random() * 0.5 for _ in candidates])
            player = int(candidates[np.argmax(action()[candidates] + noise)])
        self.dead_since = None
        new = Shot(t, t + self.rng.uniform(*self.shot_s), player, self._quality(), kind)
        self.shots.append(new)
        return new
