"""Pretraining the tiny default into a generalist that reads text in images (SPEC §9).

Why: ``model.base: tiny`` is a randomly initialised Qwen3-VL at toy size. A real Qwen3-VL arrives
pretrained: it can read text in an image and answer in JSON before it has seen the CS2 HUD, so SFT's LoRA
adapts a network that already sees. A random network behind LoRA cannot learn to read from a few hundred
frames, so the tiny default needs a stand-in pretraining: synthetic image–text tasks that are *not* the
CS2 HUD, built here deterministically and trained once, shipped as a small safetensors checkpoint in
``models/pretrained/tiny-qwen3vl`` that loads through :func:`chimera.models.directory.load` like a real
checkpoint.

Tasks (:func:`sample`), all on textured backgrounds (low-frequency colour noise, gradients, random
rectangles), text drawn anywhere with Pillow's bundled TrueType font (the HUD's font) at HUD-like sizes:

- ``digit``: one digit on a crop; ``number``: a 1–5 digit number; ``word``: a weapon display name, a map
  name or a callout from :mod:`chimera.names` / :mod:`chimera.maps`. Crops are 128–256 px wide and are
  not resized by the processor, so they are drawn at the sizes HUD text has *after* the processor's resize
  of a 1280×720 frame (HUD fonts are 12–28 px at 1280×720; 256 vision tokens of 32 px scale a frame by
  ~0.475, i.e. 6–14 px), with a curriculum that starts larger (see ``size_from``).
- ``frame``: a 1280×720 image with the values of a random §4 ``game_state`` written as short labelled
  strings at random, non-overlapping places (not the HUD layout); the answer is the whole §4 object
  (:class:`chimera.schema.ModelOutput`) for the prompt of :mod:`chimera.prompt`, with ``analysis`` and
  ``advice`` from plain fixed rules on that state.

Training uses transformers' :class:`~transformers.Trainer` (full fine-tuning, no LoRA) on a map-style
dataset whose item ``i`` is generated from ``(seed, i)``, with a collator that runs the model's own
processor and masks the prompt from the loss; :class:`HeldOut` evaluates held-out items (indices no
training step draws) every ``eval_every`` steps and writes ``curves.tsv``. Same seed → same weights on
one machine (CPU, one thread). Build (``OMP_NUM_THREADS=1``):
``python -m chimera.models.pretrain models/pretrained/tiny-qwen3vl [LOG_DIR]`` (curves in LOG_DIR/curves.tsv).

Status (measured, see tests/test_pretrain.py): the shipped build (1000 steps of 16, ~18 min on one core)
answers frames with valid §4 JSON, but does not read yet: its held-out reading accuracy is near chance, and
its JSON holds prior values, not what is drawn. Why a toy Qwen3-VL does not learn to read from scratch was
measured in controlled runs: (1) the language model learns the answer's prior from the text tokens and its
attention leaves the image (answer-position attention mass on the image tokens 0.34 -> 0.005 in 150 steps),
so the vision tower stops getting a useful gradient (vision learning rate x0.1 and x10 give identical
curves); (2) inside the tower, the 2x2 merger MLP on a linear patch embedding stalls glyph learning on
textured backgrounds (patch embedding + head alone learns a digit in 300 steps; with the merger: chance).
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from transformers import Trainer, TrainerCallback, TrainingArguments

from chimera import names
from chimera.config import ModelParams, load_params
from chimera.maps import MAPS
from chimera.prompt import messages
from chimera.schema import BOMB_STATUSES, ROUND_PHASES, SIDES, UTILITY_ITEMS, ModelOutput, parse_output

log = logging.getLogger(__name__)

TASKS = ("digit", "number", "word", "frame")
CROP_PROMPT = "Read the text in the image."
FRAME_W, FRAME_H = 1280, 720
HELD_OUT = 1 << 40  # held-out items are indices from here on; training never draws them
WEAPONS = tuple(w.display for w in names.GUNS)
WORDS = tuple(sorted({*WEAPONS, *MAPS, *(p.callout for g in MAPS.values() for p in g.places.values())}))


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def texture(rng: random.Random, width: int, height: int) -> Image.Image:
    """A random background: a colour, low-frequency blobs, a gradient, pixel noise and a few rectangles."""
    npr = np.random.default_rng(rng.randrange(1 << 32))
    cells = npr.normal(0, rng.uniform(10, 50), (height // 24 + 2, width // 24 + 2, 3))
    blobs = Image.fromarray(np.clip(cells + 128, 0, 255).astype(np.uint8)).resize(
        (width, height), Image.BILINEAR
    )
    a = np.asarray(blobs, np.float32) - 128 + npr.integers(0, 200, 3)
    ramp = np.linspace(-1, 1, width, dtype=np.float32)[None, :, None] * npr.normal(0, 25, 3)
    a = a + ramp + npr.normal(0, rng.uniform(0, 12), (height, width, 3))
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(0, 4)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = (x0, y0, x0 + rng.randint(4, width // 3), y0 + rng.randint(4, height // 3))
        draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    return img


def _draw(
    img: Image.Image, rng: random.Random, text: str, size: int, xy: tuple[int, int], plate: bool
) -> None:
    """``text`` with its box's top-left at ``xy``, in a colour that contrasts with what is under it."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    x, y = xy[0] - left, xy[1] - top
    draw = ImageDraw.Draw(img)
    box = (x + left - 2, y + top - 2, x + right + 2, y + bottom + 2)
    if plate:  # a flat label panel under the text, as HUD elements have
        draw.rectangle(box, fill=tuple(rng.randrange(0, 90) for _ in range(3)))
    under = np.asarray(img.crop(box), np.float32).mean()
    ink = rng.randrange(0, 60) if under > 127 else rng.randrange(200, 256)
    draw.text((x, y), text, font=font, fill=(ink, ink, ink) if rng.random() < 0.7 else _tint(rng, ink))


