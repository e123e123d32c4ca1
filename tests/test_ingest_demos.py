"""The demos source of ``ingest``: bad files are skipped with an error naming them, good ones written."""

import logging
from pathlib import Path

import polars as pl
import pytest

from chimera import tables
from chimera.config import load_params
from chimera.demos import DemoError, _with_place
from chimera.ingest import IngestError, run
from tests import demofiles


def demo_params(directory: Path):
    params = load_params().ingest
    return params.model_copy(
        update={"source": "demos", "demos": params.demos.model_copy(update={"dir": directory})}
    )


def test_bad_demos_are_skipped_and_named(tmp_path, caplog):
    raw = tmp_path / "raw"
    raw.mkdir()
    demofiles.write_empty(raw / "good.dem")
    demofiles.write_truncated(raw / "cut.dem")
    demofiles.write_garbage_after_header(raw / "noise.dem")
    with caplog.at_level(logging.ERROR):
        matches = run(demo_params(raw), tmp_path / "parsed", tmp_path / "sim.json")
    assert [m.match_id for m in matches] == ["good"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "cut.dem" in logged and "noise.dem" in logged and "good.dem" not in logged
    written = sorted(p.name for p in (tmp_path / "parsed" / "good").iterdir())
    assert written == sorted([f"{t}.parquet" for t in tables.TABLES] + ["header.json"])
    for t in tables.TABLES:
        df = pl.read_parquet(tmp_path / "parsed" / "good" / f"{t}.parquet")
        assert tables.schema_problems(t, df) == []


def test_stage_fails_only_when_nothing_parsed(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    demofiles.write_truncated(raw / "a.dem")
    demofiles.write_wrong_magic(raw / "b.dem")
    with pytest.raises(IngestError) as err:
        run(demo_params(raw), tmp_path / "parsed", tmp_path / "sim.json")
    assert "a.dem" in str(err.value) and "b.dem" in str(err.value)
    assert not (tmp_path / "parsed").exists()


def test_no_demos_is_a_clear_error(tmp_path):
    with pytest.raises(IngestError, match=r"no \.dem files"):
        run(demo_params(tmp_path), tmp_path / "parsed", tmp_path / "sim.json")


def test_place_property_that_never_came_back_is_refused():
    """awpy's ticks() returns an all-null column for an unknown property name instead of failing."""
    snap = tables.empty("ticks").drop("place")
    row = {c: None for c in snap.columns} | {"tick": 64, "steamid": 7, "health": 100, "side": tables.SIDE_T}
    snapshots = pl.DataFrame([row], schema=snap.schema)
    places = pl.DataFrame(
        {"tick": [64], "steamid": [7], "m_szLastPlaceNme": [None]},
        schema={"tick": pl.Int64, "steamid": pl.UInt64, "m_szLastPlaceNme": pl.String},
    )
    with pytest.raises(DemoError, match=r"m_szLastPlaceNme.*came back empty"):
        _with_place(snapshots, places, "m_szLastPlaceNme", Path("x.dem"))
    places = places.with_columns(pl.lit("BombsiteA").alias("m_szLastPlaceNme"))
    assert _with_place(snapshots, places, "m_szLastPlaceNme", Path("x.dem"))["place"].to_list() == [
        "BombsiteA"
    ]
