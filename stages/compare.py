"""DVC stage ``compare``: paired differences between evaluated models (chimera.compare)."""

from pathlib import Path

from chimera.compare import run
from chimera.stage import main

if __name__ == "__main__":
    main(lambda p: run(p.evaluate, Path("data/predictions"), Path("metrics/compare.json")))
