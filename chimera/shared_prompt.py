"""The shared prompt (frame + instruction) forwarded once per group, not G times (SPEC §11, the goal beyond).

GRPO scores G completions of one prompt. TRL 1.16 forwards the whole prompt with every completion: in
generation's prefill and in the reference and policy log-prob passes, G times per prompt (473 of the 687
tokens of a default row are prompt). A causal model's states over the prompt do not depend on what follows
it, so here each distinct prompt's key/value cache is computed once and indexed out to its rows
(:meth:`transformers.DynamicCache.batch_select_indices`, an index through which gradients sum back, as
they do over G separate copies), and only the rest of each row is forwarded on top of it.

The cached prefix stops one token short of the prompt: the prompt's last token goes through with the
completion, so the logits that score the first completion token come out of the same call as the others.
Positions are Qwen3-VL's 3-D rope indices computed on the full rows, as the stock forward computes them.

- :func:`groups`: which rows share a prompt (the same tokens, padding, image grid and pixels).
- :func:`log_probs`: per-token log-probs (and entropies) of the completions, the prefix once per group.
- :class:`SharedPrefill`: the model's ``generate`` with each distinct prompt prefilled once.

Not shared: under activation checkpointing the layers drop any cache (transformers'
``GradientCheckpointingLayer``), so :func:`applies` sends those passes down TRL's stock path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from transformers import DynamicCache


def applies(model: torch.nn.Module, image_grid_thw: torch.Tensor | None, **other_inputs) -> bool:
    """Whether a forward can share its prompt: Qwen3-VL images (a text-only batch takes the stock path),
    no other model's multimodal fields, and no activation checkpointing in a graph-building pass."""
    checkpointing = getattr(model, "is_activation_checkpointing", False) and model.training
    if checkpointing and torch.is_grad_enabled():
        return False
    return image_grid_thw is not None and all(v is None for v in other_inputs.values())


def groups(
    prefix_ids: torch.Tensor,
    prefix_mask: torch.Tensor,
    images: Sequence[torch.Tensor],
    grids: Sequence[torch.Tensor],
) -> tuple[list[int], torch.Tensor]:
    """The first row of every distinct prompt, and each row's group (its index into those first rows).

    Rows are compared exactly; TRL repeats a prompt G times, so each comparison meets its twin early."""
    firsts: list[int] = []
    inverse: list[int] = []
    for i in range(prefix_ids.size(0)):
        for g, j in enumerate(firsts):
            if (
                torch.equal(prefix_ids[i], prefix_ids[j])
                and torch.equal(prefix_mask[i], prefix_mask[j])
                and torch.equal(grids[i], grids[j])
                and torch.equal(images[i], images[j])
            ):
                inverse.append(g)
                break
        else:
            inverse.append(len(firsts))
            firsts.append(i)
    return firsts, torch.tensor(inverse, device=prefix_ids.device)


