"""What the pro did after a frame, and how much the round's outcome was theirs (SPEC §7).

For a (match, tick, player) and a lookahead window Δ (clipped at the round end), from the tick tables:

- ``movement_direction``: the player's *own* displacement from the frame to the end of the window (or
  their death), projected on the direction to the nearest alive enemy *as positioned at the frame*: -1
  retreat, 0 hold, 1 advance (``move_threshold`` units). Enemies walking up to a player who stands still
  is a hold, not an advance: what the enemies do is not the player's decision;
- ``objective_direction``: the change in distance to the objective as known *at the frame*: the planted
  bomb if the plant has happened, else the nearest bombsite (never the spot of a plant still to come);
- ``utility_used``: grenades the player threw in the window (grenade rows, so a grenade that vanished
  with its dead owner does not count), in the short vocabulary smoke/flash/he/molotov;
- ``initiated_engagement``: 1 when the first damage between the player and an enemy in the window was
  dealt by the player; ``engagement_delay``: time to that damage / Δ (1 when there is none).

The contribution inputs of φ are per round: enemy damage actually removed (each hit capped at the
victim's remaining health, chained through the round as awpy's ADR does; damage to teammates does not
count), the most any player removed, survival time and round length from freeze end, and whether the
player planted, defused or was the last one alive on their side. Bombsite centres are the mean position
of the snapshots whose engine place is ``BombsiteA``/``BombsiteB``, so real demos need no map files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from chimera.names import utility_name
from chimera.phrases import UTILITY
from chimera.tables import SIDE_CT, SIDE_T, TICK_RATE

BOMBSITE_PLACES = ("BombsiteA", "BombsiteB")


@dataclass
class MatchTimeline:
    """One match's tables, indexed for many window queries."""

    ticks: pl.DataFrame
    rounds: pl.DataFrame
    damages: pl.DataFrame
    grenades: pl.DataFrame
    bomb: pl.DataFrame
    sites: dict[str, tuple[float, float, float]]

    @classmethod
    def of(cls, tables: dict[str, pl.DataFrame]) -> MatchTimeline:
        ticks = tables["ticks"].sort("tick", "steamid")
        at_site = ticks.filter(pl.col("place").is_in(BOMBSITE_PLACES) & (pl.col("health") > 0))
        sites = {
            row["place"]: (row["x"], row["y"], row["z"])
            for row in at_site.group_by("place").agg(pl.col("x", "y", "z").mean()).iter_rows(named=True)
        }
        return cls(
            ticks,
            tables["rounds"].sort("round_num"),
            tables["damages"].sort("tick"),
            tables["grenades"].sort("tick"),
            tables["bomb"].sort("tick"),
            sites,
        )

    def round_of(self, tick: int) -> dict | None:
        started = self.rounds.filter(pl.col("start_tick") <= tick)
        return started.row(-1, named=True) if started.height else None

    def snapshot(self, tick: int) -> pl.DataFrame:
        """Every player's row at the latest snapshot at or before ``tick``."""
        times = self.ticks.filter(pl.col("tick") <= tick)["tick"]
        return self.ticks.filter(pl.col("tick") == times.max()) if times.len() else self.ticks.head(0)


