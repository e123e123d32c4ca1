"""The awpy schema module is what awpy itself produces, and both ingest sources conform to it."""

import awpy
import polars as pl
import pytest

from chimera import tables
from chimera.demos import DemoError, parse_demo
from tests import demofiles


@pytest.fixture(scope="module")
def empty_demo(tmp_path_factory):
    return demofiles.write_empty(tmp_path_factory.mktemp("demos") / "empty.dem")


def test_schema_module_matches_installed_awpy(empty_demo):
    demo = awpy.Demo(empty_demo)
    demo.load(*tables.AWPY_DATASETS)
    for name in tables.AWPY_DATASETS:
        assert getattr(demo, name).schema == tables.SCHEMAS[name], name
    snapshot = demo.snapshots(every=8).schema
    assert pl.Schema({k: v for k, v in tables.SCHEMAS["ticks"].items() if k != "place"}) == snapshot


def test_awpy_entry_point_on_empty_but_valid_demo(empty_demo):
    match = parse_demo(empty_demo, snapshot_every=8, place_property="m_szLastPlaceName")
    assert set(match.tables) == set(tables.TABLES)
    for name, df in match.tables.items():
        assert tables.schema_problems(name, df) == []
        assert df.height == 0
    assert match.header["map_name"] == "de_mirage"
    assert match.header["tick_rate"] == tables.TICK_RATE


@pytest.mark.parametrize(
    "builder, where",
    [
        (demofiles.write_truncated, "corrupt or truncated"),
        (demofiles.write_garbage_after_header, "corrupt or truncated"),
        (demofiles.write_wrong_magic, "not a readable CS2 demo"),
    ],
)
def test_bad_demo_is_one_error_naming_the_file(tmp_path, builder, where):
    path = builder(tmp_path / "bad match.dem")
    with pytest.raises(DemoError) as err:
        parse_demo(path, 8, "m_szLastPlaceName")
    message = str(err.value)
    assert message.startswith(str(path)) and where in message


def test_empty_file_is_one_error(tmp_path):
    path = tmp_path / "zero.dem"
    path.write_bytes(b"")
    with pytest.raises(DemoError, match=r"zero\.dem"):
        parse_demo(path, 8, "m_szLastPlaceName")


def test_conform_rejects_wrong_dtype_and_names_source():
    df = tables.empty("bomb").with_columns(pl.col("tick").cast(pl.Int64))
    with pytest.raises(tables.SchemaError, match=r"my-match: bomb .*'tick' is Int64, awpy writes Int32"):
        tables.conform("bomb", df, "my-match")


def test_conform_rejects_missing_and_extra_columns():
    df = tables.empty("smokes").drop("entity_serial").with_columns(pl.lit(1).alias("extra"))
    problems = tables.schema_problems("smokes", df)
    assert any("missing column 'entity_serial'" in p for p in problems)
    assert any("unexpected column 'extra'" in p for p in problems)
