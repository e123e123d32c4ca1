"""The LoRA set-ups of params (``sft.lora``, ``grpo.lora``) as PEFT configs, and what they reach."""

from __future__ import annotations

import torch
from peft import LoraConfig

from chimera.config import LoraParams


def lora_config(lora: LoraParams) -> LoraConfig:
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.targets,
        modules_to_save=lora.modules_to_save or None,
        task_type="CAUSAL_LM",
    )


def coverage(peft_model: torch.nn.Module) -> tuple[int, int]:
    """How many modules a LoRA wraps in the vision tower and in the language model."""
    wrapped = [n for n, m in peft_model.named_modules() if len(getattr(m, "lora_A", ()))]
    return sum(".visual." in n for n in wrapped), sum(".language_model." in n for n in wrapped)
