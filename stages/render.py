"""DVC stage ``render``: simulated matches as broadcast VODs + truth sidecars (chimera.broadcast.stage)."""

from pathlib import Path

from chimera.broadcast.stage import run
from chimera.stage import main

if __name__ == "__main__":
    main(
        lambda p: run(
            p.render, p.ingest.source, p.ingest.sim.round_time_s, Path("data/parsed"), Path("data/raw/vods")
        )
    )
