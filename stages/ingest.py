"""DVC stage ``ingest``: demos or simulated matches into ``data/parsed/<match>/`` (chimera.ingest)."""

from pathlib import Path

from chimera.ingest import run
from chimera.stage import main

if __name__ == "__main__":
    main(lambda p: run(p.ingest, Path("data/parsed"), Path("metrics/sim.json")))
