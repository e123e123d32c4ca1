"""check-model builds Qwen3-VL-8B on the meta device and checks the LoRA set-ups from params."""

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from chimera.cli import app
from chimera.config import load_params, parse_params
from chimera.models.check import LoraCoverageError, check

CONFIG = Path("configs/qwen3-vl-8b.json")


def test_8b_architecture_and_lora_coverage():
    arch = json.loads(CONFIG.read_text())
    vision, text = arch["vision_config"], arch["text_config"]
    params = load_params()
    # the real-size set-up: LoRA only (the tiny default also trains its head, see below)
    lora_only = params.sft.lora.model_copy(update={"modules_to_save": []})
    total, (sft, grpo) = check(
        CONFIG, params.model_copy(update={"sft": params.sft.model_copy(update={"lora": lora_only})})
    )
    assert 8.6e9 < total < 8.9e9  # the public model card: 8.77 B parameters
    # every block's qkv, proj, fc1, fc2 + the merger's two + two per deepstack merger
    assert sft.vision_modules == vision["depth"] * 4 + 2 + 2 * len(vision["deepstack_visual_indexes"])
    assert (
        sft.language_modules == grpo.language_modules == text["num_hidden_layers"] * 7
    )  # q k v o gate up down
    assert grpo.vision_modules == 0  # Phase 2 keeps the vision tower frozen
    assert 0 < grpo.trainable < sft.trainable < 0.02 * total
    assert 16 < sft.memory_gb < 24  # the seed's ~18 GB budget for SFT, before activations


def test_modules_to_save_are_counted_in_full():
    arch = json.loads(CONFIG.read_text())["text_config"]
    params = load_params()
    head = params.sft.lora.model_copy(update={"modules_to_save": ["language_model.norm", "lm_head"]})
    lora_only = params.sft.lora.model_copy(update={"modules_to_save": []})
    _, (with_head, _) = check(
        CONFIG, params.model_copy(update={"sft": params.sft.model_copy(update={"lora": head})})
    )
    _, (without, _) = check(
        CONFIG, params.model_copy(update={"sft": params.sft.model_copy(update={"lora": lora_only})})
    )
    hidden = arch["hidden_size"]
    assert with_head.trainable - without.trainable == arch["vocab_size"] * hidden + hidden


def test_a_typo_in_targets_fails_here_not_on_a_gpu(tmp_path):
    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["sft"]["lora"]["targets"] = raw["sft"]["lora"]["targets"].replace(
        "visual", "vision"
    )  # wrong module name
    try:
        check(CONFIG, parse_params(raw))
    except LoraCoverageError as err:
        assert "no vision-tower layer" in str(err)
    else:
        raise AssertionError("a vision LoRA that matches nothing must be refused")


def test_cli_prints_the_report():
    result = CliRunner().invoke(app, ["check-model", str(CONFIG)])
    assert result.exit_code == 0, result.output
    assert "8.77 B parameters" in result.output and "sft" in result.output and "grpo" in result.output
    assert "GRPO step at G = 16" in result.output
    missing = CliRunner().invoke(app, ["check-model", "configs/nope.json"])
    assert missing.exit_code == 2


def test_the_grpo_memory_estimate_at_the_seeds_group_size():
    from chimera.models.check import grpo_memory

    text = json.loads(CONFIG.read_text())["text_config"]
    _, (_, grpo) = check(CONFIG, load_params())
    m16, m8 = grpo_memory(CONFIG, grpo, 16, 1110, 350), grpo_memory(CONFIG, grpo, 8, 1110, 350)
    tokens = 16 * 1460
    kv = tokens * text["num_hidden_layers"] * 2 * text["num_key_value_heads"] * text["head_dim"] * 2 / 1e9
    assert m16.kv_cache == kv and m16.weights_and_lora == grpo.memory_gb  # no second model for the KL
    assert m16.activations == 2 * m8.activations and m16.logits == 2 * m8.logits
    assert 20 < m16.total < 40 and m8.total < m16.total  # above the seed's ~20 GB at G = 16
