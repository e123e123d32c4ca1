"""Ground truth of SPEC §5: every ``game_state`` field of §4, computed from a match's tick tables.

:func:`state_table` turns the awpy-schema tables of one match into one row per ``ticks`` row (a player at
a snapshot tick) holding that player's :class:`~chimera.schema.GameState` fields by their §4 names. The
broadcast renderer draws its HUD from it, ``pairs`` takes labels from it, evaluation scores against it.
Nothing here comes from a model; everything is a polars expression over the tables, so a whole match
(~150k rows) takes well under a second plus the line-of-sight pass when a map graph is given.

Why each rule is what it is:

* **Rounds.** awpy's tables only join on ticks, so a row belongs to the last round whose ``start_tick``
  is at or before it (:func:`chimera.tables.with_round`). The gap between a round's ``end_tick`` and
  the next round's start is therefore still that round: the scoreboard and the bomb of the round just
  played are what the screen shows until the next freeze time begins.
* **round_phase.** Rows before the first round's start are ``warmup``; ``freezetime`` is
  ``[start_tick, freeze_end_tick)``; ``round-over`` from ``end_tick`` until the next round's start (see
  above); between freeze end and round end a row is ``post-plant`` from the tick of the round's
  ``finish_plant`` on (the plant is the phase change the HUD shows: the timer becomes the bomb timer),
  else ``playing``. A round without an ``end_tick`` (a demo cut mid-round) never reaches round-over.
* **bomb_status**, first rule that holds wins:
  ``exploded`` when the round's ``reason_name`` is ``target_bombed`` and the row is at or after its
  ``end_tick`` -- awpy writes no explosion event, the round reason is the only record of it;
  ``defused`` at or after the round's ``defuse`` event; ``planted`` at or after its ``finish_plant``;
  ``carried`` when any terrorist's ``has_bomb`` is set at that tick (a direct observation, so it beats
  the event log, and it covers freeze time and warmup, where no pickup event need exist); ``dropped``
  when the round's latest ``pickup``/``drop`` event at or before the tick is a ``drop``; else null.
  Events are taken in table order within a round (awpy writes them in the order they happened), so two
  events on one tick resolve to the later one.
* **team_money_total / alive counts** are per tick over the side's rows: money of all five (dead players
  keep their money), alive means ``health > 0``; the player is never counted as their own teammate.
* **utility** is one entry per grenade held, sorted alphabetically, in the §4 vocabulary
  (:func:`chimera.names.state_utility_name`; ``incgrenade`` -> ``incendiary``). Duplicates are kept,
  because §4 documents the list as "one entry per grenade carried" and a second flashbang is real
  information. CS2 keeps both flashbangs in one weapon entity, so a real demo's inventory may list
  ``flashbang`` once while ``flashbangs`` says 2: the list is topped up to the ``flashbangs`` count
  (the only grenade CS2 lets a player hold two of). Null inventory means nothing known: an empty list.
* **weapon_primary / weapon_secondary** are display names (:func:`chimera.names.display_name`); a name
  the table does not know is kept as awpy wrote it rather than reported as "no weapon".
* **site** is the callout of the player's place when ``graph`` knows the place (the simulator's maps),
  else the engine place name unchanged (real demos on maps without a graph), null when unknown.
* **visible_enemies** comes from :func:`chimera.sight.visible_enemies` when ``graph`` is given; it
  is null for dead players and for places the graph does not know, and null everywhere without a graph
  (§5: null for real demos unless computed).

:func:`stable` marks the rows whose whole state holds for a window around them (§5: labels only at
stable frames); :func:`at_tick` looks one player up at a tick; :func:`game_state` validates a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from chimera import names
from chimera.maps import MapGraph
from chimera.schema import GAME_STATE_FIELDS, GameState
from chimera.sight import visible_enemies as _visible_enemies
from chimera.tables import SIDE_CT, SIDE_T, with_round

__all__ = ["GAME_STATE_COLUMNS", "at_tick", "game_state", "stable", "state_table"]

GAME_STATE_COLUMNS: tuple[str, ...] = GAME_STATE_FIELDS
"""The §4 ``game_state`` fields, in schema order: the state columns of :func:`state_table`."""

KEY_COLUMNS: tuple[str, ...] = ("tick", "steamid", "name", "round_num")
"""The columns of :func:`state_table` before the state: which player, when, and in which round."""

_SIDE = {SIDE_T: "T", SIDE_CT: "CT"}
_NO_END = 2**31 - 1  # a round without an end tick (a cut demo) never ends
_UTILITY_DTYPE = pl.List(pl.String)


def _display(values: pl.Series) -> dict[str, str]:
    """awpy weapon name -> display name for every distinct value (unknown names kept as written)."""
    return {v: names.display_name(v) or v for v in values.drop_nulls().unique().to_list()}


def _utility_lists(inventories: pl.Series) -> pl.DataFrame:
    """``inventory -> utility`` for every distinct inventory string: sorted, one entry per grenade."""
    rows = []
    for inv in inventories.drop_nulls().unique().to_list():
        items = (names.state_utility_name(item.strip()) for item in inv.split(",") if item.strip())
        rows.append((inv, sorted(u for u in items if u is not None)))
    return pl.DataFrame(rows, schema={"inventory": pl.String, "_utility": _UTILITY_DTYPE}, orient="row")


def _round_of(df: pl.DataFrame, rounds: pl.DataFrame) -> pl.DataFrame:
    """``df`` with ``round_num`` by tick range, in its original row order (``with_round`` re-sorts)."""
    if rounds.height == 0:
        return df.with_columns(pl.lit(None, pl.Int32).alias("round_num"))
    return with_round(df.with_row_index("_order"), rounds).sort("_order").drop("_order")


EXPLOSION_EVENTS = ("detonate", "exploded", "explode", "bomb_exploded")
"""Explosion events other parsers write (awpy has none: it shows as reason ``target_bombed``). Such an
event means the bomb exploded, never that somebody carries it."""


def _bomb_timeline(bomb: pl.DataFrame, rounds: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per round: first plant and defuse ticks; and the ``pickup``/``drop`` events as an as-of table."""
    events = _round_of(bomb.select("tick", "event"), rounds).filter(pl.col("round_num").is_not_null())
    per_round = events.group_by("round_num").agg(
        pl.col("tick").filter(pl.col("event") == "finish_plant").min().alias("_plant_tick"),
        pl.col("tick").filter(pl.col("event") == "defuse").min().alias("_defuse_tick"),
        pl.col("tick").filter(pl.col("event").is_in(EXPLOSION_EVENTS)).min().alias("_explode_tick"),
    )
    carry = (
        events.with_row_index("_order")
        .filter(pl.col("event").is_in(["pickup", "drop"]))
        .sort("round_num", "tick", "_order")
        .unique(subset=["round_num", "tick"], keep="last", maintain_order=True)
        .select(
            "round_num", pl.col("tick").alias("_event_tick"), (pl.col("event") == "drop").alias("_dropped")
        )
    )
    return per_round, carry


