"""What every training stage (SFT now, GRPO next) shares around TRL's trainers.

- :func:`use_bf16`: bf16 where the GPU supports it, fp32 on CPU.
- :func:`trainer_args`: the ``TrainingArguments`` both TRL configs take from our ``TrainParams``.
- :func:`lora_model`: the start model wrapped in a seeded PEFT LoRA, and which towers the LoRA reaches.
- :func:`with_live`: the trainer callbacks plus step-aligned DVCLive logging on the main process.
- :func:`fingerprint`: what a checkpoint must share with this run to be resumed from (params, data, base).
- :func:`resume_point`: the last *complete* checkpoint. transformers writes ``trainer_state.json`` last in
  ``Trainer._save_checkpoint`` (after the weights, optimizer, scheduler and RNG state), so a checkpoint
  whose state file is missing or unreadable was cut short by a kill; it is moved aside (out of the
  ``checkpoint-*`` pattern transformers looks for and rotates), and the previous one is used.
- :func:`train_loss`: the mean loss over *all* logged steps, a resumed run's earlier ones included
  (``TrainOutput.training_loss`` averages only the steps this process ran).
- :class:`StepAlignedDVCLive`: DVCLive logging at the trainer's global step, so a resumed curve continues.
- :func:`save`: the merged model (a plain Hugging Face directory) plus ``adapter/``, atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import torch
from accelerate import PartialState
from peft import PeftModel, get_peft_model
from transformers import TrainerCallback, set_seed
from transformers.integrations import DVCLiveCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from chimera.config import LoraParams, TrainParams
from chimera.io import atomic_path
from chimera.models.directory import content_hash, load
from chimera.models.lora import coverage, lora_config

log = logging.getLogger(__name__)
ADAPTER = "adapter"
TRAINER_STATE = "trainer_state.json"  # transformers.trainer.TRAINER_STATE_NAME, written last


def use_bf16(setting: str | bool) -> bool:
    if setting == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(setting)


def trainer_args(train: TrainParams, output_dir: Path) -> dict:
    """What ``SFTConfig`` and ``GRPOConfig`` both take from our knobs: steps, batch, schedule, checkpoints
    (every ``save_steps``, the last two kept), precision, and one log entry per step."""
    return {
        "output_dir": str(output_dir),
        "seed": train.seed,
        "data_seed": train.seed,
        "max_steps": train.max_steps,
        "per_device_train_batch_size": train.batch_size,
        "gradient_accumulation_steps": train.grad_accum,
        "learning_rate": train.learning_rate,
        "warmup_steps": train.warmup_steps,
        "lr_scheduler_type": train.lr_scheduler,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": train.save_steps,
        "save_total_limit": 2,
        "activation_checkpointing": train.gradient_checkpointing,
        "bf16": use_bf16(train.bf16),
        "use_cpu": not torch.cuda.is_available(),
        "dataloader_num_workers": 0,
        "report_to": "none",  # DVCLiveCallback is added by hand, to write where dvc.yaml expects it
        "disable_tqdm": False,
    }


def lora_model(model_dir: Path, seed: int, lora: LoraParams) -> tuple[PeftModel, object, int, int]:
    """The model in ``model_dir`` in the LoRA of ``lora`` (initialised from ``seed``), its processor, and
    how many vision and language modules the LoRA wraps (each stage decides which towers it needs)."""
    model, processor = load(model_dir)
    set_seed(seed)  # the LoRA init draws from the global generator
    peft_model = get_peft_model(model, lora_config(lora))
    vision, language = coverage(peft_model)
    return peft_model, processor, vision, language


def with_live(callbacks: Iterable[TrainerCallback], live_dir: Path | None, resuming: bool) -> list:
    """``callbacks`` plus DVCLive logging to ``live_dir`` at the global step (main process only)."""
    out = list(callbacks)
    if live_dir is not None and PartialState().is_main_process:
        from dvclive import Live

        live = Live(str(live_dir), dvcyaml=None, save_dvc_exp=False, resume=resuming)
        out.append(StepAlignedDVCLive(live=live))
    return out


def fingerprint(settings: object, data_files: Iterable[Path], base_dir: Path) -> str:
    """A short hash of the settings (JSON-able), the data files' bytes and the base model's content."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in data_files:
        digest.update(path.read_bytes())
    digest.update(content_hash(base_dir).encode())
    return digest.hexdigest()[:16]


def _step(path: Path) -> int | None:
    tail = path.name[len(PREFIX_CHECKPOINT_DIR) + 1 :]
    return int(tail) if path.name.startswith(f"{PREFIX_CHECKPOINT_DIR}-") and tail.isdigit() else None


def _complete(path: Path) -> bool:
    try:
        state = json.loads((path / TRAINER_STATE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("global_step") == _step(path)


def resume_point(directory: Path) -> Path | None:
    """The newest complete checkpoint in ``directory``; incomplete ones are moved aside with a warning."""
    found = sorted(
        (s, p) for p in directory.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if (s := _step(p)) is not None
    )
    for _, path in reversed(found):
        if _complete(path):
            return path
        aside = path.with_name(f"incomplete-{path.name}")
        n = 1
        while aside.exists():
            aside, n = path.with_name(f"incomplete-{path.name}-{n}"), n + 1
        path.rename(aside)
        log.warning(
            "%s: incomplete checkpoint (no readable %s; killed while saving), moved to %s",
            path,
            TRAINER_STATE,
            aside.name,
        )
    return None


def train_loss(log_history: list[dict]) -> float | None:
    """Mean of the per-step ``loss`` entries of a trainer state's log history (all steps, resumed or not)."""
    losses = [entry["loss"] for entry in log_history if "loss" in entry and "step" in entry]
    return sum(losses) / len(losses) if losses else None


class StepAlignedDVCLive(DVCLiveCallback):
    """transformers' DVCLive callback, logging at the trainer's global step instead of counting log calls,
    so the curves of a resumed run continue at the checkpoint's step, not after the last logged one."""

    def on_log(self, args, state, control, **kwargs):
        if self.live is not None:
            self.live.step = state.global_step
        super().on_log(args, state, control, **kwargs)


def save(peft_model: PeftModel, processor, out_dir: Path) -> None:
    """``out_dir``: the merged model + processor; ``out_dir/adapter``: the LoRA adapter alone."""
    with atomic_path(out_dir) as tmp:
        peft_model.save_pretrained(tmp / ADAPTER, safe_serialization=True)
        merged = peft_model.merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        processor.save_pretrained(tmp)
