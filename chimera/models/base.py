"""The ``base`` stage: the model every training stage starts from (Model A), in ``models/base/``.

``model.base: tiny`` builds the embedded tiny Qwen3-VL (:mod:`chimera.models.tiny`) and saves it as a
normal Hugging Face directory (safetensors). ``model.base: <directory>`` validates a local Qwen3-VL
checkpoint (:func:`chimera.models.directory.check`: config says ``qwen3_vl``, safetensors weights, the
processor loads without remote code) and records where it is and a content hash of its files in
``models/base/source.json``; :func:`chimera.models.directory.resolve` turns ``models/base`` into the
directory to load, so a 16 GB checkpoint is never copied into the DVC cache.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from chimera.config import ModelParams
from chimera.io import atomic_path
from chimera.models.directory import SOURCE, ModelDirError, check, content_hash

log = logging.getLogger(__name__)


def validate_checkpoint(directory: Path) -> dict:
    """The pointer ``models/base/source.json`` records for a usable local checkpoint."""
    if not directory.is_dir():
        raise ModelDirError(f"{directory}: model.base is neither 'tiny' nor an existing directory")
    check(directory)
    return {"path": _portable(directory), "sha256": content_hash(directory), "model_type": "qwen3_vl"}


def _portable(directory: Path) -> str:
    """The checkpoint's path, relative to the project when it lies inside it (the shipped tiny base): the
    pointer, and every output after it (PEFT records the base's path in each adapter), is then the same
    in every clone, so a ``dvc pull`` of models/base never points into someone else's checkout."""
    full, here = directory.resolve(), Path.cwd().resolve()
    return str(full.relative_to(here)) if full.is_relative_to(here) else str(full)


def prepare(params: ModelParams, out_dir: Path) -> dict:
    """Write ``models/base``: the tiny model itself, or a validated pointer to a local checkpoint."""
    with atomic_path(out_dir) as tmp:
        if params.base == "tiny":
            from chimera.models.tiny import build

            model, processor = build(params)
            model.save_pretrained(tmp, safe_serialization=True)
            processor.save_pretrained(tmp)
            info = {"base": "tiny", "parameters": sum(p.numel() for p in model.parameters())}
        else:
            info = {"base": "checkpoint", **validate_checkpoint(Path(params.base))}
            tmp.mkdir()
        (tmp / SOURCE).write_text(json.dumps(info, indent=1) + "\n")
    log.info("base: %s", info)
    return info