def _tint(rng: random.Random, ink: int) -> tuple[int, int, int]:
    return tuple(int(np.clip(ink + rng.randint(-40, 40), 0, 255)) for _ in range(3))


@dataclass(frozen=True)
class Sample:
    task: str
    image: Image.Image
    prompt: str  # the user text after the image
    answer: str


def _crop(rng: random.Random, text: str, size_from: float) -> Image.Image:
    """A 128–256×64–96 crop with ``text`` once, anywhere; font 6–14 px (plus a curriculum margin)."""
    lo = round(6 + 10 * size_from)
    size = rng.randint(lo, lo + 8)
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    width = max(rng.choice((128, 160, 192, 256)), (right - left) // 32 * 32 + 64)
    height = rng.choice((64, 96))
    img = texture(rng, width, height)
    x = rng.randint(2, max(2, width - (right - left) - 2))
    y = rng.randint(2, max(2, height - (bottom - top) - 2))
    _draw(img, rng, text, size, (x, y), plate=rng.random() < 0.5)
    return img


def random_state(rng: random.Random) -> dict:
    """A §4 game_state with every value from the schema's vocabularies (and names from chimera.names)."""
    map_name = rng.choice(sorted(MAPS))
    graph = MAPS[map_name]
    return {
        "map_name": map_name,
        "round_phase": rng.choice(ROUND_PHASES),
        "player_side": rng.choice(SIDES),
        "player_health": rng.randint(0, 100),
        "player_armor": rng.randint(0, 100),
        "player_money": rng.randrange(0, 16001, 50),
        "team_money_total": rng.choice([None, rng.randrange(0, 80001, 50)]),
        "weapon_primary": rng.choice([None, *(w.display for w in names.GUNS if w.slot == "primary")]),
        "weapon_secondary": rng.choice([None, *(w.display for w in names.GUNS if w.slot == "secondary")]),
        "utility": sorted(rng.sample(UTILITY_ITEMS, rng.randint(0, 3))),
        "alive_teammates": rng.randint(0, 4),
        "alive_enemies": rng.randint(0, 5),
        "bomb_status": rng.choice([None, *BOMB_STATUSES]),
        "site": rng.choice([None, *sorted({p.callout for p in graph.places.values()})]),
        "visible_enemies": rng.choice([None, rng.randint(0, 5)]),
    }


def answer_for(state: dict) -> ModelOutput:
    """The §4 object for a state: analysis and advice by plain fixed rules on what is written."""
    mine, theirs = state["alive_teammates"] + 1, state["alive_enemies"]
    money = state["player_money"]
    econ = (
        "full-buy"
        if money >= 4000
        else "half-buy"
        if money >= 2500
        else "force-buy"
        if money >= 1500
        else "eco"
    )
    if theirs > mine:
        action, threats, chances = "Fall back and play for a trade", [f"outnumbered {mine}v{theirs}"], []
    elif mine > theirs:
        action, threats, chances = "Advance together and take space", [], [f"man advantage {mine}v{theirs}"]
    else:
        action, threats, chances = "Hold your angle and wait for information", [], []
    return ModelOutput.model_validate(
        {
            "game_state": state,
            "analysis": {
                "situation_summary": f"{state['player_side']} {mine}v{theirs} on {state['map_name']}.",
                "economy_assessment": econ,
                "round_importance": "medium",
                "immediate_threats": threats,
                "opportunities": chances,
            },
            "advice": {
                "primary_action": action,
                "reasoning": f"You are {mine}v{theirs} with {state['player_health']} hp.",
                "fallback": "If it goes wrong, regroup with your teammates.",
                "callout": state["site"] or "no callout",
            },
        }
    )


def frame_texts(state: dict) -> list[str]:
    """The strings a frame shows: each game_state value, labelled where a bare one is ambiguous."""
    s = state
    texts = [
        s["map_name"],
        s["round_phase"],
        s["player_side"],
        f"HP {s['player_health']}",
        f"AR {s['player_armor']}",
        f"${s['player_money']}",
        f"TEAM ${s['team_money_total']}",
        f"ALLY {s['alive_teammates']}",
        f"ENEMY {s['alive_enemies']}",
    ]
    texts += [w for w in (s["weapon_primary"], s["weapon_secondary"]) if w]
    texts += [" ".join(s["utility"])] if s["utility"] else []
    texts += [f"BOMB {s['bomb_status']}"] if s["bomb_status"] else []
    texts += [s["site"]] if s["site"] else []
    texts += [f"SEEN {s['visible_enemies']}"] if s["visible_enemies"] is not None else []
    return [t for t in texts if "None" not in t]


def _frame(rng: random.Random) -> tuple[Image.Image, str]:
    state = random_state(rng)
    img = texture(rng, FRAME_W, FRAME_H)
    taken: list[tuple[int, int, int, int]] = []
    for text in frame_texts(state):
        size = rng.randint(12, 29)  # the HUD's font sizes at 1280×720 (scales 0.4–0.95 × 30 px)
        left, top, right, bottom = _font(size).getbbox(text)
        w, h = right - left + 6, bottom - top + 6
        for _ in range(50):
            x, y = rng.randint(0, FRAME_W - w), rng.randint(0, FRAME_H - h)
            if all(x + w < a or x > c or y + h < b or y > d for a, b, c, d in taken):
                break
        taken.append((x, y, x + w, y + h))
        _draw(img, rng, text, size, (x + 3, y + 3), plate=rng.random() < 0.6)
    return img, answer_for(state).model_dump_json()


def sample(seed: int, index: int, task: str | None = None, size_from: float = 0.0) -> Sample:
    """Item ``index`` of the synthetic stream: a pure function of ``(seed, index, task, size_from)``."""
    rng = random.Random(f"{seed}:{index}")
    task = task or rng.choice(TASKS)
    if task == "frame":
        image, answer = _frame(rng)
        instruction = messages()[0]["content"][1]["text"]
        return Sample(task, image, instruction, answer)
    if task == "digit":
        text = str(rng.randrange(10))
    elif task == "number":
        text = str(rng.randrange(10 ** rng.randint(1, 5)))
    else:
        text = rng.choice(WORDS)
    return Sample(task, _crop(rng, text, size_from), CROP_PROMPT, text)


def chat(prompt: str) -> list[dict]:
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]


