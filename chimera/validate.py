"""Invariants every parsed match must satisfy, whichever source wrote it.

These are facts of the game, not of our code: health stays in 0–100, a side never has more than five
players alive, money is never negative, rounds are ordered, every kill comes with the damage that
caused it, and the bomb is never defused before it was planted. ``ingest`` runs them on its own output;
``chimera validate`` runs them on any ``data/parsed`` directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from chimera.tables import SIDE_CT, SIDE_T, TABLES, with_round


@dataclass(frozen=True)
class Violation:
    table: str
    rule: str
    count: int
    example: str

    def __str__(self) -> str:
        return f"{self.table}: {self.rule} ({self.count} rows, e.g. {self.example})"


def _check(out: list[Violation], table: str, rule: str, bad: pl.DataFrame) -> None:
    if bad.height:
        out.append(Violation(table, rule, bad.height, str(bad.row(0, named=True))))


def check_tables(tables: dict[str, pl.DataFrame]) -> list[Violation]:
    """All invariant violations in one match's tables (empty list when the match is consistent)."""
    out: list[Violation] = []
    ticks, rounds, kills, damages, bomb = (tables[n] for n in ("ticks", "rounds", "kills", "damages", "bomb"))

    _check(out, "ticks", "health outside 0-100", ticks.filter(~pl.col("health").is_between(0, 100)))
    _check(out, "ticks", "armor outside 0-100", ticks.filter(~pl.col("armor").is_between(0, 100)))
    _check(out, "ticks", "negative money", ticks.filter(pl.col("money") < 0))
    _check(out, "ticks", "unknown side", ticks.filter(~pl.col("side").is_in([SIDE_T, SIDE_CT])))
    alive = ticks.filter(pl.col("health") > 0).group_by("tick", "side").len()
    _check(out, "ticks", "more than 5 players alive on one side", alive.filter(pl.col("len") > 5))
    for col in ("health_pre", "health_post"):
        _check(out, "damages", f"{col} outside 0-100", damages.filter(~pl.col(col).is_between(0, 100)))

    r = rounds.sort("round_num")
    _check(
        out,
        "rounds",
        "round numbers not 1, 2, 3, ...",
        r.with_row_index("i").filter(pl.col("round_num") != pl.col("i") + 1),
    )
    _check(
        out,
        "rounds",
        "freeze_end_tick not before end_tick",
        r.filter(pl.col("freeze_end_tick") >= pl.col("end_tick")),
    )
    _check(
        out,
        "rounds",
        "start_tick after freeze_end_tick",
        r.filter(pl.col("start_tick") > pl.col("freeze_end_tick")),
    )
    _check(
        out,
        "rounds",
        "round starts before the previous one ended",
        r.filter(pl.col("start_tick") < pl.col("end_tick").shift(1)),
    )

    lethal = (
        damages.filter(pl.col("health_post") == 0)
        .select(pl.col("victim_steamid"), pl.col("tick"), pl.lit(True).alias("_hit"))
        .unique()
    )
    unmatched = kills.join(lethal, on=["victim_steamid", "tick"], how="left").filter(pl.col("_hit").is_null())
    _check(
        out, "kills", "kill without a lethal damage row for the victim at that tick", unmatched.drop("_hit")
    )

    if bomb.height and rounds.height:
        b = with_round(bomb, rounds).with_row_index("order")
        planted = (
            b.filter(pl.col("event") == "finish_plant")
            .group_by("round_num")
            .agg(pl.col("order").min().alias("p"))
        )
        defuses = b.filter(pl.col("event") == "defuse").join(planted, on="round_num", how="left")
        _check(
            out,
            "bomb",
            "defuse without an earlier plant in the round",
            defuses.filter(pl.col("p").is_null() | (pl.col("p") > pl.col("order"))),
        )
        twice = (
            b.filter(pl.col("event") == "finish_plant").group_by("round_num").len().filter(pl.col("len") > 1)
        )
        _check(out, "bomb", "bomb planted twice in one round", twice)
    return out


def check_match_dir(path: str | Path) -> list[Violation]:
    """Read one ``data/parsed/<match>/`` directory and check it; a missing table is itself a violation."""
    path = Path(path)
    missing = [t for t in TABLES if not (path / f"{t}.parquet").exists()]
    if missing:
        return [Violation(t, "table file missing", 0, str(path / f"{t}.parquet")) for t in missing]
    return check_tables({t: pl.read_parquet(path / f"{t}.parquet") for t in TABLES})