def per_row_images(
    rows: int, pixel_values: torch.Tensor, image_grid_thw: torch.Tensor, num_images: list[int] | None
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Each row's patch rows and image grids."""
    counts = num_images if num_images is not None else [image_grid_thw.size(0) // rows] * rows
    grids = list(image_grid_thw.split(counts))
    patches = list(pixel_values.split([int(g.prod(-1).sum()) for g in grids]))
    return patches, grids


def prefix_cache(
    model: Callable,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    positions: torch.Tensor,
    images: Sequence[torch.Tensor],
    grids: Sequence[torch.Tensor],
    split: int,
) -> tuple[DynamicCache, int]:
    """The key/value cache of every row's first ``split`` tokens, each distinct prefix forwarded once, and
    how many distinct prefixes there were."""
    firsts, inverse = groups(input_ids[:, :split], attention_mask[:, :split], images, grids)
    cache = DynamicCache()
    model(
        input_ids=input_ids[firsts, :split],
        attention_mask=attention_mask[firsts, :split],
        position_ids=positions[:, firsts, :split],
        pixel_values=torch.cat([images[i] for i in firsts]),
        image_grid_thw=torch.cat([grids[i] for i in firsts]),
        cache=cache,
        use_cache=True,
        logits_to_keep=1,
    )
    cache.batch_select_indices(inverse)
    return cache, len(firsts)


def log_probs(
    model: Callable,
    inner: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    logits_to_keep: int,
    pixel_values: torch.Tensor,
    image_grid_thw: torch.Tensor,
    num_images: list[int] | None,
    mm_token_type_ids: torch.Tensor | None,
    compute_entropy: bool,
    batch_size: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-token log-probs (and entropies) of the last ``logits_to_keep`` tokens of each row, as TRL's
    ``_get_per_token_logps_and_entropies`` returns them, with each distinct prompt forwarded once per chunk
    of ``batch_size`` rows (TRL's chunks, which bound the memory peak).

    ``model`` is called as TRL calls it (``labels`` + ``fused_lm_head``: TRL's fused head scores the
    labelled positions without materialising the vocabulary logits); ``inner`` is the Qwen3VLModel."""
    rows, split = input_ids.size(0), input_ids.size(1) - logits_to_keep - 1
    images, grids = per_row_images(rows, pixel_values, image_grid_thw, num_images)
    positions, _ = inner.get_rope_index(  # Qwen3-VL's 3-D positions, as its forward computes them
        input_ids,
        mm_token_type_ids=mm_token_type_ids,
        image_grid_thw=image_grid_thw,
        attention_mask=attention_mask,
    )
    logps, entropies = [], []
    for start in range(0, rows, batch_size or rows):
        chunk = slice(start, start + (batch_size or rows))
        ids, mask, where = input_ids[chunk], attention_mask[chunk], positions[:, chunk]
        cache, _ = prefix_cache(model, ids, mask, where, images[chunk], grids[chunk], split)
        labels = ids[:, split:].masked_fill(mask[:, split:] == 0, -100)
        labels[:, 0] = -100  # the prompt's last token: context, not scored
        out = model(
            input_ids=ids[:, split:],
            attention_mask=mask,
            position_ids=where[:, :, split:],
            cache=cache,
            labels=labels,
            fused_lm_head=True,
        )
        logps.append(out.log_probs[:, -logits_to_keep:])
        if compute_entropy:
            entropies.append(out.entropy[:, -logits_to_keep:])
    return torch.cat(logps), torch.cat(entropies) if compute_entropy else None


class SharedPrefill:
    """A model's ``generate`` that prefills each distinct prompt once and samples every row from there.

    The prompts' cache (all but their last token) is built by :func:`prefix_cache` and handed to the
    wrapped ``generate``, which then forwards only the last prompt token before sampling, as it does when
    continuing from a cache. Qwen3-VL keeps the prompts' rope offsets on the model between decoding steps
    (``rope_deltas``); they are set from the full prompts, as its own prefill sets them. Sampling draws the
    same random numbers in the same order as the stock prefill, so a seeded run samples the same
    completions (up to float rounding in the logits)."""

    def __init__(self, generate: Callable, model: Callable, inner: torch.nn.Module):
        self.wrapped, self.model, self.inner = generate, model, inner
        self.prompts = self.prefilled = 0  # rows asked for, distinct prompts prefilled

    def __call__(self, input_ids, attention_mask, pixel_values=None, image_grid_thw=None, **kwargs):
        rows = input_ids.size(0)
        one_image_each = image_grid_thw is not None and image_grid_thw.size(0) == rows
        if input_ids.size(1) < 2 or not one_image_each or not applies(self.model, image_grid_thw):
            return self.wrapped(
                input_ids=input_ids,
                attention_mask=attention_mask,
                pixel_values=pixel_values,
                image_grid_thw=image_grid_thw,
                **kwargs,
            )
        split = input_ids.size(1) - 1
        images, grids = per_row_images(rows, pixel_values, image_grid_thw, None)
        positions, deltas = self.inner.get_rope_index(
            input_ids,
            mm_token_type_ids=kwargs.get("mm_token_type_ids"),
            image_grid_thw=image_grid_thw,
            attention_mask=attention_mask,
        )
        with torch.no_grad():
            cache, distinct = prefix_cache(
                self.model, input_ids, attention_mask, positions, images, grids, split
            )
        self.prompts += rows
        self.prefilled += distinct
        self.inner.rope_deltas = deltas
        return self.wrapped(input_ids=input_ids, attention_mask=attention_mask, cache=cache, **kwargs)
