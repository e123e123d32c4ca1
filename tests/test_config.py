"""params.yaml is read strictly: typos and out-of-range values are errors naming the key."""

import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from chimera.config import Params, ParamsError, load_params, parse_params


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


@pytest.mark.parametrize(
    ("group", "key", "value"),
    [
        ("sft", "batch_size", True),  # YAML's `true` is not a count
        ("sft", "gradient_checkpointing", "yes"),  # nor is "yes" a boolean
        ("sft", "max_steps", 10.0),  # nor 10.0 a step count
        ("render", "fps", "30"),
    ],
)
def test_values_of_the_wrong_type_are_refused_not_coerced(raw, group, key, value):
    raw[group][key] = value
    with pytest.raises(ParamsError, match=rf"{group}\.{key}: Input should be a valid"):
        parse_params(raw)


def test_a_duplicated_key_is_refused_with_its_line(tmp_path):
    text = Path("params.yaml").read_text().replace("sft:", "sft:\n  max_steps: 3", 1)
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ParamsError, match=r"duplicate key 'max_steps' \(line \d+\)"):
        load_params(path)


def test_save_steps_beyond_max_steps_is_refused(raw):
    raw["sft"]["max_steps"], raw["sft"]["save_steps"] = 10, 50
    with pytest.raises(ParamsError, match=r"sft: .*save_steps \(50\) > max_steps \(10\)"):
        parse_params(raw)


def test_params_errors_are_one_line(raw):
    raw["sft"]["batch_size"], raw["ingest"]["sim"]["sed"] = True, 1
    with pytest.raises(ParamsError) as err:
        parse_params(raw)
    assert (
        "\n" not in str(err.value)
        and "sft.batch_size" in str(err.value)
        and "ingest.sim.sed" in str(err.value)
    )


def _models(model: type[BaseModel]):
    yield model
    for field in model.model_fields.values():
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            for inner in (arg, *typing.get_args(arg)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    yield from _models(inner)


def test_params_yaml_is_the_one_home_of_every_value():
    """No field has a default in code, so a value cannot differ between params.yaml and the code."""
    with_default = [
        f"{m.__name__}.{name}"
        for m in set(_models(Params))
        for name, field in m.model_fields.items()
        if not field.is_required()
    ]
    assert with_default == []


def test_every_knob_says_what_it_is():
    undocumented = [
        f"{m.__name__}.{name}"
        for m in set(_models(Params))
        for name, field in m.model_fields.items()
        if not field.description
        and not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel))
    ]
    assert undocumented == []


def test_a_stage_reports_a_params_error_in_one_line(tmp_path):
    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["sft"]["batch_size"] = True
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    done = subprocess.run(
        [sys.executable, str(Path("stages/sft.py").resolve())], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "sft.batch_size" in lines[0], done.stderr


def test_real_broadcasts_cannot_live_in_renders_output(raw):
    raw["ingest"]["source"] = "demos"
    with pytest.raises(ParamsError, match=r"sync.vod_dir is data/raw/vods, the render stage's output"):
        parse_params(raw)
    raw["sync"]["vod_dir"] = "data/raw/broadcasts"
    assert parse_params(raw).sync.vod_dir == Path("data/raw/broadcasts")
