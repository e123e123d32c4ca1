"""The ``base`` stage: the model every training stage starts from (Model A), in ``models/base/``.

``model.base: tiny`` builds the embedded tiny Qwen3-VL (:mod:`chimera.models.tiny`) and saves it as a
normal Hugging Face directory (safetensors). ``model.base: <directory>`` validates a local Qwen3-VL
checkpoint (config says ``qwen3_vl``, safetensors weights, the processor loads without remote code) and
records where it is and a content hash of its files in ``models/base/source.json``; :func:`resolve` turns
``models/base`` into the directory to load, so a 16 GB checkpoint is never copied into the DVC cache.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from chimera.config import ModelParams
from chimera.io import atomic_path
from chimera.models.processor import ImageOnlyProcessor, ModelDirError, register

SOURCE = "source.json"


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


def validate_checkpoint(directory: Path) -> dict:
    """Refuse anything that is not a loadable local Qwen3-VL checkpoint, with one clear error."""
    register()
    if not directory.is_dir():
        raise ModelDirError(f"{directory}: model.base is neither 'tiny' nor an existing directory")
    config_path = directory / "config.json"
    if not config_path.exists():
        raise ModelDirError(f"{directory}: no config.json")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as err:
        raise ModelDirError(f"{directory}: config.json is not JSON ({err})") from None
    if config.get("model_type") != "qwen3_vl":
        raise ModelDirError(f"{directory}: model_type is {config.get('model_type')!r}, expected 'qwen3_vl'")
    if not list(directory.glob("*.safetensors")):
        raise ModelDirError(f"{directory}: no .safetensors weights (pickled weights are never loaded)")
    try:
        ImageOnlyProcessor.from_pretrained(directory)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelDirError(f"{directory}: the processor does not load ({err})") from None
    return {"path": str(directory.resolve()), "sha256": content_hash(directory), "model_type": "qwen3_vl"}


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
    return info


def resolve(directory: Path) -> Path:
    """The directory to load for ``models/base`` (itself, or the checkpoint it points to)."""
    source = directory / SOURCE
    if source.exists():
        info = json.loads(source.read_text())
        if info.get("base") == "checkpoint":
            return Path(info["path"])
    return directory
