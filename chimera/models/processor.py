"""The Qwen3-VL processor without video, and the single loading function every stage uses.

torchvision does not work on these machines, so images go through ``Qwen2VLImageProcessorPil``, and the
processor is built without a video processor. ``Qwen3VLProcessor(video_processor=None)`` does not load
back by itself, so :class:`ImageOnlyProcessor` drops the video attribute, and :func:`register` makes
``AutoProcessor`` return it for Qwen3-VL configs. A process that has not registered it would silently
get only the tokenizer back from ``AutoProcessor.from_pretrained``: load through :func:`load` instead.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import ClassVar

from transformers import AutoProcessor, Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor


class ImageOnlyProcessor(Qwen3VLProcessor):
    """Qwen3-VL's processor for images and text only (no video processor, no torchvision)."""

    attributes: ClassVar[list[str]] = ["image_processor", "tokenizer"]

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        super().__init__(
            image_processor=image_processor,
            tokenizer=tokenizer,
            video_processor=None,
            chat_template=chat_template,
            **kwargs,
        )


@functools.cache
def register() -> None:
    AutoProcessor.register(Qwen3VLConfig, ImageOnlyProcessor, exist_ok=True)


class ModelDirError(RuntimeError):
    """A model directory that cannot be used; the message names it and what is wrong."""


def load(directory: str | Path, dtype=None) -> tuple[Qwen3VLForConditionalGeneration, ImageOnlyProcessor]:
    """Model and processor from a local Hugging Face directory: safetensors only, no remote code."""
    from chimera.models.base import resolve

    register()
    directory = resolve(Path(directory))
    if not (directory / "config.json").exists():
        raise ModelDirError(f"{directory}: not a model directory (no config.json)")
    if not list(directory.glob("*.safetensors")):
        raise ModelDirError(f"{directory}: no .safetensors weights (only safetensors are loaded)")
    try:
        processor = ImageOnlyProcessor.from_pretrained(directory)
        model = Qwen3VLForConditionalGeneration.from_pretrained(
            directory, use_safetensors=True, trust_remote_code=False, dtype=dtype
        )
    except (OSError, ValueError, KeyError) as err:
        raise ModelDirError(f"{directory}: does not load as a Qwen3-VL model ({err})") from None
    return model, processor
