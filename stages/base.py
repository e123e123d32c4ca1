"""DVC stage ``base``: the model every training stage starts from, Model A (chimera.models.base)."""

from pathlib import Path

from chimera.models.base import prepare
from chimera.stage import main

if __name__ == "__main__":
    main(lambda p: prepare(p.model, Path("models/base")))
