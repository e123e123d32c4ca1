"""The ``evaluate`` stage: one model on the test split, beside the baselines it must beat (SPEC §10).

Generation is greedy (batched, left-padded, a progress bar, ``evaluate.workers`` processes answering
batches side by side), through the model's own processor and the fixed prompt of :mod:`chimera.prompt`.
Each answer is parsed with :func:`chimera.schema.parse_output` and scored with the functions of
:mod:`chimera.rewards`, so evaluation and Phase 2 training measure the same thing. The frames are
``evaluate.frames_per_round`` evenly spaced frames of every test round (rounds, not frames, are the unit
of evidence: a round's frames share its outcome), the same for every model.

Every frame is answered twice: with its own image, and with another test frame's image (the "does it
look" control of :mod:`chimera.baselines`); the constant answer and the chance level are scored on the
same frames. ``data/predictions/<M>.jsonl`` keeps, per frame, both raw answers, the parsed object or the
parse error, and every score. ``metrics/eval_<M>.json`` has the same keys for every model:

- ``n``, ``rounds``, ``matches``, ``decision_frames``, ``seconds_per_sample``;
- ``json_valid_rate``: share of answers that are a complete, schema-valid §4 object;
- ``field_accuracy``: mean and per-field match of ``game_state`` with R_percept's rules over the fields
  the truth knows (a null is a value; ``unknown`` fields are skipped). It reads whatever ``game_state``
  the answer holds, schema-valid or not; an answer with no object scores 0. ``per_field`` gives, per
  field, the frames scored (``n``), the model, the swapped control, the constant answer, chance, and the
  model's paired differences to the swapped control and to the constant answer;
- ``reward_total``, ``reward_percept``, ``reward_decision``, ``reward_outcome``: the Phase 2 reward and its
  components on the frames with a decision left (those Phase 2 trains on; 0 when the format gate is
  closed, as in training);
- ``advice``: per-feature balanced accuracy of the advice's behaviour against the pro's, and the advice
  validity rate (answers whose advice nothing in the visible state contradicts, :mod:`chimera.advice`);
- ``oracle_win_prob``: mean P(round win | the advised action) on the counterfactual oracle's frames
  (:mod:`chimera.oracle`; vague advice is worth a random legal action); ``oracle_uplift_vs_pro``: its
  paired difference to the pro's action; ``beyond_expert_rate``: on the frames where the advised action
  is not the pro's, the share where it wins more; ``oracle_baselines``: the pro, the best action
  (ceiling), a random legal action (floor), the unforced simulator policy, and the swapped control's and
  constant answer's advice. All ``None`` without an oracle (real demos);
- ``baselines``: the same figures for the swapped control and the constant answer, chance per field;
  ``vs_swapped`` / ``vs_constant``: paired differences; ``reads_the_frame``: the fields where the model
  beats both, with both cluster intervals above 0.

Every interval resamples (match, round) clusters (:mod:`chimera.intervals`) and carries its frame, round
and match counts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.metrics import balanced_accuracy_score
from tqdm import tqdm

from chimera import oracle
from chimera.advice import contradictions
from chimera.baselines import Chance, constant_answer, swap_partners
from chimera.config import EvaluateParams, RewardWeights
from chimera.errors import ChimeraError
from chimera.intervals import cluster_interval, excludes_zero, paired_difference
from chimera.io import atomic_path, write_json
from chimera.models.directory import load
from chimera.phrases import FEATURES, extract, phrase
from chimera.prompt import messages
from chimera.rewards import advice_text, field_match, known_fields, total
from chimera.rounds import round_of, sample_key, select_frames
from chimera.runtime import process_pool
from chimera.schema import GAME_STATE_FIELDS, parse_output

REWARDS = ("reward_total", "reward_percept", "reward_decision", "reward_outcome")
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


def score(text: str, truth: Mapping, weights: Mapping[str, float]) -> dict:
    """Every per-frame score of one answer against the ``grpo_data`` ground truth."""
    parsed = parse_output(text)
    state = (parsed.data or {}).get("game_state")
    state = state if isinstance(state, dict) else {}
    true_state = truth["game_state"]
    fields = {  # a field the answer leaves out is wrong, never an answered null
        f: field_match(f, state[f], true_state[f]) if f in state else 0.0
        for f in known_fields(truth.get("unknown"))
    }
    decides = truth.get("pro_action") is not None
    reward = total(text, truth, weights) if decides else None
    advice = advice_text(parsed.output.advice.model_dump()) if parsed.ok else None
    return {
        "json_valid": float(parsed.ok),
        "field_accuracy": sum(fields.values()) / len(fields) if fields else 0.0,
        "fields": fields,
        **{k: reward[k.removeprefix("reward_")] if reward else None for k in REWARDS},
        "advice_valid": None if advice is None else float(not contradictions(advice, true_state)),
        "advice": extract(advice) if advice is not None and decides else None,
        "parsed": parsed.output.model_dump() if parsed.ok else None,
        "error": parsed.error,
    }


_GENERATORS: dict[tuple[str, int], Generator] = {}  # per process: the model each worker loaded


def _answer(job: tuple[Path, int, list[str], list[str]]) -> tuple[list[str], list[str], float]:
    """One batch: greedy answers with the frames' own images and with the swapped ones, and the seconds
    per frame of the first (the model is loaded once per process)."""
    model_dir, max_new_tokens, own, swapped = job
    key = (str(model_dir), max_new_tokens)
    if key not in _GENERATORS:
        _GENERATORS[key] = Generator(model_dir, max_new_tokens)
    generator = _GENERATORS[key]
    began = time.perf_counter()
    answers = generator([open_image(Path(path)) for path in own])
    seconds = (time.perf_counter() - began) / len(own)
    return answers, generator([open_image(Path(path)) for path in swapped]), seconds


def predict(
    model_dir: Path,
    params: EvaluateParams,
    rows: list[dict],
    shown: list[str],
    weights: Mapping[str, float],
    done: list[dict] | None = None,
) -> Iterator[dict]:
    """Prediction records for ``rows`` in order: each frame answered with its own image and with the image
    ``shown`` instead; the first ``len(done)`` are taken from ``done`` (resume). Batches are answered by
    ``params.workers`` processes (each with the model loaded; greedy, one thread each, so the answers do
    not depend on the number of workers)."""
    done = done or []
    yield from done
    size = params.batch_size
    starts = range(len(done), len(rows), size)
    jobs = [
        (model_dir, params.max_new_tokens, [r["image"] for r in rows[lo : lo + size]], shown[lo : lo + size])
        for lo in starts
    ]
    pool = process_pool(params.workers) if params.workers > 1 else contextlib.nullcontext()
    with pool as workers, tqdm(total=len(rows), initial=len(done), desc="evaluate", unit="frame") as bar:
        answered = workers.map(_answer, jobs) if workers is not None else map(_answer, jobs)
        for lo, (own, other, seconds) in zip(starts, answered, strict=True):
            batch, swapped = rows[lo : lo + size], shown[lo : lo + size]
            for row, image, text, text_swapped in zip(batch, swapped, own, other, strict=True):
                truth = row["ground_truth"]
                pro = truth["pro_action"]
                yield {
                    "key": sample_key(row),
                    "match": row["match"],
                    "round": row["round"],
                    "image": row["image"],
                    "swapped_image": image,
                    "pro": extract(phrase(pro["behavior"])) if pro else None,
                    "seconds": seconds,
                    "model": {"raw": text, **score(text, truth, weights)},
                    "swapped": {"raw": text_swapped, **score(text_swapped, truth, weights)},
                }
            bar.update(len(batch))


def clusters_of(records: Sequence[Mapping]) -> list[tuple[str, int]]:
    return [round_of(r) for r in records]


def _label(value: object) -> str:
    return "unaddressed" if value is None else json.dumps(value)


def advice_figures(scores: Sequence[Mapping], pros: Sequence[Mapping | None], clusters, seed: int) -> dict:
    """Per-feature balanced accuracy of the advice against the pro on decision frames, and validity."""
    frames = [(s, p) for s, p in zip(scores, pros, strict=True) if p is not None]
    balanced = {}
    for feature in FEATURES:
        truth = [_label(p[feature]) for _, p in frames]
        said = [_label((s["advice"] or {}).get(feature)) for s, _ in frames]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a class the answers never use is part of the point
            balanced[feature] = float(balanced_accuracy_score(truth, said)) if frames else None
    return {
        "balanced_accuracy": balanced,
        "valid_rate": cluster_interval([s["advice_valid"] for s in scores], clusters, seed),
    }


def arm_figures(scores: Sequence[Mapping], pros, clusters, seed: int) -> dict:
    """The headline figures of one arm (the model, its swapped control, or the constant answer)."""
    return {
        "json_valid_rate": cluster_interval([s["json_valid"] for s in scores], clusters, seed),
        "field_accuracy": cluster_interval([s["field_accuracy"] for s in scores], clusters, seed),
        **{k: cluster_interval([s[k] for s in scores], clusters, seed) for k in REWARDS},
        "advice": advice_figures(scores, pros, clusters, seed),
    }


def _field(scores: Sequence[Mapping], f: str) -> list[float | None]:
    return [s["fields"].get(f) for s in scores]


def with_oracle(record: dict, row: dict | None) -> dict:
    """``record`` with the oracle's figures for its answer (``oracle``) and both answers' P(win | advised
    action) beside their other scores (``oracle_win_prob``; ``None`` off the oracle's frames)."""
    figures = oracle.frame(record["model"]["advice"], row)
    swapped = oracle.frame(record["swapped"]["advice"], row)
    return {
        **record,
        "oracle": figures,
        "model": {**record["model"], "oracle_win_prob": figures and figures["advised_win_prob"]},
        "swapped": {**record["swapped"], "oracle_win_prob": swapped and swapped["advised_win_prob"]},
    }


def summarise(
    records: list[dict], constant: list[dict], chance: list[dict], oracle_rows: dict[str, dict], seed: int
) -> dict:
    """The ``metrics/eval_<M>.json`` figures for one model's records, the constant answer's scores on the
    same frames, the chance level per frame and field, and the oracle's rows by frame key."""
    clusters = clusters_of(records)
    pros = [r["pro"] for r in records]
    model, swapped = [r["model"] for r in records], [r["swapped"] for r in records]
    per_field = {}
    for f in GAME_STATE_FIELDS:
        m, w, c = _field(model, f), _field(swapped, f), _field(constant, f)
        scored = [x for x in m if x is not None]
        per_field[f] = {
            "n": len(scored),
            "model": float(np.mean(scored)) if scored else None,
            "swapped": _mean(w),
            "constant": _mean(c),
            "chance": _mean([ch.get(f) for ch in chance]),
            "vs_swapped": paired_difference(m, w, clusters, seed),
            "vs_constant": paired_difference(m, c, clusters, seed),
        }
    figures = arm_figures(model, pros, clusters, seed)
    chance_accuracy = [float(np.mean(list(ch.values()))) if ch else 0.0 for ch in chance]
    keys = ("field_accuracy", "reward_decision", "reward_total")
    return {
        "n": len(records),
        "rounds": len(set(clusters)),
        "matches": len({c[0] for c in clusters}),
        "decision_frames": sum(p is not None for p in pros),
        **figures,
        "field_accuracy": {**figures["field_accuracy"], "per_field": per_field},
        "baselines": {
            "swapped": arm_figures(swapped, pros, clusters, seed),
            "constant": arm_figures(constant, pros, clusters, seed),
            "chance": {"field_accuracy": cluster_interval(chance_accuracy, clusters, seed)},
        },
        "vs_swapped": {k: _paired(model, swapped, k, clusters, seed) for k in keys},
        "vs_constant": {k: _paired(model, constant, k, clusters, seed) for k in keys},
        "reads_the_frame": sorted(
            f
            for f, v in per_field.items()
            if excludes_zero(v["vs_swapped"])
            and excludes_zero(v["vs_constant"])
            and v["vs_swapped"]["mean"] > 0
            and v["vs_constant"]["mean"] > 0
        ),
        **oracle.summary(
            [r["oracle"] for r in records],
            {
                "swapped": [oracle.frame(r["swapped"]["advice"], oracle_rows.get(r["key"])) for r in records],
                "constant": [
                    oracle.frame(c["advice"], oracle_rows.get(r["key"]))
                    for c, r in zip(constant, records, strict=True)
                ],
            },
            clusters,
            seed,
        ),
        "seconds_per_sample": float(np.mean([r["seconds"] for r in records])) if records else None,
    }


def _paired(first: Sequence[Mapping], second: Sequence[Mapping], key: str, clusters, seed: int) -> dict:
    return paired_difference([s[key] for s in first], [s[key] for s in second], clusters, seed)


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _untimed(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "seconds"}


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open()] if path.exists() else []


