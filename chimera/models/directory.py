"""A model directory on disk: the one place that checks, hashes, resolves and loads one.

torchvision does not work on these machines, so images go through ``Qwen2VLImageProcessorPil``, and the
processor is built without a video processor. ``Qwen3VLProcessor(video_processor=None)`` does not load
back by itself, so :class:`ImageOnlyProcessor` drops the video attribute, and :func:`register` makes
``AutoProcessor`` return it for Qwen3-VL configs. A process that has not registered it would silently
get only the tokenizer back from ``AutoProcessor.from_pretrained``: load through :func:`load` instead.

This module imports nothing else from :mod:`chimera.models`: ``base`` (writes ``models/base``) and
``tiny`` (builds the tiny model) both sit on top of it. Weights are safetensors only, never remote code.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import ClassVar

from safetensors import SafetensorError, safe_open
from transformers import AutoProcessor, Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor

from chimera.errors import ChimeraError

SOURCE = "source.json"  # in models/base: a pointer to a local checkpoint instead of a copy of it


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


class ModelDirError(ChimeraError):
    """A model directory that cannot be used; the message names it and what is wrong."""


def content_hash(directory: Path) -> str:
    """SHA-256 over the names, sizes and first/last MiB of every file (cheap for multi-GB weights)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(directory)}:{size}".encode())
        with path.open("rb") as f:
            digest.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(-(1 << 20), 2)
                digest.update(f.read())
    return digest.hexdigest()


def resolve(directory: Path) -> Path:
    """The directory to load for ``models/base`` (itself, or the checkpoint its ``source.json`` points to)."""
    source = directory / SOURCE
    if source.exists():
        info = json.loads(source.read_text())
        if info.get("base") == "checkpoint":
            return Path(info["path"])
    return directory


def check(directory: Path) -> ImageOnlyProcessor:
    """Refuse anything that is not a local Qwen3-VL checkpoint with safetensors weights; its processor."""
    register()
    if not directory.is_dir():
        raise ModelDirError(f"{directory}: not an existing directory")
    config_path = directory / "config.json"
    if not config_path.exists():
        raise ModelDirError(f"{directory}: not a model directory (no config.json)")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as err:
        raise ModelDirError(f"{config_path}: not JSON ({err})") from None
    if config.get("model_type") != "qwen3_vl":
        raise ModelDirError(f"{directory}: model_type is {config.get('model_type')!r}, expected 'qwen3_vl'")
    weights = sorted(directory.glob("*.safetensors"))
    if not weights:
        raise ModelDirError(f"{directory}: no .safetensors weights (pickled weights are never loaded)")
    for path in weights:  # the header and the file size only: cheap for multi-GB shards
        try:
            with safe_open(path, "pt"):
                pass
        except SafetensorError as err:
            raise ModelDirError(f"{path}: safetensors weights corrupt or truncated ({err})") from None
    try:
        return ImageOnlyProcessor.from_pretrained(directory)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelDirError(f"{directory}: the processor does not load ({err})") from None


def load(directory: str | Path, dtype=None) -> tuple[Qwen3VLForConditionalGeneration, ImageOnlyProcessor]:
    """Model and processor from a local Hugging Face directory: safetensors only, no remote code."""
    directory = resolve(Path(directory))
    processor = check(directory)
    try:
        model = Qwen3VLForConditionalGeneration.from_pretrained(
            directory, use_safetensors=True, trust_remote_code=False, dtype=dtype
        )
    except SafetensorError as err:
        raise ModelDirError(f"{directory}: safetensors weights corrupt or truncated ({err})") from None
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ModelDirError(f"{directory}: does not load as a Qwen3-VL model ({err})") from None
    return model, processor
