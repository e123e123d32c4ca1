"""Line of sight between players: the map's sightlines between places, blocked by smoke clouds.

The engine decides who can shoot whom with :func:`sees`; :func:`visible_enemies` recomputes the same
thing afterwards from the written tables alone (``ticks`` places and positions, ``smokes`` windows), so
downstream stages get each player's visible-enemy count at any tick without a side channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from chimera.maps import MapGraph

SMOKE_RADIUS = 180.0
"""Units: a CS2 smoke cloud is ~144 units in radius; ours is slightly larger because places are coarse."""


def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    norm = dx * dx + dy * dy
    f = 0.0 if norm == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / norm))
    return math.hypot(px - (ax + f * dx), py - (ay + f * dy))


def smoke_blocks(ax: float, ay: float, bx: float, by: float, smokes: Sequence[tuple[float, float]]) -> bool:
    """True when any smoke centre lies within :data:`SMOKE_RADIUS` of the segment a-b (in the plane)."""
    return any(_segment_distance(sx, sy, ax, ay, bx, by) < SMOKE_RADIUS for sx, sy in smokes)


def sees(
    graph: MapGraph,
    place_a: str,
    a: tuple[float, float],
    place_b: str,
    b: tuple[float, float],
    smokes: Sequence[tuple[float, float]],
) -> bool:
    """Whether players on ``place_a`` at ``a`` and ``place_b`` at ``b`` see each other."""
    return graph.can_see(place_a, place_b) and not smoke_blocks(a[0], a[1], b[0], b[1], smokes)


def visible_enemies(ticks: pl.DataFrame, smokes: pl.DataFrame, graph: MapGraph) -> pl.DataFrame:
    """``tick, steamid, visible_enemies`` for every alive player row of ``ticks``.

    Uses only the awpy tables, so it works on any match whose place names are in ``graph``; places the
    graph does not know yield null (unknown), never a guess.
    """
    alive = ticks.filter(pl.col("health") > 0).select("tick", "steamid", "side", "place", "x", "y")
    windows = smokes.select("start_tick", "end_tick", "x", "y").rows()
    out_tick, out_id, out_n = [], [], []
    for (tick,), group in alive.group_by("tick", maintain_order=True):
        active = [(x, y) for s, e, x, y in windows if s <= tick <= e]
        rows = group.rows()
        for _, sid, side, place, x, y in rows:
            out_tick.append(tick)
            out_id.append(sid)
            if place not in graph.places:
                out_n.append(None)
                continue
            out_n.append(
                sum(
                    other_side != side
                    and other_place in graph.places
                    and sees(graph, place, (x, y), other_place, (ox, oy), active)
                    for _, _, other_side, other_place, ox, oy in rows
                )
            )
    return pl.DataFrame(
        {"tick": out_tick, "steamid": out_id, "visible_enemies": out_n},
        schema={"tick": pl.Int32, "steamid": pl.UInt64, "visible_enemies": pl.Int32},
    )
