"""The ground truth: a match's state table by (player, tick), and which player the frame spectates."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import polars as pl

from chimera.gamestate import stable, state_table
from chimera.maps import get_map
from chimera.pairs.hud import HudReader, match_name
from chimera.tables import TABLES


class States:
    """A match's state table with stability, looked up by (player, tick): latest row at or before it."""

    def __init__(self, match_dir: Path, header: dict, window_ticks: int, tick_range: tuple[float, float]):
        tables = {t: pl.read_parquet(match_dir / f"{t}.parquet") for t in TABLES}
        lo, hi = tick_range
        tables["ticks"] = tables["ticks"].filter(pl.col("tick").is_between(lo, hi))
        map_name = header["map_name"]
        try:
            graph = get_map(map_name)
        except KeyError:
            graph = None  # a real map the simulator has no graph of: site = place, visible_enemies null
        states = state_table(tables, map_name, graph)
        self.table = states.with_columns(stable(states, window_ticks)).with_row_index("_row")
        self._index: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for (sid,), part in self.table.select("steamid", "tick", "_row").group_by("steamid"):
            part = part.sort("tick")
            self._index[int(sid)] = (part["tick"].to_numpy(), part["_row"].to_numpy())

    def row(self, steamid: int, tick: float) -> dict | None:
        if steamid not in self._index:
            return None
        ticks, rows = self._index[steamid]
        k = int(np.searchsorted(ticks, tick, side="right")) - 1
        return None if k < 0 else self.table.row(int(rows[k]), named=True)


def showing(
    values: tuple[int, int, int] | None, roster: Mapping[str, int], states: States, tick: float
) -> list[int]:
    """The alive players whose (health, armor, money) at ``tick`` are exactly ``values``."""
    if values is None:
        return []
    rows = {sid: states.row(sid, tick) for sid in sorted(set(roster.values()))}
    return [
        sid
        for sid, row in rows.items()
        if row is not None
        and row["player_health"] > 0
        and (row["player_health"], row["player_armor"], row["player_money"]) == values
    ]


def resolve_player(
    hud: HudReader, gray: np.ndarray, roster: Mapping[str, int], states: States, tick: float
) -> tuple[int | None, str]:
    """(steamid, how) of the spectated player; how is ``name``, ``vitals`` or why it is unresolved.

    The name read decides unless the HUD's health, armor and money are readable and fit other alive
    players but not the named one (a misread name matched to the wrong roster entry). Without a name,
    the unique alive player showing those values is the one.
    """
    named = next(
        (sid for text in hud.read_names(gray) if (sid := match_name(text, roster)) is not None), None
    )
    values = hud.read_values(gray)
    fits = showing(values, roster, states, tick)
    if named is not None and (not fits or named in fits):
        return named, "name"
    if len(fits) == 1:
        return fits[0], "vitals" if named is None else "vitals over name"
    if named is not None:
        return None, "name contradicted"
    if values is None:
        return None, "no name, values unread"
    return None, "no name, values fit several" if fits else "no name, values fit nobody"
