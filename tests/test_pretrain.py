"""The tiny default's synthetic pretraining (SPEC §9): digit-splitting tokenizer, a deterministic task
generator whose targets are valid §4 objects holding what was drawn, and the shipped checkpoint."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from chimera.config import load_params
from chimera.models.directory import load
from chimera.models.pretrain import HELD_OUT, WORDS, Collator, exact_match, frame_texts, json_valid, sample
from chimera.models.tiny import train_tokenizer
from chimera.schema import ModelOutput

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "pretrained" / "tiny-qwen3vl"
MODEL = load_params().model


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(1)
    return load(SHIPPED)


def test_a_fresh_tokenizer_splits_numbers_into_single_digits():
    tok = train_tokenizer(MODEL.tiny.vocab_size, MODEL.seed)
    pieces = tok.convert_ids_to_tokens(tok("$4750 HP 100")["input_ids"])
    assert pieces[pieces.index("4") : pieces.index("4") + 4] == ["4", "7", "5", "0"]
    assert all(len(p.strip("Ġ")) <= 1 for p in pieces if any(c.isdigit() for c in p))


def test_the_shipped_tokenizer_splits_digits_too(shipped):
    _, processor = shipped
    assert processor.tokenizer.tokenize("4750") == ["4", "7", "5", "0"]


@pytest.mark.parametrize("task", ["digit", "number", "word", "frame"])
def test_the_generator_is_a_pure_function_of_seed_and_index(task):
    a, b = sample(7, 3, task), sample(7, 3, task)
    assert a.answer == b.answer and a.prompt == b.prompt
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    c = sample(8, 3, task)
    assert not np.array_equal(np.asarray(a.image), np.asarray(c.image))


def test_crop_answers_are_what_was_drawn_from_the_vocabularies():
    for i in range(20):
        assert sample(1, i, "digit").answer in "0123456789"
        assert sample(1, i, "number").answer.isdigit()
        assert sample(1, i, "word").answer in WORDS
    assert sample(1, 0, "digit").image.size[0] % 32 == 0


def test_frame_targets_are_valid_model_outputs_holding_every_drawn_value():
    for i in range(10):
        s = sample(3, i, "frame")
        assert s.image.size == (1280, 720)
        out = ModelOutput.model_validate_json(s.answer)
        state = out.game_state.model_dump()
        texts = frame_texts(state)
        assert f"HP {state['player_health']}" in texts and f"${state['player_money']}" in texts
        assert state["map_name"] in texts
        for weapon in (state["weapon_primary"], state["weapon_secondary"]):
            assert weapon is None or weapon in texts
        assert json.loads(s.answer)["game_state"] == state


def test_the_collator_masks_the_prompt_and_keeps_the_answer(shipped):
    _, processor = shipped
    batch = Collator(processor)([sample(2, 0, "number"), sample(2, 1, "word")])
    for row, s in zip(batch["labels"], [sample(2, 0, "number"), sample(2, 1, "word")], strict=True):
        kept = processor.tokenizer.decode(row[row != -100])
        assert kept == s.answer + "<|im_end|>"


def test_the_shipped_checkpoint_loads_and_is_small(shipped):
    model, _ = shipped
    assert sum(f.stat().st_size for f in SHIPPED.glob("*.safetensors")) <= 20 * 1024 * 1024
    assert model.config.model_type == "qwen3_vl"


@pytest.mark.xfail(
    strict=True,
    reason="the shipped checkpoint does not read yet: held-out digit accuracy is at chance (see "
    "chimera.models.pretrain and the pretraining report); strict, so it fails once reading works",
)
def test_the_shipped_checkpoint_reads_held_out_digits(shipped):
    """A real property of the shipped weights: digits drawn on held-out textured crops are read."""
    model, processor = shipped
    items = [sample(MODEL.pretrain.seed, HELD_OUT + 10_000 + i, "digit") for i in range(16)]
    assert exact_match(model, Collator(processor), items) >= 0.75


def test_the_shipped_checkpoint_answers_a_held_out_frame_with_a_valid_model_output(shipped):
    """The §4 shape is learnt: greedy decoding on a frame never seen in pretraining parses as ModelOutput."""
    model, processor = shipped
    valid, texts = json_valid(
        model, Collator(processor), [sample(MODEL.pretrain.seed, HELD_OUT + 20_000, "frame")], 420
    )
    assert valid == 1.0, texts[0][-200:]
