"""The ``sft`` stage (Model B): TRL's ``SFTTrainer`` with a PEFT LoRA on both towers of the base model.

Each training example is the frame, the fixed instruction (:mod:`chimera.prompt`) and, as the assistant
turn, the §4 JSON of :func:`chimera.targets.sft_target`. TRL does the rest: its vision collator runs the
model's own processor on the image, ``assistant_only_loss`` masks everything but the answer (TRL swaps in
its training chat template for Qwen3-VL), and ``DVCLiveCallback`` logs loss and learning rate per step.

Two checks guard the classic failure of a vision LoRA that silently matches nothing: before training,
the LoRA must wrap modules in both towers (:func:`chimera.models.lora.coverage`);
at the first optimiser step, every vision-tower LoRA module must have a non-zero gradient
(:class:`VisionGradientCheck`). Either failing stops the stage with an error.

Checkpoints go to ``models/sft-checkpoints/<fingerprint>/``, where the fingerprint covers the params, the
training data and the base model: a rerun after a kill resumes from the last checkpoint of the same
configuration, and never from one of a different configuration. After training, ``models/sft/`` holds
the merged model (a plain Hugging Face directory every later stage loads) and ``models/sft/adapter/``.
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
from trl import SFTConfig, SFTTrainer

from chimera.advice import situational
from chimera.config import Params, TrainParams
from chimera.errors import ChimeraError
from chimera.io import write_json
from chimera.models.lora import coverage
from chimera.phrases import extract, phrase
from chimera.prompt import INSTRUCTION
from chimera.rewards import decision
from chimera.rounds import select_frames
from chimera.schema import ModelOutput
from chimera.targets import sft_target
from chimera.training import (
    fingerprint,
    lora_model,
    resume_point,
    save,
    train_loss,
    trainer_args,
    with_live,
)

log = logging.getLogger(__name__)


class SftError(ChimeraError):
    """SFT refused its inputs: an empty split, or a LoRA that does not reach (or train) both towers."""


def examples(rows: list[dict], max_rounds: int, advice: str) -> datasets.Dataset:
    """TRL's conversational vision format: ``images`` (decoded lazily by ``datasets``) and ``messages``."""
    records = [
        {
            "images": [row["image"]],
            "messages": [
                {"role": "user", "content": INSTRUCTION},
                {"role": "assistant", "content": answer(row, max_rounds, advice).model_dump_json()},
            ],
        }
        for row in rows
    ]
    return datasets.Dataset.from_list(records).cast_column("images", datasets.Sequence(datasets.Image()))


def advice_features(truth: dict, advice: str) -> dict:
    """``situational``: the rule on the visible state (SPEC §9); ``pro``: what the pro did (the imitation
    arm), where the frame has a decision left, else the rule."""
    pro = truth["pro_action"]
    if advice == "pro" and pro is not None:
        return pro["behavior"]
    return situational(truth["game_state"])


def answer(row: dict, max_rounds: int, advice: str) -> ModelOutput:
    """The target for one ``grpo_data`` row."""
    truth = row["ground_truth"]
    features = advice_features(truth, advice)
    return sft_target(truth["game_state"], features, tuple(row["score"]), row["round"], max_rounds)


def agreement_with_pro(rows: list[dict], max_rounds: int, advice: str) -> dict:
    """How much of the pro's play the targets carry, on decision frames: the share whose advice, read back
    by the decision reward's extractor, is exactly the pro's behaviour, and the targets' mean R_decision.
    1.0 for the imitation arm; the rule's chance agreement for ``situational``."""
    pairs = [
        (answer(r, max_rounds, advice).advice, r["ground_truth"]["pro_action"]["behavior"])
        for r in rows
        if r["ground_truth"]["pro_action"] is not None
    ]
    if not pairs:
        return {"exact": None, "decision_reward": None, "frames": 0}
    exact = [extract(a.primary_action) == extract(phrase(pro)) for a, pro in pairs]
    reward = [decision(a.model_dump(), pro) for a, pro in pairs]
    n = len(pairs)
    return {"exact": sum(exact) / n, "decision_reward": sum(reward) / n, "frames": n}


def trainer_config(train: TrainParams, output_dir: Path, validate: bool) -> SFTConfig:
    """TRL's config from our knobs; with ``validate``, the val loss is logged at every checkpoint."""
    return SFTConfig(
        **trainer_args(train, output_dir),
        eval_strategy="steps" if validate else "no",
        eval_steps=train.save_steps,
        per_device_eval_batch_size=train.batch_size,
        assistant_only_loss=True,
        max_length=None,  # image tokens must never be truncated
    )