def state_table(
    tables: dict[str, pl.DataFrame], map_name: str, graph: MapGraph | None = None
) -> pl.DataFrame:
    """One row per ``ticks`` row, same order: ``tick, steamid, name, round_num`` and the GameState fields."""
    ticks, rounds, bomb = tables["ticks"], tables["rounds"], tables["bomb"]
    rounds = rounds.select(
        "round_num",
        "start_tick",
        pl.col("freeze_end_tick").fill_null(pl.col("start_tick")),
        pl.col("end_tick").fill_null(_NO_END),
        "reason_name",
    )

    rows = _round_of(ticks, rounds)
    side = pl.col("side")
    per_tick = rows.group_by("tick").agg(
        pl.col("money").filter(side == SIDE_T).sum().alias("_money_t"),
        pl.col("money").filter(side == SIDE_CT).sum().alias("_money_ct"),
        ((side == SIDE_T) & (pl.col("health") > 0)).sum().alias("_alive_t"),
        ((side == SIDE_CT) & (pl.col("health") > 0)).sum().alias("_alive_ct"),
        ((side == SIDE_T) & pl.col("has_bomb")).any().alias("_carried"),
    )
    per_round, carry = _bomb_timeline(bomb, rounds)
    rows = (
        rows.with_row_index("_row")
        .join(per_tick, on="tick", how="left")
        .join(rounds, on="round_num", how="left")
        .join(per_round, on="round_num", how="left")
        .join(_utility_lists(ticks["inventory"]), on="inventory", how="left")
    )
    # as-of join: the round's latest pickup/drop at or before each row (null round rows get none)
    rows = (
        rows.sort("round_num", "tick")
        .join_asof(
            carry,
            left_on="tick",
            right_on="_event_tick",
            by="round_num",
            strategy="backward",
            check_sortedness=False,
        )
        .sort("_row")
    )

    if graph is not None:
        seen = _visible_enemies(ticks, tables["smokes"], graph)
        rows = rows.join(seen, on=["tick", "steamid"], how="left")
        callouts = {p: graph.callout(p) for p in ticks["place"].drop_nulls().unique() if p in graph.places}
        site = pl.col("place").replace(callouts)
    else:
        rows = rows.with_columns(pl.lit(None, pl.Int32).alias("visible_enemies"))
        site = pl.col("place")

    tick = pl.col("tick")
    is_t, is_ct = side == SIDE_T, side == SIDE_CT
    alive = (pl.col("health") > 0).cast(pl.UInt32)
    own = lambda t, ct: pl.when(is_t).then(pl.col(t)).when(is_ct).then(pl.col(ct))  # noqa: E731
    plant, defuse = pl.col("_plant_tick"), pl.col("_defuse_tick")
    flash_missing = (
        pl.col("flashbangs").fill_null(0) - pl.col("_utility").list.count_matches("flashbang")
    ).clip(lower_bound=0)

    out = rows.select(
        "tick",
        "steamid",
        "name",
        "round_num",
        pl.lit(map_name, pl.String).alias("map_name"),
        pl.when(pl.col("round_num").is_null())
        .then(pl.lit("warmup"))
        .when(tick < pl.col("freeze_end_tick"))
        .then(pl.lit("freezetime"))
        .when(tick >= pl.col("end_tick"))
        .then(pl.lit("round-over"))
        .when(plant.is_not_null() & (tick >= plant))
        .then(pl.lit("post-plant"))
        .otherwise(pl.lit("playing"))
        .alias("round_phase"),
        side.replace_strict(_SIDE, default=None).alias("player_side"),
        pl.col("health").alias("player_health"),
        pl.col("armor").alias("player_armor"),
        pl.col("money").alias("player_money"),
        own("_money_t", "_money_ct").cast(pl.Int64).alias("team_money_total"),
        pl.col("primary_weapon").replace(_display(ticks["primary_weapon"])).alias("weapon_primary"),
        pl.col("secondary_weapon").replace(_display(ticks["secondary_weapon"])).alias("weapon_secondary"),
        pl.concat_list(
            pl.col("_utility").fill_null(pl.lit([], _UTILITY_DTYPE)),
            pl.lit("flashbang").repeat_by(flash_missing.fill_null(0)),
        )
        .list.sort()
        .alias("utility"),
        (own("_alive_t", "_alive_ct") - alive).cast(pl.Int32).alias("alive_teammates"),
        own("_alive_ct", "_alive_t").cast(pl.Int32).alias("alive_enemies"),
        pl.when(
            ((pl.col("reason_name") == "target_bombed") & (tick >= pl.col("end_tick")))
            | (pl.col("_explode_tick").is_not_null() & (tick >= pl.col("_explode_tick")))
        )
        .then(pl.lit("exploded"))
        .when(defuse.is_not_null() & (tick >= defuse))
        .then(pl.lit("defused"))
        .when(plant.is_not_null() & (tick >= plant))
        .then(pl.lit("planted"))
        .when(pl.col("_carried"))
        .then(pl.lit("carried"))
        .when(pl.col("_dropped"))
        .then(pl.lit("dropped"))
        .otherwise(pl.lit(None, pl.String))
        .alias("bomb_status"),
        site.alias("site"),
        pl.col("visible_enemies").cast(pl.Int32),
    )
    return out


