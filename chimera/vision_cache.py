"""Phase 2's frozen vision work done once per distinct frame, not once per completion and pass (SPEC §11).

TRL 1.16's GRPOTrainer repeats each prompt G times: the image processor runs on all B·G copies twice per
step (to tokenise the prompts for generation, and again for the log-prob passes), and the vision tower
runs on every copy in generation, in the old/reference pass and in the policy pass. With the tower frozen
every one of those gives the same features. Two memoisers, installed by :class:`CachedGRPOTrainer`, remove
the repeats without touching TRL's algorithm:

- :class:`ProcessedImages` wraps the processor's ``image_processor``: each distinct image (by its pixels)
  is resized, normalised and patchified once; copies get the same rows.
- :class:`VisionFeatures` wraps the model's ``get_image_features`` (the one method Qwen3-VL's forward
  calls for pixels; it returns the merged features and the deepstack features): each distinct image (by
  its patch rows, compared exactly) is encoded once, and later passes reuse the tensors.

Both are cleared when a new generation batch starts (:class:`CachedGRPOTrainer` overrides the methods
named there), so memory holds one batch's distinct frames. The policy pass needs no gradient through the
tower (frozen: no parameter of it requires a gradient), so the cached features, computed without a graph,
give the same loss and gradients (a test checks log-probs and loss against TRL's stock path within 1e-5
in fp32).

The same trainer, with ``share_prompt``, also forwards each group's prompt (image + instruction) once
instead of G times, in generation and in the log-prob passes: :mod:`chimera.shared_prompt`.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image
from transformers.image_processing_utils import BatchFeature
from transformers.models.qwen3_vl.modeling_qwen3_vl import BaseModelOutputWithDeepstackFeatures
from trl import GRPOTrainer

from chimera import shared_prompt


def _image_key(image: object) -> bytes:
    """Exact identity of an image's content (mode, size, every pixel)."""
    if isinstance(image, Image.Image):
        head = f"{image.mode}{image.size}".encode()
        return hashlib.blake2b(head + image.tobytes(), digest_size=16).digest()
    array = np.ascontiguousarray(np.asarray(image))
    return hashlib.blake2b(f"{array.dtype}{array.shape}".encode() + array.tobytes(), digest_size=16).digest()


class ProcessedImages:
    """An image processor that processes each distinct image once and hands copies the same rows."""

    def __init__(self, processor: Callable[..., BatchFeature]):
        self.inner = processor
        self.store: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
        self.calls = self.processed = 0

    def __getattr__(self, name: str):  # everything but __call__ is the wrapped processor's
        if name == "inner":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __call__(self, images, *args, **kwargs) -> BatchFeature:
        flat = list(images) if isinstance(images, (list, tuple)) else [images]
        flat = [i for group in flat for i in (group if isinstance(group, (list, tuple)) else [group])]
        if args or not flat:
            return self.inner(images, *args, **kwargs)
        self.calls += len(flat)
        options = tuple(sorted((k, repr(v)) for k, v in kwargs.items() if k != "return_tensors"))
        keys = [(_image_key(i), options) for i in flat]
        missing = list(dict.fromkeys(k for k in keys if k not in self.store))
        if missing:
            first = {k: flat[keys.index(k)] for k in missing}
            done = self.inner([first[k] for k in missing], **{**kwargs, "return_tensors": "pt"})
            grids = done["image_grid_thw"]
            for k, pixels, grid in zip(
                missing, done["pixel_values"].split(grids.prod(-1).tolist()), grids, strict=True
            ):
                self.store[k] = (pixels, grid)
            self.processed += len(missing)
        pixels = torch.cat([self.store[k][0] for k in keys])
        grids = torch.stack([self.store[k][1] for k in keys])
        return BatchFeature(
            {"pixel_values": pixels, "image_grid_thw": grids}, tensor_type=kwargs.get("return_tensors")
        )

    def clear(self) -> None:
        self.store.clear()


