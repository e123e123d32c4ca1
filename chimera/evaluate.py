"""The ``evaluate`` stage: one model on the test split (the paired comparison is :mod:`chimera.compare`).

Generation is greedy (batched, left-padded, a progress bar), through the model's own processor and the
fixed prompt of :mod:`chimera.prompt`. Each answer is parsed with :func:`chimera.schema.parse_output` and
scored with the functions of :mod:`chimera.rewards`, so evaluation and Phase 2 training measure the same
thing. ``data/predictions/<M>.jsonl`` keeps, per sample, the raw text, the parsed object or the parse
error, and every score; ``metrics/eval_<M>.json`` has the same keys for every model:

- ``n``, ``seconds_per_sample``;
- ``json_valid_rate``: share of answers that are a complete, schema-valid §4 object;
- ``field_accuracy``: mean and per-field match of ``game_state`` with R_percept's rules. It reads whatever
  ``game_state`` the answer holds, schema-valid or not (a 99 %-right object with one bad field still
  shows what the model sees); a field null in the truth is skipped, an answer with no object scores 0;
- ``reward_total``, ``reward_percept``, ``reward_decision``, ``reward_outcome``: the Phase 2 reward and
  its components (0 when the format gate is closed, as in training).

Every mean comes with a seeded bootstrap 95 % confidence interval (``scipy.stats.bootstrap``).
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.stats import bootstrap
from tqdm import tqdm

from chimera.config import EvaluateParams, RewardWeights
from chimera.errors import ChimeraError
from chimera.io import atomic_path, write_json
from chimera.models.directory import load
from chimera.prompt import messages
from chimera.rewards import field_match, total
from chimera.schema import GAME_STATE_FIELDS, parse_output

SCORES = (
    "field_accuracy",
    "json_valid",
    "reward_total",
    "reward_percept",
    "reward_decision",
    "reward_outcome",
)
log = logging.getLogger(__name__)


class EvaluateError(ChimeraError):
    """The test split cannot be evaluated; the message names the file."""


class ImageError(EvaluateError, ValueError):
    """A frame that cannot be shown to a model; the message names the file and why."""


VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")


class Generator:
    """Greedy answers from one model for batches of frames."""

    def __init__(self, model_dir: Path, max_new_tokens: int):
        self.model, self.processor = load(model_dir)
        self.model.eval()
        self.processor.tokenizer.padding_side = "left"
        self.max_new_tokens = max_new_tokens
        # A model must not start a new image in its answer: the vision placeholders are suppressed.
        self.suppress = self.processor.tokenizer.convert_tokens_to_ids(list(VISION_TOKENS))

    @torch.inference_mode()
    def __call__(self, images: list[Image.Image]) -> list[str]:
        chats = [[{**m, "content": _with_image(m["content"], img)} for m in messages()] for img in images]
        inputs = self.processor.apply_chat_template(
            chats,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs={"padding": True},
        ).to(self.model.device)
        out = self.model.generate(
            **inputs,
            do_sample=False,
            max_new_tokens=self.max_new_tokens,
            suppress_tokens=self.suppress,
            pad_token_id=self.processor.tokenizer.pad_token_id,
        )
        new = out[:, inputs["input_ids"].shape[1] :]
        return self.processor.batch_decode(new, skip_special_tokens=True)


def _with_image(content: list[dict], image: Image.Image) -> list[dict]:
    return [{**part, "image": image} if part["type"] == "image" else part for part in content]


MAX_ASPECT_RATIO = 200  # Qwen's image processor (smart_resize) refuses longer/shorter side above this


def open_image(path: Path) -> Image.Image:
    """The frame as RGB, or an :class:`ImageError` naming the file.

    Refused before any model sees them: unreadable files, decompression bombs (Pillow's warning is an
    error here, not only its hard limit) and strips the Qwen image processor cannot resize.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                frame = img.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(f"{path}: refused as a decompression bomb ({err})") from None
    except (OSError, ValueError) as err:
        raise ImageError(f"{path}: not a readable image ({err})") from None
    width, height = frame.size
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise ImageError(
            f"{path}: {width}x{height} is not a screenshot (aspect ratio above {MAX_ASPECT_RATIO}, which "
            "the image processor refuses)"
        )
    return frame


def score(text: str, truth: dict, weights: Mapping[str, float]) -> dict:
    """Every per-sample score of one answer against the ``grpo_data`` ground truth."""
    parsed = parse_output(text)
    state = (parsed.data or {}).get("game_state")
    state = state if isinstance(state, dict) else {}
    true_state = truth["game_state"]
    fields = {
        f: field_match(f, state.get(f), true_state[f]) for f in GAME_STATE_FIELDS if true_state[f] is not None
    }
    reward = total(text, truth, weights)
    return {
        "json_valid": float(parsed.ok),
        "field_accuracy": sum(fields.values()) / len(fields) if fields else 0.0,
        "fields": fields,
        "reward_total": reward["total"],
        "reward_percept": reward["percept"],
        "reward_decision": reward["decision"],
        "reward_outcome": reward["outcome"],
        "parsed": parsed.output.model_dump() if parsed.ok else None,
        "error": parsed.error,
    }