def game_state(row: Mapping[str, Any]) -> GameState:
    """One :func:`state_table` row (a dict, e.g. from ``iter_rows(named=True)``) as a validated GameState."""
    return GameState.model_validate({f: row[f] for f in GAME_STATE_COLUMNS})


UNKNOWN_WHEN_NULL: tuple[str, ...] = ("site", "visible_enemies")
"""Fields whose null means the source could not tell (a place the map graph does not know, sight lines
on a real demo), not "none". Every other null is a value: an empty weapon slot, no bomb status."""


def unknown_fields(state: Mapping[str, Any], not_shown: Iterable[str]) -> list[str]:
    """SPEC §5: the fields of ``state`` that are unknown, sorted: ``not_shown`` (fields the footage does not
    display, e.g. team money on a HUD without it) and the :data:`UNKNOWN_WHEN_NULL` fields that are null.
    Scoring skips exactly these; a null anywhere else must be predicted as null."""
    return sorted(set(not_shown) | {f for f in UNKNOWN_WHEN_NULL if state.get(f) is None})


def stable(states: pl.DataFrame, window_ticks: int) -> pl.Series:
    """Per row: the player's whole GameState is the same on all their rows within ``tick ± window_ticks``.

    A row whose window is not covered by the player's data (their first row is after ``tick -
    window_ticks`` or their last before ``tick + window_ticks``) is not stable: what happened beyond the
    edge of the data is unknown. Returned in ``states``' row order, named ``stable``.
    """
    if window_ticks < 0:
        raise ValueError(f"window_ticks must be >= 0, got {window_ticks}")
    fields = list(GAME_STATE_COLUMNS)
    by_player = (
        states.select("tick", "steamid", *fields)
        .with_row_index("_row")
        .sort("steamid", "tick")
        .with_columns(
            pl.any_horizontal(
                pl.col(f).ne_missing(pl.col(f).shift(1)).over("steamid").fill_null(True) for f in fields
            ).alias("_changed")
        )
        .with_columns(
            pl.col("_changed").cast(pl.UInt32).cum_sum().over("steamid").alias("_segment"),
            pl.col("tick").min().over("steamid").alias("_first"),
            pl.col("tick").max().over("steamid").alias("_last"),
            (pl.col("tick") - window_ticks).alias("_lo"),
            (pl.col("tick") + window_ticks).alias("_hi"),
        )
        .select("_row", "steamid", "tick", "_segment", "_first", "_last", "_lo", "_hi")
    )
    segments = by_player.select("steamid", "tick", "_segment")
    # segment ids grow with tick, so the window is uniform iff its first and last rows share the segment
    lo = by_player.sort("_lo").join_asof(
        segments.rename({"tick": "_t", "_segment": "_seg_lo"}).sort("_t"),
        left_on="_lo",
        right_on="_t",
        by="steamid",
        strategy="forward",
        check_sortedness=False,
    )
    both = lo.sort("_hi").join_asof(
        segments.rename({"tick": "_t2", "_segment": "_seg_hi"}).sort("_t2"),
        left_on="_hi",
        right_on="_t2",
        by="steamid",
        strategy="backward",
        check_sortedness=False,
    )
    ok = (
        (pl.col("_first") <= pl.col("_lo"))
        & (pl.col("_last") >= pl.col("_hi"))
        & (pl.col("_seg_lo") == pl.col("_segment"))
        & (pl.col("_seg_hi") == pl.col("_segment"))
    )
    return both.sort("_row").select(ok.fill_null(False).alias("stable")).to_series()


def at_tick(states: pl.DataFrame, steamid: int, tick: int) -> dict[str, Any] | None:
    """The player's row at the latest snapshot tick at or before ``tick``; None when there is none."""
    hit = states.filter((pl.col("steamid") == steamid) & (pl.col("tick") <= tick))
    if hit.height == 0:
        return None
    return hit.row(int(hit["tick"].arg_max()), named=True)
