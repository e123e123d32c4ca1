"""The ``grpo`` stage (Models C and D): TRL's ``GRPOTrainer`` on screenshots, the vision tower frozen.

C starts from ``models/sft`` (the merged SFT model), D from ``models/base``. Each gets a PEFT LoRA on the
language layers only (``grpo.lora``; a pattern that reaches the vision tower is refused), and every vision
parameter is frozen, checked before training. With a PEFT model TRL needs no second copy for the KL
term: the reference log-probs are the same network with the adapter disabled, which is the start model,
so C's reference is B and D's is A (``beta = grpo.kl_coef``).

The data are the ``grpo_data`` rows with a decision left (SPEC §7): the frame, the fixed instruction and
the ground truth the rewards read. :func:`chimera.rewards.reward_functions` gives one TRL reward function
per component; ``reward_weights=[1, 0, 0, 0, 0]`` lets only the total drive the policy, while TRL logs
every component's mean, the KL, completion lengths, clip ratios and ``frac_reward_zero_std`` (the share
of groups whose rewards are all equal: no learning signal) per step, which dvclive writes under
``metrics/grpo_<M>/``.

With ``grpo.vision_cache`` the trainer is :class:`chimera.vision_cache.CachedGRPOTrainer`: the image
processor and the frozen tower run once per distinct frame instead of 3·G times (SPEC §11). Checkpoints and
resume are :mod:`chimera.training`'s, as for SFT.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import datasets
import torch
from accelerate import PartialState
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from chimera.config import GrpoParams, Params
from chimera.errors import ChimeraError
from chimera.io import write_json
from chimera.models.directory import check, resolve
from chimera.prompt import INSTRUCTION
from chimera.rewards import COMPONENTS, reward_functions
from chimera.training import fingerprint, lora_model, resume_point, save, trainer_args, with_live
from chimera.vision_cache import CachedGRPOTrainer

log = logging.getLogger(__name__)


class GrpoError(ChimeraError):
    """GRPO refused its inputs: no decision frame to train on, or a LoRA that reaches the vision tower."""


def examples(rows: list[dict]) -> datasets.Dataset:
    """TRL's conversational prompt with an ``image`` column, and the ground truth the rewards read."""
    records = [
        {
            "prompt": [{"role": "user", "content": INSTRUCTION}],
            "image": row["image"],
            "ground_truth": json.dumps(row["ground_truth"], sort_keys=True),
        }
        for row in rows
        if row["ground_truth"]["pro_action"] is not None
    ]
    if not records:
        raise GrpoError("no training frame has a decision left (SPEC §7): nothing for GRPO to learn from")
    return datasets.Dataset.from_list(records).cast_column("image", datasets.Image())


def trainer_config(grpo: GrpoParams, output_dir: Path) -> GRPOConfig:
    return GRPOConfig(
        **trainer_args(grpo, output_dir),
        num_generations=grpo.num_generations,
        temperature=grpo.temperature,
        max_completion_length=grpo.max_completion_length,
        loss_type=grpo.loss_type,
        scale_rewards=grpo.scale_rewards,
        num_iterations=grpo.num_iterations,
        epsilon=grpo.epsilon,
        beta=grpo.kl_coef,
        disable_dropout=grpo.disable_dropout,
        reward_weights=[1.0 if c == "total" else 0.0 for c in COMPONENTS],
        use_vllm=grpo.use_vllm,
        vllm_mode=grpo.vllm_mode,
    )


def trainable_vision(model: torch.nn.Module) -> list[str]:
    """Names of vision-tower parameters that would be trained (must be empty in Phase 2)."""
    return [n for n, p in model.named_parameters() if ".visual." in f".{n}" and p.requires_grad]


def build_trainer(
    params: Params,
    start_dir: Path,
    rows: list[dict],
    checkpoints: Path,
    live_dir: Path | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    resuming: bool = False,
    reward_funcs: Sequence | None = None,
) -> GRPOTrainer:
    """The GRPOTrainer on a language-only LoRA of the model in ``start_dir``, the vision tower frozen.

    ``reward_funcs`` replaces the SPEC §8 rewards (in :data:`chimera.rewards.COMPONENTS` order, the first
    drives the policy): tests use it to give an untrained model a reward with some spread."""
    grpo = params.grpo
    peft_model, processor, vision, language = lora_model(start_dir, grpo.seed, grpo.lora)
    if vision or not language:
        raise GrpoError(
            f"grpo.lora.targets wraps {vision} vision and {language} language layers; Phase 2 trains the "
            "language model only (the vision tower stays frozen)"
        )
    for name, param in peft_model.named_parameters():
        if ".visual." in f".{name}":
            param.requires_grad_(False)
    if trainable_vision(peft_model):
        raise GrpoError(f"vision parameters left trainable: {trainable_vision(peft_model)[:3]}")
    callbacks = with_live(callbacks, live_dir, resuming)
    cached = {"share_prompt": grpo.share_prompt} if grpo.vision_cache else {}
    return (CachedGRPOTrainer if grpo.vision_cache else GRPOTrainer)(
        model=peft_model,
        reward_funcs=list(
            reward_funcs or reward_functions(grpo.reward_weights.model_dump(), grpo.reward_variant)
        ),
        args=trainer_config(grpo, checkpoints),
        train_dataset=examples(rows),
        processing_class=processor,
        callbacks=callbacks,
        **cached,
    )


def checkpoint_key(params: Params, train_file: Path, start_dir: Path) -> str:
    """What a GRPO checkpoint must share with this run to be resumed from: params, data, start model."""
    return fingerprint([params.grpo.model_dump(mode="json")], [train_file], start_dir)


def _last(history: list[dict], key: str) -> float | None:
    values = [entry[key] for entry in history if key in entry]
    return values[-1] if values else None


def run(
    params: Params,
    start_dir: Path,
    grpo_dir: Path,
    out_dir: Path,
    work_dir: Path,
    live_dir: Path | None,
    summary_file: Path | None,
    callbacks: Sequence[TrainerCallback] = (),
    reward_funcs: Sequence | None = None,
) -> dict:
    """Train (resuming a killed run of the same configuration), save adapter + merged model, summarise.

    ``reward_funcs``: as for :func:`build_trainer` (tests)."""
    train_file = grpo_dir / "train.jsonl"
    rows = [json.loads(line) for line in train_file.open()]
    checkpoints = work_dir / checkpoint_key(params, train_file, start_dir)
    resume = resume_point(checkpoints)
    trainer = build_trainer(
        params, start_dir, rows, checkpoints, live_dir, callbacks, bool(resume), reward_funcs
    )
    if resume:
        log.info("resuming from %s", resume)
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    history = trainer.state.log_history
    summary = {
        "steps": result.global_step,
        "prompts": trainer.train_dataset.num_rows,
        "reward_variant": params.grpo.reward_variant,
        "scale_rewards": params.grpo.scale_rewards,
        "final": {
            key: _last(history, key)
            for key in (
                "kl",
                "reward",
                *(f"rewards/reward_{c}/mean" for c in COMPONENTS),
                "frac_reward_zero_std",
                "completions/mean_length",
            )
        },
        "frac_reward_zero_std_mean": _mean(
            [e["frac_reward_zero_std"] for e in history if "frac_reward_zero_std" in e]
        ),
        "seconds": result.metrics.get("train_runtime"),
    }
    if PartialState().is_main_process:
        save(trainer.model, check(resolve(start_dir)), out_dir)  # training never changes the processor
        shutil.rmtree(checkpoints)
        if summary_file is not None:
            write_json(summary_file, summary)
    log.info("grpo: %s", summary)
    return summary


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
