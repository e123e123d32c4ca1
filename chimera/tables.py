"""The match tables as awpy 3.1 writes them: the interface between ``ingest`` and everything downstream.

Both ingest sources (real demos through awpy, and the simulator) must produce exactly these column
names and dtypes, so that no later stage can tell them apart. The dtypes were read off the installed
awpy 3.1.1 from an empty-but-valid demo (every dataset returns its full schema even with no rows);
``tests/test_tables.py`` re-reads them from awpy on every run, so an awpy upgrade that changes a column
fails the suite instead of silently diverging.

``ticks`` is awpy's per-tick player snapshot (``Demo.snapshots``) plus one column of ours, ``place``
(CS2's ``m_szLastPlaceName``, which awpy reads through ``Demo.ticks`` but does not put in snapshots).

Value vocabularies that awpy writes (and the simulator therefore writes too) are listed below the
schemas: sides, bomb events, grenade types, round-end reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl

TICK_RATE = 64
"""CS2 servers (and every pro demo) run at 64 ticks per second."""


def _actor(role: str) -> dict[str, pl.DataType]:
    """The eight columns awpy writes for each player in an event (attacker, victim, assister)."""
    return {
        f"{role}_entity_id": pl.Int32,
        f"{role}_entity_serial": pl.UInt32,
        f"{role}_steamid": pl.UInt64,
        f"{role}_name": pl.String,
        f"{role}_side": pl.String,
        f"{role}_x": pl.Float32,
        f"{role}_y": pl.Float32,
        f"{role}_z": pl.Float32,
    }


_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "rounds": {
        "round_num": pl.Int32,
        "start_tick": pl.Int32,
        "freeze_end_tick": pl.Int32,
        "end_tick": pl.Int32,
        "official_end_tick": pl.Int32,
        "winner": pl.Int32,
        "winner_side": pl.String,
        "reason": pl.Int32,
        "reason_name": pl.String,
        "is_knife_round": pl.Boolean,
    },
    "kills": {
        **_actor("attacker"),
        **_actor("victim"),
        **_actor("assister"),
        "weapon": pl.String,
        "headshot": pl.Boolean,
        "assist_flash": pl.Boolean,
        "dominated": pl.Int32,
        "noscope": pl.Boolean,
        "penetrated": pl.Int32,
        "revenge": pl.Int32,
        "thrusmoke": pl.Boolean,
        "hitgroup": pl.Int32,
        "hitgroup_name": pl.String,
        "is_trade": pl.Boolean,
        "victim_traded": pl.Boolean,
        "tick": pl.Int32,
    },
    "damages": {
        **_actor("attacker"),
        **_actor("victim"),
        "weapon": pl.String,
        "dmg_health": pl.Int32,
        "dmg_armor": pl.Int32,
        "hitgroup": pl.Int32,
        "hitgroup_name": pl.String,
        "health_pre": pl.Int32,
        "health_post": pl.Int32,
        "armor_pre": pl.Int32,
        "armor_post": pl.Int32,
        "tick": pl.Int32,
    },
    "grenades": {
        "tick": pl.Int32,
        "thrower_name": pl.String,
        "thrower_steamid": pl.UInt64,
        "thrower_side": pl.String,
        "type": pl.String,
        "entity_id": pl.Int32,
        "entity_serial": pl.UInt32,
        "x": pl.Float32,
        "y": pl.Float32,
        "z": pl.Float32,
    },
    "smokes": {
        "start_tick": pl.Int32,
        "end_tick": pl.Int32,
        "thrower_name": pl.String,
        "thrower_steamid": pl.UInt64,
        "thrower_side": pl.String,
        "entity_id": pl.Int32,
        "entity_serial": pl.UInt32,
        "x": pl.Float32,
        "y": pl.Float32,
        "z": pl.Float32,
    },
    "fires": {
        "start_tick": pl.Int32,
        "end_tick": pl.Int32,
        "thrower_name": pl.String,
        "thrower_steamid": pl.UInt64,
        "thrower_side": pl.String,
        "type": pl.String,
        "entity_id": pl.Int32,
        "entity_serial": pl.UInt32,
        "x": pl.Float32,
        "y": pl.Float32,
        "z": pl.Float32,
    },
    "bomb": {
        "tick": pl.Int32,
        "event": pl.String,
        "entity_id": pl.Int32,
        "entity_serial": pl.UInt32,
        "steamid": pl.UInt64,
        "name": pl.String,
        "bombsite": pl.String,
        "x": pl.Float32,
        "y": pl.Float32,
        "z": pl.Float32,
    },
    "shots": {
        "tick": pl.Int32,
        "entity_id": pl.Int32,
        "entity_serial": pl.UInt32,
        "steamid": pl.UInt64,
        "name": pl.String,
        "side": pl.String,
        "x": pl.Float32,
        "y": pl.Float32,
        "z": pl.Float32,
        "pitch": pl.Float32,
        "yaw": pl.Float32,
        "weapon": pl.String,
        "scoped": pl.Boolean,
        "inaccuracy": pl.Float32,
        "num_bullets_remaining": pl.Int32,
    },
    "ticks": {
        "tick": pl.Int32,
        "steamid": pl.UInt64,
        "name": pl.String,
        "side": pl.String,
        "x": pl.Float32,
        "y": pl.Float32,
        "z": pl.Float32,
        "velocity_x": pl.Float32,
        "velocity_y": pl.Float32,
        "velocity_z": pl.Float32,
        "velocity": pl.Float32,
        "pitch": pl.Float32,
        "yaw": pl.Float32,
        "health": pl.Int32,
        "armor": pl.Int32,
        "has_helmet": pl.Boolean,
        "has_defuser": pl.Boolean,
        "has_bomb": pl.Boolean,
        "active_weapon": pl.String,
        "primary_weapon": pl.String,
        "secondary_weapon": pl.String,
        "fire_grenades": pl.Int32,
        "smoke_grenades": pl.Int32,
        "he_grenades": pl.Int32,
        "flashbangs": pl.Int32,
        "decoy_grenades": pl.Int32,
        "equipment_value": pl.Int32,
        "equipment_value_round_start": pl.Int32,
        "money": pl.Int32,
        "is_crouched": pl.Boolean,
        "is_walking": pl.Boolean,
        "is_jumping": pl.Boolean,
        "is_in_bomb_zone": pl.Boolean,
        "is_scoped": pl.Boolean,
        "is_reloading": pl.Boolean,
        "is_silent_reloading": pl.Boolean,
        "is_defusing": pl.Boolean,
        "is_blinded": pl.Boolean,
        "flash_duration": pl.Float32,
        "inventory": pl.String,
        "place": pl.String,  # ours: CS2's m_szLastPlaceName, read with Demo.ticks()
    },
}

SCHEMAS: Mapping[str, pl.Schema] = MappingProxyType({name: pl.Schema(c) for name, c in _SCHEMAS.items()})
"""Table name -> exact polars schema (column order included)."""

TABLES: tuple[str, ...] = tuple(SCHEMAS)
"""Every table ``ingest`` writes per match, as ``<table>.parquet``."""

AWPY_DATASETS: tuple[str, ...] = tuple(t for t in TABLES if t != "ticks")
"""The tables that are awpy datasets of the same name (``Demo.load(*AWPY_DATASETS)``)."""

# -- value vocabularies, as awpy 3.1 writes them ------------------------------------------------------
SIDE_T = "terrorist"
SIDE_CT = "counter-terrorist"
TEAM_NUM = {SIDE_T: 2, SIDE_CT: 3}
"""``rounds.winner`` holds the engine team number (2 = T, 3 = CT); ``winner_side`` the side name."""

BOMB_EVENTS = ("pickup", "drop", "start_plant", "interrupt_plant", "finish_plant", "defuse")
"""``bomb.event``: awpy records bomb actions only; an explosion shows as round reason ``target_bombed``."""

GRENADE_TYPES = ("smoke", "he", "flashbang", "molotov", "decoy")
"""``grenades.type`` (incendiary grenades fly as molotov projectiles in CS2)."""

ROUND_END_REASONS = {
    "target_bombed": 1,
    "bomb_defused": 7,
    "ct_win": 8,
    "terrorists_win": 9,
    "target_saved": 12,
}
"""``rounds.reason_name`` -> ``rounds.reason`` (CS2's RoundEndReason_t codes) for the ways a round ends."""


@dataclass
class MatchTables:
    """One match as ``ingest`` writes it: awpy-schema tables plus a header dict (``header.json``)."""

    match_id: str
    header: dict[str, Any]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)