def read_split(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.open()]
    except (OSError, ValueError) as err:
        raise EvaluateError(f"{path}: not a readable split ({err})") from None


def run(
    params: EvaluateParams,
    weights: RewardWeights,
    max_rounds: int,
    name: str,
    model_dir: Path,
    test_file: Path,
    train_file: Path,
    oracle_file: Path,
    out_file: Path,
    metrics_file: Path,
    fields_file: Path,
) -> dict:
    """Answer, parse and score the test frames with their own and with swapped images; score the
    baselines on the same frames; write the predictions, the metrics and the per-field bars.

    A killed run resumes from its ``.partial`` file when the inputs are the same.
    """
    rows = select_frames(read_split(test_file), params.frames_per_round)
    if not rows:
        raise EvaluateError(f"{test_file}: the test split is empty")
    train = read_split(train_file)
    if not train:
        raise EvaluateError(f"{train_file}: the train split is empty: no constant baseline to compare with")
    shown = [rows[i]["image"] for i in swap_partners(clusters_of(rows), params.seed)]
    partial = out_file.with_name(f".{out_file.name}.partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = read_records(partial)
    if [(r["key"], r["swapped_image"]) for r in done] != [
        (sample_key(r), s) for r, s in zip(rows[: len(done)], shown, strict=False)
    ]:
        done = []  # a partial file from other inputs is not resumed
    records = []
    oracle_rows = oracle.read(oracle_file)
    with partial.open("a" if done else "w") as sink:
        for record in predict(model_dir, params, rows, shown, weights.model_dump(), done):
            if len(records) >= len(done):
                sink.write(json.dumps(record, sort_keys=True) + "\n")
                sink.flush()
            records.append(with_oracle(record, oracle_rows.get(record["key"])))
    with atomic_path(out_file) as tmp:  # without the timings: the same model gives the same file
        tmp.write_text("".join(json.dumps(_untimed(r), sort_keys=True) + "\n" for r in records))
    partial.unlink()
    fixed = constant_answer(train, max_rounds)
    constant = [score(fixed, r["ground_truth"], weights.model_dump()) for r in rows]
    odds = Chance(train)
    chance = [
        {f: odds.expected(f, gt["game_state"][f]) for f in known_fields(gt["unknown"])}
        for gt in (r["ground_truth"] for r in rows)
    ]
    figures = {"model": name, **summarise(records, constant, chance, oracle_rows, params.seed)}
    write_json(metrics_file, figures)
    write_json(
        fields_file,
        [
            {"model": name, "field": f, "accuracy": v["model"]}
            for f, v in figures["field_accuracy"]["per_field"].items()
        ],
    )
    fa = figures["field_accuracy"]
    log.info(
        "evaluate %s: %d frames of %d rounds, json valid %.3f, field accuracy %.3f [%.3f, %.3f] "
        "(swapped %.3f, constant %.3f), reads %s",
        name,
        figures["n"],
        figures["rounds"],
        figures["json_valid_rate"]["mean"],
        fa["mean"],
        fa["ci_low"],
        fa["ci_high"],
        figures["baselines"]["swapped"]["field_accuracy"]["mean"],
        figures["baselines"]["constant"]["field_accuracy"]["mean"],
        figures["reads_the_frame"] or "no field",
    )
    return figures
