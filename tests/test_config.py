"""params.yaml is read strictly: typos and out-of-range values are errors naming the key."""

import pytest
import yaml

from chimera.config import ParamsError, load_params, parse_params


@pytest.fixture
def raw() -> dict:
    with open("params.yaml") as f:
        return yaml.safe_load(f)


def test_repository_params_load():
    params = load_params()
    assert params.ingest.source in ("sim", "demos")
    assert len(params.ingest.sim.matches) >= 3


def test_unknown_key_is_named(raw):
    raw["ingest"]["sim"]["sed"] = 1
    with pytest.raises(ParamsError, match=r"ingest\.sim\.sed: unknown key"):
        parse_params(raw)


def test_out_of_range_value_is_named(raw):
    raw["ingest"]["snapshot_every"] = 0
    raw["ingest"]["sim"]["economy"]["start_money"] = -5
    with pytest.raises(ParamsError) as err:
        parse_params(raw)
    assert "ingest.snapshot_every" in str(err.value) and "ingest.sim.economy.start_money" in str(err.value)


def test_bad_choices_are_named(raw):
    raw["ingest"]["source"] = "hltv"
    raw["ingest"]["sim"]["matches"][0]["map"] = "de_dust3"
    with pytest.raises(ParamsError) as err:
        parse_params(raw)
    assert "ingest.source" in str(err.value) and "de_dust3" in str(err.value)


def test_odd_max_rounds_and_same_team_are_refused(raw):
    raw["ingest"]["sim"]["max_rounds"] = 23
    raw["ingest"]["sim"]["matches"][1]["teams"] = ["FaZe", "FaZe"]
    with pytest.raises(ParamsError) as err:
        parse_params(raw)
    assert "ingest.sim.max_rounds" in str(err.value) and "FaZe" in str(err.value)


def test_missing_or_malformed_file(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("ingest: [unclosed\n")
    with pytest.raises(ParamsError, match=r"bad\.yaml: not valid YAML"):
        load_params(bad)