class Collator:
    """Samples → a padded batch through the model's processor; prompt and padding masked from the loss."""

    def __init__(self, processor):
        self.processor = processor
        self.end = processor.tokenizer.convert_tokens_to_ids("<|im_end|>")

    def prompts(self, samples: list[Sample]) -> list[str]:
        return [
            self.processor.apply_chat_template(chat(s.prompt), add_generation_prompt=True, tokenize=False)
            for s in samples
        ]

    def __call__(self, samples: list[Sample]) -> dict:
        tok = self.processor.tokenizer
        tok.padding_side = "right"
        prompts = self.prompts(samples)
        texts = [p + s.answer + "<|im_end|>" for p, s in zip(prompts, samples, strict=True)]
        batch = self.processor(
            text=texts, images=[s.image for s in samples], return_tensors="pt", padding=True
        )
        labels = batch["input_ids"].clone()
        for i, s in enumerate(samples):
            n_answer = len(tok(s.answer + "<|im_end|>", add_special_tokens=False)["input_ids"])
            length = int(batch["attention_mask"][i].sum())
            labels[i, : length - n_answer] = -100
        labels[batch["attention_mask"] == 0] = -100
        batch["labels"] = labels
        return dict(batch)


class Stream(torch.utils.data.Dataset):
    """Training items 0..n-1; each a pure function of (seed, index); the curriculum is by index."""

    def __init__(self, seed: int, n: int, frame_share: float):
        self.seed, self.n, self.frame_share = seed, n, frame_share

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> Sample:
        rng = random.Random(f"task:{self.seed}:{index}")
        task = "frame" if rng.random() < self.frame_share else rng.choice(TASKS[:3])
        size_from = max(0.0, 1.0 - 2.0 * index / self.n)  # large text first, HUD sizes from half way
        return sample(self.seed, index, task, size_from)


