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
SEED_GENERATIONS = 16  # the seed's G on a GPU
# A 1280x720 frame under Qwen3-VL's own processor: 1280x704 after resizing to 32 px units, 40x22 = 880
# vision tokens; the instruction (~900 characters) is ~230 tokens; the §4 answer ~350 (evaluate params).
PROMPT_TOKENS, COMPLETION_TOKENS = 880 + 230, 350


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


@dataclass(frozen=True)
class GrpoMemory:
    """A GRPO step's GPU memory in bf16 at G completions per prompt, one prompt per device (GB)."""

    generations: int
    sequence: int  # prompt (image + instruction) + completion tokens
    weights_and_lora: float  # the policy; the reference is the same weights with the adapter disabled
    kv_cache: float  # generation: keys and values of every layer for G sequences
    activations: float  # policy pass with activation checkpointing: each layer's input for G sequences
    logits: float  # the completion's logits in fp32, one vocabulary row per token (TRL chunks this)

    @property
    def total(self) -> float:
        return self.weights_and_lora + max(self.kv_cache, self.activations + self.logits)


def grpo_memory(
    config_path: Path, report: LoraReport, generations: int, prompt_tokens: int, completion_tokens: int
) -> GrpoMemory:
    """Rough peak of one GRPO step (generation and the policy pass do not overlap, so their maximum).

    No second model for the KL term: with PEFT the reference log-probs come from the policy with the
    adapter disabled. Activations assume checkpointing (one hidden vector per token per layer kept);
    the logits are the full vocabulary over the completion in fp32, which TRL's chunked log-prob kernel
    bounds in practice, so this errs high.
    """
    text = json.loads(config_path.read_text())["text_config"]
    layers, hidden = text["num_hidden_layers"], text["hidden_size"]
    kv_width = 2 * text["num_key_value_heads"] * text["head_dim"]
    sequence = prompt_tokens + completion_tokens
    tokens = generations * sequence
    return GrpoMemory(
        generations=generations,
        sequence=sequence,
        weights_and_lora=report.memory_gb,
        kv_cache=tokens * layers * kv_width * BYTES_BF16 / 1e9,
        activations=tokens * layers * hidden * BYTES_BF16 / 1e9,
        logits=generations * completion_tokens * text["vocab_size"] * 4 / 1e9,
    )


def check(config_path: Path, params: Params) -> tuple[int, list[LoraReport]]:
    total = sum(p.numel() for p in build_meta(config_path).parameters())
    reports = [
        lora_report(config_path, "sft", params.sft.lora, want_vision=True),
        lora_report(config_path, "grpo", params.grpo.lora, want_vision=False),
    ]
    return total, reports