def predict(
    generator: Generator,
    rows: list[dict],
    batch_size: int,
    weights: Mapping[str, float],
    done: list[dict] | None = None,
) -> Iterator[dict]:
    """Prediction records for ``rows`` in order; the first ``len(done)`` are taken from ``done`` (resume)."""
    done = done or []
    yield from done
    todo = rows[len(done) :]
    with tqdm(total=len(rows), initial=len(done), desc="evaluate", unit="frame") as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            images = [open_image(Path(r["image"])) for r in batch]
            began = time.perf_counter()
            texts = generator(images)
            seconds = (time.perf_counter() - began) / len(batch)
            for row, text in zip(batch, texts, strict=True):
                yield {
                    "key": sample_key(row),
                    "image": row["image"],
                    "raw": text,
                    "seconds": seconds,
                    **score(text, row["ground_truth"], weights),
                }
            bar.update(len(batch))


def sample_key(row: dict) -> str:
    return f"{row['match']}@{row['tick']}"


def interval(values: list[float], seed: int) -> dict:
    """Mean and seeded percentile-bootstrap 95 % CI (a constant sample has a zero-width interval)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return {"mean": None, "ci_low": None, "ci_high": None}
    mean = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return {"mean": mean, "ci_low": mean, "ci_high": mean}
    res = bootstrap((x,), np.mean, n_resamples=2000, method="percentile", rng=np.random.default_rng(seed))
    ci = res.confidence_interval
    return {"mean": mean, "ci_low": float(ci.low), "ci_high": float(ci.high)}


def summarise(records: list[dict], seed: int) -> dict:
    """The ``metrics/eval_<M>.json`` figures for one model's prediction records."""
    per_field = {
        f: float(np.mean(vals)) if (vals := [r["fields"][f] for r in records if f in r["fields"]]) else None
        for f in GAME_STATE_FIELDS
    }
    return {
        "n": len(records),
        "json_valid_rate": interval([r["json_valid"] for r in records], seed),
        "field_accuracy": {
            **interval([r["field_accuracy"] for r in records], seed),
            "per_field": per_field,
        },
        **{k: interval([r[k] for r in records], seed) for k in SCORES if k.startswith("reward_")},
        "seconds_per_sample": float(np.mean([r["seconds"] for r in records])) if records else None,
    }


def _untimed(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "seconds"}


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open()] if path.exists() else []


def run(
    params: EvaluateParams,
    weights: RewardWeights,
    name: str,
    model_dir: Path,
    test_file: Path,
    out_file: Path,
    metrics_file: Path,
    fields_file: Path,
) -> dict:
    """Answer, parse and score every test frame; write the predictions, the metrics and the per-field bars.

    A killed run resumes from its ``.partial`` file when the inputs are the same.
    """
    rows = [json.loads(line) for line in test_file.open()]
    if not rows:
        raise EvaluateError(f"{test_file}: the test split is empty")
    generator = Generator(model_dir, params.max_new_tokens)
    partial = out_file.with_name(f".{out_file.name}.partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = read_records(partial)
    if [r["key"] for r in done] != [sample_key(r) for r in rows[: len(done)]]:
        done = []  # a partial file from other inputs is not resumed
    records = []
    with partial.open("a" if done else "w") as sink:
        for record in predict(generator, rows, params.batch_size, weights.model_dump(), done):
            if len(records) >= len(done):
                sink.write(json.dumps(record, sort_keys=True) + "\n")
                sink.flush()
            records.append(record)
    with atomic_path(out_file) as tmp:  # without the timings: the same model gives the same file
        tmp.write_text("".join(json.dumps(_untimed(r), sort_keys=True) + "\n" for r in records))
    partial.unlink()
    figures = {"model": name, **summarise(records, params.seed)}
    write_json(metrics_file, figures)
    write_json(
        fields_file,
        [
            {"model": name, "field": f, "accuracy": a}
            for f, a in figures["field_accuracy"]["per_field"].items()
        ],
    )
    log.info(
        "evaluate %s: n %d, json valid %.3f, field accuracy %.3f, reward %.3f",
        name,
        figures["n"],
        figures["json_valid_rate"]["mean"],
        figures["field_accuracy"]["mean"],
        figures["reward_total"]["mean"],
    )
    return figures
