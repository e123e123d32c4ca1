"""The real-size training path on a GPU, without downloading anything: ``make gpu-smoke``.

Builds the architecture of ``CONFIG`` (default: Qwen3-VL-8B, ``configs/qwen3-vl-8b.json``) with random
weights in bf16, with the locally trained tokenizer and Qwen's image processing, saves it as a model
directory, and runs the project's own SFT and GRPO trainers (:func:`chimera.sft.build_trainer`,
:func:`chimera.grpo.build_trainer`, the params in ``params.yaml`` with a few steps) on synthetic
1280×720 frames: two SFT steps with LoRA on both towers, two GRPO steps at G = 4 with the vision cache.
It prints the step times and the peak GPU memory of each, the figures the README records. Nothing else
depends on it; on a machine without a GPU it runs on the CPU (only sensible with a small config, as the
test does).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

from chimera.config import Params, load_params
from chimera.models.directory import ImageOnlyProcessor
from chimera.models.tiny import SPECIAL_TOKENS, chat_template, image_processor, train_tokenizer
from chimera.phrases import phrase
from chimera.schema import ModelOutput

DEFAULT_CONFIG = Path("configs/qwen3-vl-8b.json")


def random_model(config_path: Path, params: Params, out_dir: Path, dtype: torch.dtype) -> None:
    """The architecture of ``config_path`` with random weights, our tokenizer and processor, saved."""
    tokenizer = train_tokenizer(params.model.tiny.vocab_size, params.model.seed)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    data = {k: v for k, v in json.loads(config_path.read_text()).items() if not k.startswith("_")}
    data.update(
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    data["text_config"] = {**data["text_config"], "pad_token_id": ids["<|endoftext|>"]}
    config = Qwen3VLConfig(**{k: v for k, v in data.items() if k != "model_type"})
    torch.manual_seed(params.model.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        model = Qwen3VLForConditionalGeneration(config).to(dtype)
    model.save_pretrained(out_dir, safe_serialization=True)
    processor = ImageOnlyProcessor(
        image_processor=image_processor(params.model.max_image_tokens),
        tokenizer=tokenizer,
        chat_template=chat_template(),
    )
    processor.save_pretrained(out_dir)


def synthetic_rows(out_dir: Path, n: int) -> list[dict]:
    """``grpo_data``-shaped rows on 1280×720 frames with the example state written on them."""
    example = ModelOutput.example()
    state = example.game_state.model_dump()
    behavior = {
        "movement_direction": 0,
        "objective_direction": 1,
        "utility_used": ["smoke"],
        "initiated_engagement": 0,
        "engagement_delay": 0.5,
    }
    rows = []
    for i in range(n):
        image = Image.new("RGB", (1280, 720), (30 + 10 * i, 40, 50))
        ImageDraw.Draw(image).text((40, 660), f"HP {state['player_health']}  ${state['player_money']}")
        path = out_dir / f"frame-{i}.jpg"
        image.save(path)
        truth = {
            "game_state": state,
            "unknown": [],
            "pro_action": {"behavior": behavior, "description": phrase(behavior)},
            "round_won": bool(i % 2),
            "player_contribution": {
                "damage_dealt": 50,
                "max_round_damage": 100,
                "survival_time": 30.0,
                "round_duration": 60.0,
                "objective_action": 0,
            },
        }
        rows.append({"image": str(path), "match": "smoke", "round": 1, "tick": i, "score": [0, 0],
                     "ground_truth": truth})  # fmt: skip
    return rows


def _peak_gb() -> float | None:
    return torch.cuda.max_memory_allocated() / 1e9 if torch.cuda.is_available() else None


def _reset_peak() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def run(config_path: Path, params: Params, steps: int = 2, generations: int = 4) -> dict:
    from chimera.grpo import build_trainer as grpo_trainer
    from chimera.sft import build_trainer as sft_trainer

    gpu = torch.cuda.is_available()
    figures: dict = {"device": torch.cuda.get_device_name() if gpu else "cpu", "config": str(config_path)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        random_model(config_path, params, root / "model", torch.bfloat16 if gpu else torch.float32)
        figures["build_and_save_s"] = round(time.perf_counter() - began, 1)
        rows = synthetic_rows(root, 4)
        real_size = {"max_steps": steps, "save_steps": steps, "warmup_steps": 0, "batch_size": 1,
                     "gradient_checkpointing": gpu}  # fmt: skip
        lora = params.sft.lora.model_copy(update={"modules_to_save": []})  # a pretrained head stays
        sft = params.sft.model_copy(update={**real_size, "lora": lora})
        grpo = params.grpo.model_copy(
            update={
                **real_size,
                "batch_size": generations,
                "num_generations": generations,
                "vision_cache": True,
            }
        )
        smoke = params.model_copy(update={"sft": sft, "grpo": grpo})
        for name, build in (("sft", sft_trainer), ("grpo", grpo_trainer)):
            _reset_peak()
            trainer = build(smoke, root / "model", rows, root / f"{name}-checkpoints")
            result = trainer.train()
            figures[name] = {
                "steps": result.global_step,
                "seconds_per_step": round(result.metrics["train_runtime"] / result.global_step, 2),
                "peak_gpu_gb": _peak_gb(),
            }
            del trainer
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.config, load_params(), steps=args.steps), indent=1))


if __name__ == "__main__":
    main()
