"""Collects the simulator's events as rows and hands them over as awpy-schema polars tables.

Rows are appended as tuples in the column order of :data:`chimera.tables.SCHEMAS` and converted once at
the end, which keeps recording cheap inside the simulation loop. Rollouts (counterfactual scoring) use
:class:`NullRecorder` and pay nothing for tables they do not need.
"""

from __future__ import annotations

import polars as pl

from chimera.sim.state import AWPY_SIDE, Player
from chimera.tables import SCHEMAS, TABLES


class Recorder:
    """Row buffers, one per awpy table."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {name: [] for name in TABLES}

    def add(self, table: str, *row: object) -> None:
        self.rows[table].append(row)

    def frames(self) -> dict[str, pl.DataFrame]:
        """The recorded tables with awpy's exact schemas, sorted by tick like awpy's."""
        return {name: self.frames_for(name) for name in self.rows}

    def frames_for(self, name: str) -> pl.DataFrame:
        df = pl.DataFrame(self.rows[name], schema=SCHEMAS[name], orient="row")
        key = "start_tick" if name in ("smokes", "fires") else "round_num" if name == "rounds" else "tick"
        return df.sort(key, maintain_order=True)

    # -- typed helpers for the tables with many columns ------------------------------------------------
    def kill(
        self,
        tick: int,
        attacker: Player | None,
        victim: Player,
        assister: Player | None,
        weapon: str,
        hitgroup: tuple[int, str],
        *,
        assist_flash: bool = False,
        thrusmoke: bool = False,
        noscope: bool = False,
    ) -> None:
        self.add(
            "kills",
            *_who(attacker),
            *_who(victim),
            *_who(assister),
            weapon,
            hitgroup[1] == "head",
            assist_flash,
            0,
            noscope,
            0,
            0,
            thrusmoke,
            hitgroup[0],
            hitgroup[1],
            False,
            False,
            tick,
        )

    def damage(
        self,
        tick: int,
        attacker: Player | None,
        victim: Player,
        weapon: str,
        dmg_health: int,
        dmg_armor: int,
        hitgroup: tuple[int, str],
        health_post: int,
        armor_post: int,
    ) -> None:
        # awpy reconstructs pre-values as post + damage clamped to 100, and so do we: a lethal AWP hit on a
        # 30 HP player therefore reads health_pre=100, dmg_health=115, health_post=0, exactly as in awpy.
        self.add(
            "damages",
            *_who(attacker),
            *_who(victim),
            weapon,
            dmg_health,
            dmg_armor,
            hitgroup[0],
            hitgroup[1],
            min(100, health_post + dmg_health),
            health_post,
            min(100, armor_post + dmg_armor),
            armor_post,
            tick,
        )

    def shot(
        self,
        tick: int,
        p: Player,
        weapon: str,
        *,
        pitch: float,
        scoped: bool,
        inaccuracy: float,
        bullets: int,
    ) -> None:
        """A ``weapon_fire`` event: a bullet, or a grenade leaving the hand."""
        self.add(
            "shots",
            tick,
            p.entity_id,
            1,
            p.steamid,
            p.name,
            AWPY_SIDE[p.side],
            p.x,
            p.y,
            p.z,
            pitch,
            p.yaw,
            weapon,
            scoped,
            inaccuracy,
            bullets,
        )

    def bomb(self, tick: int, event: str, p: Player, bombsite: str | None) -> None:
        """A bomb action; awpy fills ``bombsite`` only for the plant and the defuse."""
        self.add("bomb", tick, event, p.entity_id, 1, p.steamid, p.name, bombsite, p.x, p.y, p.z)


class NullRecorder(Recorder):
    """Discards everything (rollouts): every typed helper ends in :meth:`add`."""

    def add(self, table: str, *row: object) -> None:
        pass


def _who(p: Player | None) -> tuple:
    """The eight ``<who>_*`` columns of kills/damages: entity id, serial, steamid, name, side, x, y, z."""
    if p is None:
        return (None,) * 8
    return (p.entity_id, 1, p.steamid, p.name, AWPY_SIDE[p.side], p.x, p.y, p.z)