class SchemaError(ValueError):
    """A table whose columns or dtypes differ from awpy's."""


def empty(table: str) -> pl.DataFrame:
    """A zero-row frame with ``table``'s exact schema."""
    return pl.DataFrame(schema=SCHEMAS[table])


def schema_problems(table: str, df: pl.DataFrame) -> list[str]:
    """Differences between ``df`` and the awpy schema of ``table``; empty when it conforms exactly."""
    want, got = SCHEMAS[table], df.schema
    problems = [f"missing column {c!r} ({want[c]})" for c in want if c not in got]
    problems += [f"unexpected column {c!r}" for c in got if c not in want]
    problems += [
        f"column {c!r} is {got[c]}, awpy writes {want[c]}" for c in want if c in got and got[c] != want[c]
    ]
    if not problems and list(got) != list(want):
        problems.append(f"column order differs: {list(got)}")
    return problems


def conform(table: str, df: pl.DataFrame, source: str = "") -> pl.DataFrame:
    """Return ``df`` with awpy's column order, or raise :class:`SchemaError` naming ``source`` and the gaps.

    Dtypes are checked, never cast: a simulator that writes Int64 where awpy writes Int32 is a bug to fix
    at its origin, not something to paper over here.
    """
    if set(df.columns) == set(SCHEMAS[table]):
        df = df.select(list(SCHEMAS[table]))
    problems = schema_problems(table, df)
    if problems:
        where = f"{source}: " if source else ""
        raise SchemaError(f"{where}{table} does not match awpy's schema: " + "; ".join(problems))
    return df


def with_round(df: pl.DataFrame, rounds: pl.DataFrame, tick: str = "tick") -> pl.DataFrame:
    """Attach ``round_num`` to rows of an event table by tick range (awpy tables only join on ticks)."""
    starts = rounds.select(
        "round_num", pl.col("start_tick").fill_null(pl.col("freeze_end_tick"))
    ).drop_nulls()
    return df.sort(tick).join_asof(
        starts.sort("start_tick"), left_on=tick, right_on="start_tick", strategy="backward"
    )
