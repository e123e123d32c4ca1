"""The base model: the tiny Qwen3-VL is built deterministically, saves and loads like a real checkpoint,
and a bad checkpoint directory is one clear error."""

import hashlib
import json
import shutil

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import AutoProcessor

from chimera.config import load_params
from chimera.models.base import prepare, validate_checkpoint
from chimera.models.directory import ImageOnlyProcessor, ModelDirError, load, resolve
from chimera.prompt import messages

# What these tests check is the tiny build itself (the default model.base points at the shipped checkpoint)
MODEL = load_params().model.model_copy(update={"base": "tiny"})


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "base"
    prepare(MODEL, out)
    return out


def _weights_hash(directory) -> str:
    return hashlib.sha256((directory / "model.safetensors").read_bytes()).hexdigest()


def test_tiny_build_is_deterministic(base_dir, tmp_path):
    again = tmp_path / "again"
    prepare(MODEL, again)
    assert _weights_hash(base_dir) == _weights_hash(again)
    assert (base_dir / "tokenizer.json").read_text() == (again / "tokenizer.json").read_text()
    other = tmp_path / "other"
    prepare(MODEL.model_copy(update={"seed": MODEL.seed + 1}), other)
    assert _weights_hash(other) != _weights_hash(base_dir)


def test_saved_model_loads_and_reads_a_broadcast_frame(base_dir):
    model, processor = load(base_dir)
    assert isinstance(processor, ImageOnlyProcessor)
    text = processor.apply_chat_template(messages(), add_generation_prompt=True, tokenize=False)
    image = Image.new("RGB", (1280, 720), (40, 40, 40))
    batch = processor(text=[text], images=[image], return_tensors="pt")
    vision_tokens = int(batch["image_grid_thw"].prod()) // 4
    assert vision_tokens <= MODEL.max_image_tokens
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 5


def test_auto_processor_returns_the_image_only_processor_once_registered(base_dir):
    load(base_dir)  # registers
    assert isinstance(AutoProcessor.from_pretrained(base_dir), ImageOnlyProcessor)


def test_vision_tower_has_the_linear_layers_lora_targets(base_dir):
    model, _ = load(base_dir)
    names = [n for n, _ in model.named_modules()]
    for suffix in ("attn.qkv", "attn.proj", "mlp.linear_fc1", "merger.linear_fc1"):
        assert any(n.startswith("model.visual") and n.endswith(suffix) for n in names), suffix


def test_bad_checkpoint_directories_are_one_clear_error(tmp_path):
    with pytest.raises(ModelDirError, match="neither 'tiny' nor an existing directory"):
        validate_checkpoint(tmp_path / "missing")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ModelDirError, match="model_type is 'llama'"):
        validate_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen3_vl"}))
    with pytest.raises(ModelDirError, match=r"no \.safetensors"):
        validate_checkpoint(tmp_path)
    save_file({"w": torch.zeros(1)}, tmp_path / "model.safetensors")
    with pytest.raises(ModelDirError, match="processor does not load"):
        validate_checkpoint(tmp_path)
    with pytest.raises(ModelDirError, match=r"missing: not an existing directory"):
        load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelDirError, match=r"empty: not a model directory \(no config\.json\)"):
        load(tmp_path / "empty")


def test_truncated_weights_are_a_model_dir_error(base_dir, tmp_path):
    cut = tmp_path / "cut"
    shutil.copytree(base_dir, cut)
    weights = cut / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelDirError, match=r"cut/model\.safetensors: safetensors weights corrupt"):
        load(cut)
    with pytest.raises(ModelDirError, match=r"cut/model\.safetensors: safetensors weights corrupt"):
        validate_checkpoint(cut)  # model.base pointing at it is refused by the same check


def test_a_checkpoint_is_recorded_by_path_and_hash_not_copied(base_dir, tmp_path):
    pointer = tmp_path / "pointer"
    info = prepare(MODEL.model_copy(update={"base": str(base_dir)}), pointer)
    assert info["base"] == "checkpoint" and len(info["sha256"]) == 64
    assert not list(pointer.glob("*.safetensors"))
    assert resolve(pointer) == base_dir.resolve()
    model, _ = load(pointer)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_a_checkpoint_inside_the_project_is_recorded_relative_to_it(base_dir, tmp_path, monkeypatch):
    """The pointer models/base records, and PEFT copies into every adapter, is the same in every clone of
    the project (a dvc pull of it must not point into another checkout); one outside it stays absolute."""
    monkeypatch.chdir(base_dir.parent)
    assert validate_checkpoint(base_dir)["path"] == base_dir.name
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert validate_checkpoint(base_dir)["path"] == str(base_dir.resolve())