class VisionGradientCheck(TrainerCallback):
    """Stops training unless every vision-tower LoRA module has a non-zero gradient at the first step.

    LoRA's B matrices start at zero, so at step one only the B side has a gradient; it is enough: a
    non-zero gradient on B means the vision LoRA is on the loss path.
    """

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.checked = False

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        if not self.checked:
            vision_grad_norms(self.model, require=True)
            self.checked = True


def vision_grad_norms(model: torch.nn.Module, require: bool = False) -> dict[str, float]:
    """Gradient norm of each vision-tower LoRA module (A and B together); raise on a zero if ``require``."""
    norms: dict[str, float] = {}
    for name, module in model.named_modules():
        if ".visual." in name and hasattr(module, "lora_B") and len(module.lora_B):
            grads = [p.grad for p in module.parameters() if p.requires_grad and p.grad is not None]
            norms[name] = float(sum(g.float().norm() ** 2 for g in grads) ** 0.5) if grads else 0.0
    if require:
        dead = [n for n, v in norms.items() if v == 0.0]
        if not norms or dead:
            raise SftError(
                f"vision LoRA gets no gradient: {len(dead)} of {len(norms)} modules at zero "
                f"(first: {dead[:3]}); check sft.lora.targets"
            )
    return norms


def build_trainer(
    params: Params,
    base_dir: Path,
    rows: list[dict],
    checkpoints: Path,
    live_dir: Path | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    resuming: bool = False,
    val_rows: Sequence[dict] = (),
) -> SFTTrainer:
    """The SFTTrainer for ``rows`` on a LoRA-wrapped base model, with the vision LoRA checks in place;
    ``val_rows`` (when given) are the validation examples whose loss is logged at every checkpoint."""
    peft_model, processor, vision, language = lora_model(base_dir, params.sft.seed, params.sft.lora)
    if not vision or not language:
        raise SftError(
            f"sft.lora.targets wraps {vision} vision and {language} language layers; SFT needs both towers"
        )
    callbacks = with_live([VisionGradientCheck(peft_model), *callbacks], live_dir, resuming)
    return SFTTrainer(
        model=peft_model,
        args=trainer_config(params.sft, checkpoints, validate=bool(val_rows)),
        train_dataset=examples(rows, params.ingest.sim.max_rounds, params.sft.advice),
        eval_dataset=examples(list(val_rows), params.ingest.sim.max_rounds, params.sft.advice)
        if val_rows
        else None,
        processing_class=processor,
        callbacks=callbacks,
    )


def checkpoint_key(params: Params, train_file: Path, base_dir: Path) -> str:
    """What an SFT checkpoint must share with this run to be resumed from: params, data, base model."""
    settings = [params.sft.model_dump(mode="json"), params.model.model_dump(mode="json")]
    return fingerprint(settings, [train_file], base_dir)


def run(
    params: Params,
    base_dir: Path,
    grpo_dir: Path,
    out_dir: Path,
    work_dir: Path,
    live_dir: Path | None,
    summary_file: Path | None,
    callbacks: Sequence[TrainerCallback] = (),
) -> dict:
    """Train (resuming a killed run of the same configuration from its last complete checkpoint), then
    save the adapter and the merged model and write the summary."""
    train_file = grpo_dir / "train.jsonl"
    rows = [json.loads(line) for line in train_file.open()]
    if not rows:
        raise SftError(f"{train_file}: the training split is empty")
    checkpoints = work_dir / checkpoint_key(params, train_file, base_dir)
    resume = resume_point(checkpoints)
    val_file = grpo_dir / "val.jsonl"
    val = select_frames([json.loads(line) for line in val_file.open()], params.sft.val_frames_per_round)
    if not val:
        log.warning("%s: empty validation split, no val loss is logged", val_file)
    trainer = build_trainer(
        params, base_dir, rows, checkpoints, live_dir, callbacks, resuming=bool(resume), val_rows=val
    )
    if resume:
        log.info("resuming from %s", resume)
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    vision, language = coverage(trainer.model)
    summary = {
        "steps": result.global_step,
        "train_loss": train_loss(trainer.state.log_history),
        "val_loss": [
            {"step": e["step"], "loss": e["eval_loss"]} for e in trainer.state.log_history if "eval_loss" in e
        ],
        "val_examples": len(val),
        "vision_lora_modules": vision,
        "language_lora_modules": language,
        "examples": len(rows),
        "advice": params.sft.advice,
        "advice_agreement_with_pro": agreement_with_pro(
            rows, params.ingest.sim.max_rounds, params.sft.advice
        ),
        "seconds": result.metrics.get("train_runtime"),
    }
    if PartialState().is_main_process:
        save(trainer.model, trainer.processing_class, out_dir)
        shutil.rmtree(checkpoints)
        if summary_file is not None:
            write_json(summary_file, summary)
    log.info("sft: %s", summary)
    return summary