class VisionFeatures:
    """``get_image_features`` that encodes each distinct image once (the tower is frozen)."""

    def __init__(self, get_image_features: Callable):
        self.inner = get_image_features
        # (grid, rows, sum of the rows) -> [(rows, merged features, deepstack features)], compared exactly
        self.store: dict[tuple, list[tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]]] = {}
        self.calls = self.encoded = 0

    @staticmethod
    def _bucket(pixels: torch.Tensor, grid: torch.Tensor) -> tuple:
        return (tuple(grid.tolist()), pixels.shape[0], float(pixels.sum()))

    def _find(self, pixels: torch.Tensor, grid: torch.Tensor) -> tuple | None:
        for entry in self.store.get(self._bucket(pixels, grid), ()):
            if torch.equal(entry[0], pixels):
                return entry
        return None

    def __call__(self, pixel_values: torch.Tensor, image_grid_thw: torch.Tensor, **kwargs):
        chunks = pixel_values.split(image_grid_thw.prod(-1).tolist())
        self.calls += len(chunks)
        found = [self._find(c, g) for c, g in zip(chunks, image_grid_thw, strict=True)]
        new: list[int] = []
        for i, entry in enumerate(found):
            twin = entry is None and any(
                torch.equal(chunks[i], chunks[j]) and torch.equal(image_grid_thw[i], image_grid_thw[j])
                for j in new
            )
            if entry is None and not twin:
                new.append(i)
        if new:
            with torch.no_grad():
                out = self.inner(
                    torch.cat([chunks[i] for i in new]),
                    image_grid_thw[new],
                    **{**kwargs, "return_dict": True},
                )
            for n, i in enumerate(new):
                deep = tuple(layer[n] for layer in out.deepstack_features)
                key = self._bucket(chunks[i], image_grid_thw[i])
                self.store.setdefault(key, []).append((chunks[i], out.pooler_output[n], deep))
            self.encoded += len(new)
            found = [e or self._find(c, g) for e, c, g in zip(found, chunks, image_grid_thw, strict=True)]
        layers = len(found[0][2])
        return BaseModelOutputWithDeepstackFeatures(
            pooler_output=tuple(e[1] for e in found),
            deepstack_features=[tuple(e[2][k] for e in found) for k in range(layers)],
        )

    def clear(self) -> None:
        self.store.clear()


def _vision_model(model: torch.nn.Module) -> torch.nn.Module:
    """The module whose ``get_image_features`` Qwen3-VL's forward calls (``Qwen3VLModel``)."""
    for module in model.modules():
        if type(module).__name__ == "Qwen3VLModel":
            return module
    raise TypeError(f"{type(model).__name__} holds no Qwen3VLModel: the vision cache is for Qwen3-VL")


class CachedGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer with the frozen vision work memoised and, with ``share_prompt``, each group's prompt
    forwarded once (:mod:`chimera.shared_prompt`); see the module docstring.

    Overrides ``__init__`` (installs the two memoisers, on a copy of the processor, and the shared prefill
    on the model's ``generate``), ``_generate_and_score_completions`` (clears the memoisers at each new
    generation batch), ``_get_per_token_logps_and_entropies`` (the reference and policy passes: the prompt
    once per group, when it applies) and ``_save`` (a checkpoint holds the plain processor); everything
    else is TRL's."""

    def __init__(self, *args, processing_class, share_prompt: bool = False, **kwargs):
        processor = copy.copy(processing_class)  # the caller's processor stays a plain, savable one
        self.plain_processor = processing_class
        self.processed_images = ProcessedImages(processing_class.image_processor)
        processor.image_processor = self.processed_images
        super().__init__(*args, processing_class=processor, **kwargs)
        self.inner = _vision_model(self.model)
        self.vision_features = VisionFeatures(self.inner.get_image_features)
        self.inner.get_image_features = self.vision_features
        self.share_prompt = share_prompt
        self.shared_prefill = None
        if share_prompt:
            self.shared_prefill = shared_prompt.SharedPrefill(self.model.generate, self.model, self.inner)
            self.model.generate = self.shared_prefill

    def _generate_and_score_completions(self, inputs):
        self.processed_images.clear()
        self.vision_features.clear()
        return super()._generate_and_score_completions(inputs)

    def _get_per_token_logps_and_entropies(
        self,
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        pixel_values=None,
        image_grid_thw=None,
        num_images=None,
        mm_token_type_ids=None,
        **other_inputs,
    ):
        if (
            not self.share_prompt
            or compute_aux_loss
            or not shared_prompt.applies(model, image_grid_thw, **other_inputs)
        ):
            return super()._get_per_token_logps_and_entropies(
                model,
                input_ids,
                attention_mask,
                logits_to_keep,
                batch_size,
                compute_entropy,
                compute_aux_loss,
                pixel_values=pixel_values,
                image_grid_thw=image_grid_thw,
                num_images=num_images,
                mm_token_type_ids=mm_token_type_ids,
                **other_inputs,
            )
        with self.accelerator.autocast():
            logps, entropies = shared_prompt.log_probs(
                model,
                self.inner,
                input_ids,
                attention_mask,
                logits_to_keep,
                pixel_values,
                image_grid_thw,
                num_images,
                mm_token_type_ids,
                compute_entropy,
                batch_size,
            )
        return logps, entropies, None

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        caching, self.processing_class = self.processing_class, self.plain_processor
        try:
            super()._save(output_dir, state_dict)
        finally:
            self.processing_class = caching