def _dist(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return math.dist(a, b)


def _position(rows: pl.DataFrame, steamid: int) -> tuple[float, float, float] | None:
    me = rows.filter(pl.col("steamid") == steamid)
    return (me["x"][0], me["y"][0], me["z"][0]) if me.height else None


def _nearest_enemy(rows: pl.DataFrame, me: tuple, side: str) -> tuple[float, float, float] | None:
    enemies = rows.filter((pl.col("side") != side) & (pl.col("health") > 0))
    return min(enemies.select("x", "y", "z").rows(), key=lambda p: _dist(me, p), default=None)


def _towards(start: tuple, end: tuple, target: tuple, threshold: float) -> int:
    """+1 / -1 when the move ``start -> end`` goes more than ``threshold`` towards / away from ``target``."""
    aim = [t - a for t, a in zip(target, start, strict=True)]
    norm = math.hypot(*aim)
    if norm == 0:
        return 0
    along = sum((e - a) * d for e, a, d in zip(end, start, aim, strict=True)) / norm
    return 1 if along > threshold else -1 if along < -threshold else 0


def _direction(before: float | None, after: float | None, threshold: float) -> int:
    """+1 when the distance shrank by more than ``threshold``, -1 when it grew by more, else 0."""
    if before is None or after is None:
        return 0
    return 1 if after < before - threshold else -1 if after > before + threshold else 0


def behavior(tl: MatchTimeline, steamid: int, tick: int, window_s: float, move_threshold: float) -> dict:
    """The five features of SPEC §7 for ``steamid`` over ``(tick, tick + window_s]`` clipped at round end."""
    rnd = tl.round_of(tick)
    window = round(window_s * TICK_RATE)
    end = min(tick + window, rnd["end_tick"]) if rnd else tick + window
    now = tl.snapshot(tick)
    me_now = now.filter(pl.col("steamid") == steamid)
    side = me_now["side"][0] if me_now.height else None
    start_pos = _position(now, steamid)
    # where the player is at the end of the window, or when they died inside it
    mine = tl.ticks.filter((pl.col("steamid") == steamid) & pl.col("tick").is_between(tick, end))
    alive_rows = mine.filter(pl.col("health") > 0)
    last_tick = alive_rows["tick"].max() if alive_rows.height else tick
    end_pos = _position(tl.snapshot(last_tick), steamid)

    movement = 0
    enemy = _nearest_enemy(now, start_pos, side) if start_pos and side else None
    if start_pos and end_pos and enemy:
        movement = _towards(start_pos, end_pos, enemy, move_threshold)
    objective = _objective(tl, rnd, tick, start_pos)
    objective_direction = 0
    if objective and start_pos and end_pos:
        objective_direction = _direction(
            _dist(start_pos, objective), _dist(end_pos, objective), move_threshold
        )

    thrown = tl.grenades.filter(
        (pl.col("thrower_steamid") == steamid) & pl.col("tick").is_between(tick + 1, end)
    )
    first_rows = thrown.group_by("entity_id").agg(pl.col("type").first())
    used = sorted({u for u in (utility_name(t) for t in first_rows["type"]) if u in UTILITY})

    fights = tl.damages.filter(
        pl.col("tick").is_between(tick + 1, end)
        & (pl.col("attacker_side") != pl.col("victim_side"))
        & ((pl.col("attacker_steamid") == steamid) | (pl.col("victim_steamid") == steamid))
    )
    if fights.height:
        first = fights.row(0, named=True)
        initiated, delay = int(first["attacker_steamid"] == steamid), (first["tick"] - tick) / window
    else:
        initiated, delay = 0, 1.0
    return {
        "movement_direction": movement,
        "objective_direction": objective_direction,
        "utility_used": used,
        "initiated_engagement": initiated,
        "engagement_delay": round(min(max(delay, 0.0), 1.0), 4),
    }


def _objective(tl: MatchTimeline, rnd: dict | None, tick: int, start_pos: tuple | None) -> tuple | None:
    """The objective as known at ``tick``: the planted bomb if already planted, else the nearest bombsite."""
    if rnd is None:
        return None
    planted = tl.bomb.filter(
        (pl.col("event") == "finish_plant") & pl.col("tick").is_between(rnd["start_tick"], tick)
    )
    if planted.height:
        row = planted.row(0, named=True)
        return (row["x"], row["y"], row["z"])
    if not tl.sites or start_pos is None:
        return None
    return min(tl.sites.values(), key=lambda p: _dist(p, start_pos))


def removed_damage(damages: pl.DataFrame, rounds: pl.DataFrame) -> pl.DataFrame:
    """``round_num, steamid, removed``: enemy health actually removed per player and round (ADR-style)."""
    rows = []
    starts = rounds.select("round_num", "start_tick", "end_tick").rows()
    for round_num, start, end in starts:
        hits = damages.filter(pl.col("tick").is_between(start, end)).sort("tick")
        remaining: dict[int, int] = {}
        totals: dict[int, int] = {}
        for attacker, attacker_side, victim, victim_side, dmg in hits.select(
            "attacker_steamid", "attacker_side", "victim_steamid", "victim_side", "dmg_health"
        ).rows():
            left = remaining.get(victim, 100)
            taken = min(max(dmg or 0, 0), left)
            remaining[victim] = left - taken
            if attacker is not None and attacker_side != victim_side:
                totals[attacker] = totals.get(attacker, 0) + taken
        rows += [(round_num, sid, value) for sid, value in totals.items()]
    return pl.DataFrame(
        rows, schema={"round_num": pl.Int32, "steamid": pl.UInt64, "removed": pl.Int64}, orient="row"
    )


def contribution(tl: MatchTimeline, removed: pl.DataFrame, steamid: int, round_num: int) -> dict:
    """The φ inputs of SPEC §7 for one player and round."""
    rnd = tl.rounds.filter(pl.col("round_num") == round_num).row(0, named=True)
    in_round = removed.filter(pl.col("round_num") == round_num)
    mine = in_round.filter(pl.col("steamid") == steamid)["removed"]
    rows = tl.ticks.filter(pl.col("tick").is_between(rnd["freeze_end_tick"], rnd["end_tick"]))
    me = rows.filter(pl.col("steamid") == steamid)
    side = me["side"][0] if me.height else None
    died = me.filter(pl.col("health") <= 0)["tick"].min()
    alive_until = died if died is not None else rnd["end_tick"]
    bomb = tl.bomb.filter(pl.col("tick").is_between(rnd["start_tick"], rnd["end_tick"]))
    acted = bomb.filter(
        pl.col("event").is_in(["finish_plant", "defuse"]) & (pl.col("steamid") == steamid)
    ).height
    final = rows.filter(pl.col("tick") == rows["tick"].max()) if rows.height else rows
    mates_alive = final.filter((pl.col("side") == side) & (pl.col("health") > 0))["steamid"].to_list()
    last_alive = mates_alive == [steamid] and side in (SIDE_T, SIDE_CT)
    return {
        "damage_dealt": int(mine.sum()) if mine.len() else 0,
        "max_round_damage": int(in_round["removed"].max() or 0),
        "survival_time": round((alive_until - rnd["freeze_end_tick"]) / TICK_RATE, 3),
        "round_duration": round((rnd["end_tick"] - rnd["freeze_end_tick"]) / TICK_RATE, 3),
        "objective_action": int(bool(acted) or last_alive),
    }
