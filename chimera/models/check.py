"""``chimera check-model``: the real-size model and its LoRA set-ups, checked on CPU without weights.

The architecture is built on PyTorch's meta device from a config file kept in the repository (no
weights, no download, no memory), the SFT and GRPO LoRA configurations from params are applied with
PEFT, and the report says which towers each one reaches, how many parameters train, and roughly how
much GPU memory training needs in bf16 — so a typo in ``lora.targets`` fails here, not after an hour
on a rented GPU. SFT must reach both towers (SPEC §9); GRPO must reach the language model and nothing
in the vision tower (Phase 2 keeps it frozen).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from peft import get_peft_model
from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

from chimera.config import LoraParams, Params
from chimera.models.lora import coverage, lora_config

BYTES_BF16 = 2
BYTES_PER_TRAINED = 4 + 4 + 8  # fp32 master weight + gradient + two Adam moments


class LoraCoverageError(ValueError):
    """A LoRA set-up that does not reach the towers it must (or reaches one it must not)."""


@dataclass(frozen=True)
class LoraReport:
    name: str
    vision_modules: int
    language_modules: int
    trainable: int
    memory_gb: float


def build_meta(config_path: Path) -> Qwen3VLForConditionalGeneration:
    data = {k: v for k, v in json.loads(config_path.read_text()).items() if not k.startswith("_")}
    if data.pop("model_type", "qwen3_vl") != "qwen3_vl":
        raise ValueError(f"{config_path}: not a Qwen3-VL config")
    with torch.device("meta"):
        return Qwen3VLForConditionalGeneration(Qwen3VLConfig(**data))


def lora_report(config_path: Path, name: str, lora: LoraParams, want_vision: bool) -> LoraReport:
    model = build_meta(config_path)
    total = sum(p.numel() for p in model.parameters())
    peft_model = get_peft_model(model, lora_config(lora))
    vision, language = coverage(peft_model)
    if language == 0:
        raise LoraCoverageError(f"{name}: lora.targets reaches no language-model layer")
    if want_vision and vision == 0:
        raise LoraCoverageError(
            f"{name}: lora.targets reaches no vision-tower layer (SPEC §9 needs both towers)"
        )
    if not want_vision and vision:
        raise LoraCoverageError(
            f"{name}: lora.targets reaches {vision} vision layers; the tower must stay frozen"
        )
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    memory = (total * BYTES_BF16 + trainable * BYTES_PER_TRAINED) / 1e9
    return LoraReport(name, vision, language, trainable, memory)


def check(config_path: Path, params: Params) -> tuple[int, list[LoraReport]]:
    total = sum(p.numel() for p in build_meta(config_path).parameters())
    reports = [
        lora_report(config_path, "sft", params.sft.lora, want_vision=True),
        lora_report(config_path, "grpo", params.grpo.lora, want_vision=False),
    ]
    return total, reports
