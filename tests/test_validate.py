"""Each invariant catches the corruption it is about, and ``chimera validate`` reports it."""

import polars as pl
import pytest
from typer.testing import CliRunner

from chimera.cli import app
from chimera.ingest import write_match
from chimera.tables import MatchTables
from chimera.validate import check_tables


@pytest.fixture(scope="module")
def match(short_match) -> MatchTables:
    return short_match


def broken(match: MatchTables, table: str, change) -> list[str]:
    tables = dict(match.tables)
    tables[table] = change(tables[table])
    return [v.rule for v in check_tables(tables)]


def test_clean_match_has_no_violations(match):
    assert check_tables(match.tables) == []


@pytest.mark.parametrize(
    "table, change, rule",
    [
        (
            "ticks",
            lambda d: d.with_columns(
                pl.when(pl.int_range(pl.len()) == 5)
                .then(150)
                .otherwise(pl.col("health"))
                .cast(pl.Int32)
                .alias("health")
            ),
            "health outside 0-100",
        ),
        (
            "ticks",
            lambda d: d.with_columns(
                pl.when(pl.int_range(pl.len()) == 9)
                .then(-50)
                .otherwise(pl.col("money"))
                .cast(pl.Int32)
                .alias("money")
            ),
            "negative money",
        ),
        (
            "ticks",
            lambda d: pl.concat([d, d.head(40).with_columns(pl.col("steamid") + 1)]),
            "more than 5 players alive on one side",
        ),
        ("damages", lambda d: d.filter(pl.col("health_post") > 0), "kill without a lethal damage row"),
        (
            "rounds",
            lambda d: d.with_columns(pl.col("end_tick").shift(1, fill_value=0).alias("end_tick")),
            "freeze_end_tick not before end_tick",
        ),
        (
            "rounds",
            lambda d: d.with_columns((pl.col("round_num") * 2).alias("round_num")),
            "round numbers not 1, 2, 3, ...",
        ),
        (
            "bomb",
            lambda d: pl.concat(
                [
                    d.filter(pl.col("event") != "finish_plant"),
                    d.filter(pl.col("event") == "finish_plant").with_columns(pl.lit("defuse").alias("event")),
                ]
            ).sort("tick"),
            "defuse without an earlier plant in the round",
        ),
    ],
)
def test_each_invariant_catches_its_corruption(match, table, change, rule):
    found = broken(match, table, change)
    assert any(r.startswith(rule) for r in found), found


def test_cli_reports_and_fails(tmp_path, match):
    write_match(tmp_path / "good", match)
    bad = MatchTables("bad", match.header, dict(match.tables))
    bad.tables["ticks"] = bad.tables["ticks"].with_columns(pl.lit(-1, pl.Int32).alias("money"))
    write_match(tmp_path / "bad", bad)
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        "FAIL" in result.output
        and "negative money" in result.output
        and "1 of 2 matches valid" in result.output
    )
    assert runner.invoke(app, ["validate", str(tmp_path / "good")]).exit_code == 0
    assert runner.invoke(app, ["validate", str(tmp_path / "missing")]).exit_code == 2
    (tmp_path / "good" / "kills.parquet").unlink()
    result = runner.invoke(app, ["validate", str(tmp_path / "good")])
    assert result.exit_code == 1 and "table file missing" in result.output
