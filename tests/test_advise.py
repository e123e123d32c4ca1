"""``chimera advise``: exit 0 with the pretty JSON, 1 with the parse error, 2 on bad input."""

import json
import shutil

import pytest
from PIL import Image
from typer.testing import CliRunner

from chimera import evaluate
from chimera.cli import app
from chimera.config import load_params
from chimera.models.base import prepare
from chimera.schema import ModelOutput


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "base"
    prepare(load_params().model.model_copy(update={"base": "tiny"}), out)  # a directory of weights to cut
    return out


@pytest.fixture
def frame(tmp_path):
    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (30, 50, 30)).save(path)
    return path


def advise(*args):
    return CliRunner().invoke(app, ["advise", *map(str, args)])


def test_missing_or_unreadable_image_is_exit_2(base_dir, tmp_path):
    result = advise(tmp_path / "nope.png", "--model", base_dir)
    assert result.exit_code == 2 and "nope.png" in result.output
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    result = advise(broken, "--model", base_dir)
    assert result.exit_code == 2 and "broken.png: not a readable image" in result.output


def test_a_model_directory_that_does_not_load_is_exit_2(frame, tmp_path):
    result = advise(frame, "--model", tmp_path)
    assert result.exit_code == 2 and "no config.json" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_garbage_from_a_real_model_is_exit_1(base_dir, frame):
    result = advise(frame, "--model", base_dir, "--max-new-tokens", "16")  # random weights: not JSON
    assert result.exit_code == 1
    assert "not a valid §4 object" in result.output


def test_a_valid_answer_is_printed_pretty_with_exit_0(base_dir, frame, monkeypatch):
    example = ModelOutput.example()
    monkeypatch.setattr(evaluate.Generator, "__call__", lambda self, images: [example.model_dump_json()])
    result = advise(frame, "--model", base_dir)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == example.model_dump()
    assert "\n  " in result.stdout  # indented
    raw = advise(frame, "--model", base_dir, "--raw")
    assert raw.exit_code == 0 and raw.stdout.strip() == example.model_dump_json()


@pytest.mark.parametrize("times", [1.5, 3], ids=["pillow-warns", "pillow-refuses"])
def test_a_decompression_bomb_is_exit_2(base_dir, tmp_path, monkeypatch, times):
    bomb = tmp_path / "bomb.png"
    Image.new("RGB", (640, 360)).save(bomb)
    # A real bomb is gigapixels; the same check at a lower limit. Pillow warns above the limit and
    # raises above twice it: both are refused.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", int(640 * 360 / times))
    result = advise(bomb, "--model", base_dir)
    assert result.exit_code == 2 and "bomb.png: refused as a decompression bomb" in result.output
    assert "Traceback" not in result.output


def test_a_strip_the_image_processor_refuses_is_exit_2(base_dir, tmp_path):
    strip = tmp_path / "strip.png"
    Image.new("RGB", (4000, 2)).save(strip)
    result = advise(strip, "--model", base_dir)
    assert result.exit_code == 2 and "strip.png: 4000x2 is not a screenshot" in result.output


def test_truncated_weights_are_exit_2(base_dir, frame, tmp_path):
    cut = tmp_path / "cut"
    shutil.copytree(base_dir, cut)
    weights = cut / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    result = advise(frame, "--model", cut)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
    assert "cut/model.safetensors: safetensors weights corrupt or truncated" in result.output
