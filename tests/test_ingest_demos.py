"""The demos source of ``ingest``: bad files are skipped with an error naming them, good ones written."""

import logging
from pathlib import Path

import polars as pl
import pytest

from chimera import ingest, matchstats, tables
from chimera.config import load_params
from chimera.demos import DemoError, _with_place, match_id_for
from chimera.ingest import IngestError, run
from chimera.sim.match import MatchSimulator
from chimera.tables import MatchTables
from tests import demofiles


def demo_params(directory: Path):
    params = load_params().ingest
    return params.model_copy(
        update={"source": "demos", "demos": params.demos.model_copy(update={"dir": directory})}
    )


def _short_match(path: Path, *_):
    """A stand-in for awpy on a good demo (no real demo can be had here): a 2-round simulated match."""
    sim = load_params().ingest.sim
    match = MatchSimulator(sim.matches[0], sim.model_copy(update={"max_rounds": 2}), seed="demo/good").run()
    return MatchTables(match_id=match_id_for(path), header=match.header, tables=match.tables)


def test_bad_demos_are_skipped_and_named(tmp_path, caplog, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.dem").write_bytes(b"stands for a good demo")
    demofiles.write_empty(raw / "empty.dem")
    demofiles.write_truncated(raw / "cut.dem")
    demofiles.write_garbage_after_header(raw / "noise.dem")
    real = ingest.parse_demo
    monkeypatch.setattr(
        ingest, "parse_demo", lambda p, *a: _short_match(p) if p.name == "good.dem" else real(p, *a)
    )
    with caplog.at_level(logging.ERROR):
        matches = run(demo_params(raw), tmp_path / "parsed", tmp_path / "sim.json")
    assert [m.match_id for m in matches] == ["good"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "cut.dem" in logged and "noise.dem" in logged and "good.dem" not in logged
    assert "empty.dem: the demo has no rounds" in logged
    written = sorted(p.name for p in (tmp_path / "parsed" / "good").iterdir())
    assert written == sorted([f"{t}.parquet" for t in tables.TABLES] + ["header.json"])
    for t in tables.TABLES:
        df = pl.read_parquet(tmp_path / "parsed" / "good" / f"{t}.parquet")
        assert tables.schema_problems(t, df) == []


def test_a_demo_without_rounds_is_refused(tmp_path):
    demofiles.write_empty(tmp_path / "empty.dem")  # valid for awpy, but no round was played
    with pytest.raises(IngestError, match=r"empty\.dem: the demo has no rounds"):
        run(demo_params(tmp_path), tmp_path / "parsed", tmp_path / "sim.json")


def test_upper_case_demo_names_are_found(tmp_path):
    demofiles.write_empty(tmp_path / "FINAL.DEM")
    with pytest.raises(IngestError, match=r"FINAL\.DEM: the demo has no rounds"):
        run(demo_params(tmp_path), tmp_path / "parsed", tmp_path / "sim.json")


def test_rates_over_nothing_are_null_not_zero():
    empty = {
        "rounds": 0,
        "kills": 0,
        "planted_rounds": 0,
        "t_wins": 0,
        "round_length_s_sum": 0.0,
        "rounds_with_kill": 0,
        "first_kill_s_sum": 0.0,
        "man_advantage_wins": 0,
        "team_rounds": 0,
        "buy_pistol": 0,
        "buy_eco": 0,
        "buy_force": 0,
        "buy_full": 0,
    }
    pooled = matchstats.pool([empty])
    assert pooled["rounds"] == 0 and pooled["kills_per_round"] is None and pooled["full_buy_rate"] is None
    ref = load_params().ingest.sim.reference
    assert matchstats.compare(pooled, ref)["kills_per_round"]["within"] is None


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