@torch.no_grad()
def exact_match(model, collator: Collator, samples: list[Sample]) -> float:
    """Share of samples whose whole answer is the argmax at every position (= what greedy decoding writes)."""
    model.eval()
    batch = collator(samples)
    logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits[:, :-1]
    target = batch["labels"][:, 1:]
    hit = (logits.argmax(-1) == target) | (target == -100)
    return float(hit.all(1).float().mean())


@torch.no_grad()
def json_valid(
    model, collator: Collator, samples: list[Sample], max_new_tokens: int
) -> tuple[float, list[str]]:
    """Share of greedy generations on frames that parse as a valid §4 ModelOutput."""
    model.eval()
    tok = collator.processor.tokenizer
    tok.padding_side = "left"
    batch = collator.processor(
        text=collator.prompts(samples), images=[s.image for s in samples], return_tensors="pt", padding=True
    )
    out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False)
    texts = tok.batch_decode(out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    tok.padding_side = "right"
    return sum(parse_output(t).ok for t in texts) / len(texts), texts


class HeldOut(TrainerCallback):
    """Per-task held-out exact match every ``every`` steps (and JSON validity of frames at the end)."""

    def __init__(self, collator: Collator, seed: int, n: int, every: int, out: Path, frames_at_end: int):
        self.collator, self.every, self.out, self.frames_at_end = collator, every, out, frames_at_end
        self.sets = {t: [sample(seed, HELD_OUT + i, t) for i in range(n)] for t in TASKS}
        self.rows: list[dict] = []
        self.t0 = time.time()

    def measure(self, model, step: int, loss: float | None) -> None:
        row = {"step": step, "seconds": round(time.time() - self.t0, 1), "train_loss": loss}
        for task, items in self.sets.items():
            row[task] = round(
                sum(
                    exact_match(model, self.collator, items[i : i + 8]) * len(items[i : i + 8])
                    for i in range(0, len(items), 8)
                )
                / len(items),
                4,
            )
        self.rows.append(row)
        log.info("pretrain held-out %s", row)
        model.train()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0:
            loss = state.log_history[-1].get("loss") if state.log_history else None
            self.measure(model, state.global_step, loss)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if not self.rows or self.rows[-1]["step"] != state.global_step:
            self.measure(model, state.global_step, None)
        if self.frames_at_end:
            valid, texts = json_valid(model, self.collator, self.sets["frame"][: self.frames_at_end], 400)
            self.rows[-1]["frame_json_valid"] = valid
            (self.out / "frame_generations.json").write_text(json.dumps(texts, indent=1))
            model.train()
        with (self.out / "curves.tsv").open("w", newline="") as f:
            keys = list(dict.fromkeys(k for r in self.rows for k in r))
            writer = csv.DictWriter(f, keys, delimiter="\t")
            writer.writeheader()
            writer.writerows(self.rows)


def pretrain(params: ModelParams, out_dir: Path, log_dir: Path | None = None) -> dict:
    """Build the tiny model (:func:`chimera.models.tiny.build`), pretrain it, save a HF directory."""
    from chimera.models.tiny import build

    torch.set_num_threads(1)
    p = params.pretrain
    model, processor = build(params)
    collator = Collator(processor)
    log_dir = log_dir or Path(tempfile.gettempdir()) / "chimera-pretrain"  # curves, never next to the weights
    log_dir.mkdir(parents=True, exist_ok=True)
    held = HeldOut(collator, p.seed, p.eval_samples, p.eval_every, log_dir, p.eval_frames)
    args = TrainingArguments(
        output_dir=str(log_dir / "trainer"),
        max_steps=p.steps,
        per_device_train_batch_size=p.batch_size,
        learning_rate=p.learning_rate,
        warmup_steps=p.warmup_steps,
        lr_scheduler_type="cosine",
        weight_decay=0.0,
        seed=p.seed,
        data_seed=p.seed,
        use_cpu=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        logging_steps=10,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Stream(p.seed, p.steps * p.batch_size, p.frame_share),
        data_collator=collator,
        callbacks=[held],
    )
    start = time.time()
    trainer.train()
    model.save_pretrained(out_dir, safe_serialization=True)
    processor.save_pretrained(out_dir)
    info = {
        "seconds": round(time.time() - start),
        "parameters": sum(q.numel() for q in model.parameters()),
        "final": held.rows[-1],
    }
    (log_dir / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if len(argv) not in (1, 2):
        sys.exit("usage: python -m chimera.models.pretrain OUT_DIR [LOG_DIR]")
    log_dir = Path(argv[1]) if len(argv) == 2 else None
    print(json.dumps(pretrain(load_params().model, Path(argv[0]), log_dir), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
