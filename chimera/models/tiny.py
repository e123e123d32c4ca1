"""The embedded default model: a tiny Qwen3-VL built from config, with a tokenizer trained here.

Nothing is downloaded. The architecture is transformers' own ``Qwen3VLForConditionalGeneration`` at toy
sizes (``model.tiny`` in params), initialised from ``model.seed``; the byte-level BPE tokenizer is trained
with the ``tokenizers`` library on text this project generates deterministically (the §4 JSON with
varied values, the prompt, callouts, weapon names, the advice phrase table), with Qwen's special tokens.
Saved as a normal Hugging Face directory, it loads like a real checkpoint, so every later stage is the
same code for the tiny model and for Qwen3-VL-8B.
"""

from __future__ import annotations

import pathlib
import random
from collections.abc import Iterator

import torch
import trl
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    PreTrainedTokenizerFast,
    Qwen2VLImageProcessorPil,
    Qwen3VLConfig,
    Qwen3VLForConditionalGeneration,
)

from chimera import names
from chimera.config import ModelParams
from chimera.maps import MAPS
from chimera.models.directory import ImageOnlyProcessor
from chimera.phrases import PHRASES, all_feature_values
from chimera.prompt import INSTRUCTION
from chimera.schema import BOMB_STATUSES, ROUND_PHASES, SIDES, UTILITY_ITEMS, ModelOutput
from chimera.targets import sft_target

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
PATCH, MERGE = 16, 2


def corpus(seed: int, samples: int) -> Iterator[str]:
    """Deterministic training text for the tokenizer: the prompt, names, and SFT targets of random states."""
    rng = random.Random(seed)
    yield INSTRUCTION
    for graph in MAPS.values():
        yield " ".join(f"{p.name} {p.callout}" for p in graph.places.values())
    yield " ".join(f"{w.awpy} {w.display}" for w in names.WEAPONS)
    yield " ".join(p for values in PHRASES.values() for ps in values.values() for p in ps)
    example = ModelOutput.example().model_dump()["game_state"]
    behaviors = all_feature_values()
    places = sorted({p.callout for graph in MAPS.values() for p in graph.places.values()})
    for _ in range(samples):
        state = {
            **example,
            "map_name": rng.choice(sorted(MAPS)),
            "round_phase": rng.choice(ROUND_PHASES),
            "player_side": rng.choice(SIDES),
            "player_health": rng.randint(0, 100),
            "player_armor": rng.randint(0, 100),
            "player_money": rng.randrange(0, 16001, 50),
            "team_money_total": rng.randrange(0, 80001, 50),
            "weapon_primary": rng.choice([None, *(w.display for w in names.GUNS if w.slot == "primary")]),
            "weapon_secondary": rng.choice([w.display for w in names.GUNS if w.slot == "secondary"]),
            "utility": rng.sample(UTILITY_ITEMS, rng.randint(0, 3)),
            "alive_teammates": rng.randint(0, 4),
            "alive_enemies": rng.randint(0, 5),
            "bomb_status": rng.choice(BOMB_STATUSES),
            "site": rng.choice(places),
            "visible_enemies": rng.randint(0, 5),
        }
        score = (rng.randint(0, 12), rng.randint(0, 12))
        target = sft_target(state, rng.choice(behaviors), score, sum(score) + 1, 24)
        yield target.model_dump_json()


def train_tokenizer(vocab_size: int, seed: int) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    # Digits are split one by one before byte-level BPE, as Qwen's tokenizer does: reading "4750" is then
    # four choices among ten digit tokens, not one rare merged token per number.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(seed, samples=400), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
    )


def image_processor(max_image_tokens: int) -> Qwen2VLImageProcessorPil:
    """Qwen3-VL's patching (16 px, 2×2 merge) with a pixel budget of ``max_image_tokens`` vision tokens."""
    unit = PATCH * MERGE
    return Qwen2VLImageProcessorPil(
        patch_size=PATCH,
        temporal_patch_size=2,
        merge_size=MERGE,
        image_mean=[0.5] * 3,
        image_std=[0.5] * 3,
        size={"shortest_edge": 4 * unit * unit, "longest_edge": max_image_tokens * unit * unit},
    )


def chat_template() -> str:
    """TRL's Qwen3-VL chat template (TRL swaps in its training variant for assistant-only loss)."""
    return (pathlib.Path(trl.__file__).parent / "chat_templates" / "qwen3_vl.jinja").read_text()


def build(params: ModelParams) -> tuple[Qwen3VLForConditionalGeneration, ImageOnlyProcessor]:
    tiny = params.tiny
    tokenizer = train_tokenizer(tiny.vocab_size, params.seed)
    processor = ImageOnlyProcessor(
        image_processor=image_processor(params.max_image_tokens),
        tokenizer=tokenizer,
        chat_template=chat_template(),
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    head_dim = tiny.text_hidden_size // tiny.text_heads
    config = Qwen3VLConfig(
        vision_config={
            "depth": tiny.vision_depth,
            "hidden_size": tiny.vision_hidden_size,
            "intermediate_size": 2 * tiny.vision_hidden_size,
            "num_heads": tiny.vision_heads,
            "out_hidden_size": tiny.text_hidden_size,
            "patch_size": PATCH,
            "spatial_merge_size": MERGE,
            "num_position_embeddings": 256,
            "deepstack_visual_indexes": [0],
        },
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": tiny.text_hidden_size,
            "intermediate_size": 2 * tiny.text_hidden_size,
            "num_hidden_layers": tiny.text_layers,
            "num_attention_heads": tiny.text_heads,
            "num_key_value_heads": tiny.text_kv_heads,
            "head_dim": head_dim,
            "max_position_embeddings": 8192,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": [head_dim // 4, head_dim // 8, head_dim // 8],
            },
            "pad_token_id": ids["<|endoftext|>"],
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(params.seed)
    return Qwen3VLForConditionalGeneration(config), processor
