"""Real CS2 demos through awpy 3.1: one ``.dem`` file in, the match tables of :mod:`chimera.tables` out.

awpy checks a demo's header in ``Demo()``, but garbage after a good header only surfaces on the first
table access; both places are guarded so one bad file becomes one :class:`DemoError` naming it, and the
caller can skip it and go on with the others. ``Demo.ticks()`` accepts unknown property names silently
(it returns an all-null column), so the place column is checked to have really come back.
"""

from __future__ import annotations

from pathlib import Path

import awpy
import polars as pl

from chimera.errors import ChimeraError
from chimera.tables import AWPY_DATASETS, SCHEMAS, TICK_RATE, MatchTables, conform


class DemoError(ChimeraError):
    """A demo file that cannot be used; the message starts with the file's path."""


def parse_demo(path: str | Path, snapshot_every: int, place_property: str) -> MatchTables:
    """Parse one demo with awpy: all datasets in one pass, player snapshots every ``snapshot_every`` ticks."""
    path = Path(path)
    try:
        demo = awpy.Demo(path)
    except (awpy.InvalidDemoError, OSError) as err:
        raise DemoError(f"{path}: not a readable CS2 demo ({err})") from None
    try:
        demo.load(*AWPY_DATASETS)
        tables = {name: getattr(demo, name) for name in AWPY_DATASETS}
        snapshots = demo.snapshots(every=snapshot_every)
        places = demo.ticks([place_property])
        header = dict(demo.header)
        tick_rate = demo.tick_rate
        players = demo.players
    except awpy.InvalidDemoError as err:
        raise DemoError(f"{path}: corrupt or truncated demo ({err})") from None
    if round(tick_rate) != TICK_RATE:
        raise DemoError(f"{path}: tick rate {tick_rate:g}, the pipeline assumes {TICK_RATE} (CS2 servers)")

    tables["ticks"] = _with_place(snapshots, places, place_property, path)
    source = str(path)
    tables = {name: conform(name, df, source) for name, df in tables.items()}
    header.update(
        source="demos",
        file=path.name,
        tick_rate=TICK_RATE,
        players=players.sort("steamid").to_dicts(),
    )
    return MatchTables(match_id=match_id_for(path), header=header, tables=tables)


def _with_place(snapshots: pl.DataFrame, places: pl.DataFrame, prop: str, path: Path) -> pl.DataFrame:
    """Join the engine's last-place name onto the snapshots, refusing a property that never came back."""
    alive = snapshots.filter(pl.col("health") > 0)
    place = places.select(
        pl.col("tick").cast(pl.Int32),
        pl.col("steamid").cast(pl.UInt64),
        pl.col(prop).cast(pl.String).alias("place"),
    )
    ticks = snapshots.join(place, on=["tick", "steamid"], how="left")
    if alive.height and ticks.filter(pl.col("health") > 0)["place"].null_count() == alive.height:
        raise DemoError(
            f"{path}: per-tick property {prop!r} came back empty for every player; awpy accepts unknown "
            "property names silently, so check the name (ingest.demos.place_property)"
        )
    return ticks.select(list(SCHEMAS["ticks"]))


def match_id_for(path: Path) -> str:
    """A directory-safe match id from a demo's file name."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in path.stem.lower())
    return safe.strip("-") or "demo"
