"""The CS2 round clock exactly as the HUD shows it, computed from the demo's tables.

During freeze time the timer counts the freeze down; from freeze end it counts the round time
(1:55) down; after the plant the digits give way to a bomb icon; once the round is decided the timer
stands still. The display is the remaining time rounded *up* to whole seconds, so the value ``s``
appears at exactly one tick — when the remaining time reaches ``s`` — and those *transitions* pin a
broadcast frame to a demo tick with sub-second precision. The renderer draws this clock; ``sync``
uses :func:`transitions` as its model of the demo side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from chimera.tables import TICK_RATE, with_round

FREEZE, LIVE, PLANTED, OVER, BEFORE = "freeze", "live", "planted", "over", "before"


@dataclass(frozen=True)
class Display:
    """What the HUD timer shows: a phase and whole seconds (``None`` when no digits are shown)."""

    phase: str
    seconds: int | None

    @property
    def text(self) -> str | None:
        return None if self.seconds is None else f"{self.seconds // 60}:{self.seconds % 60:02d}"


@dataclass(frozen=True)
class RoundClock:
    """The ticks that drive one round's clock."""

    round_num: int
    start_tick: int
    freeze_end_tick: int
    end_tick: int
    plant_tick: int | None
    round_ticks: int

    def display(self, tick: float) -> Display:
        if tick < self.start_tick:
            return Display(BEFORE, None)
        if tick < self.freeze_end_tick:
            return Display(FREEZE, math.ceil((self.freeze_end_tick - tick) / TICK_RATE))
        if self.plant_tick is not None and tick >= self.plant_tick:
            return Display(PLANTED if tick < self.end_tick else OVER, None)
        live_end = self.freeze_end_tick + self.round_ticks
        if tick < self.end_tick:
            return Display(LIVE, max(0, math.ceil((live_end - tick) / TICK_RATE)))
        return Display(OVER, max(0, math.ceil((live_end - self.end_tick) / TICK_RATE)))


def round_clocks(rounds: pl.DataFrame, bomb: pl.DataFrame, round_time_s: float) -> list[RoundClock]:
    """One :class:`RoundClock` per round of a match (``round_time_s``: 115 in CS2 competitive)."""
    plants = (
        with_round(bomb.filter(pl.col("event") == "finish_plant"), rounds)
        .group_by("round_num")
        .agg(pl.col("tick").min().alias("plant_tick"))
    )
    rows = rounds.join(plants, on="round_num", how="left").sort("round_num").iter_rows(named=True)
    return [
        RoundClock(
            r["round_num"],
            r["start_tick"] if r["start_tick"] is not None else r["freeze_end_tick"],
            r["freeze_end_tick"],
            r["end_tick"],
            r["plant_tick"],
            round(round_time_s * TICK_RATE),
        )
        for r in rows
    ]


def display_at(clocks: list[RoundClock], tick: float) -> Display:
    """What the HUD timer shows at ``tick``: the clock of the latest round started by then."""
    current = clocks[0]
    for c in clocks:
        if c.start_tick <= tick:
            current = c
    return current.display(tick)


def transitions(clocks: list[RoundClock]) -> pl.DataFrame:
    """Every moment the display changes to a new value: ``round_num, phase, seconds, tick``.

    A value ``s`` appears when the remaining time reaches ``s`` exactly. Only transitions that really
    happen on screen are listed (before the plant, before the round is decided).
    """
    rows = []
    for c in clocks:
        for s in range((c.freeze_end_tick - c.start_tick) // TICK_RATE, 0, -1):
            tick = c.freeze_end_tick - s * TICK_RATE
            if tick >= c.start_tick:
                rows.append((c.round_num, FREEZE, s, tick))
        for s in range(c.round_ticks // TICK_RATE, -1, -1):
            tick = c.freeze_end_tick + c.round_ticks - s * TICK_RATE
            if tick > c.end_tick or (c.plant_tick is not None and tick >= c.plant_tick):
                break  # decided (the display then stands still) or planted (a bomb icon, no digits)
            rows.append((c.round_num, LIVE, s, tick))
    return pl.DataFrame(
        rows,
        schema={"round_num": pl.Int32, "phase": pl.String, "seconds": pl.Int32, "tick": pl.Int64},
        orient="row",
    )
