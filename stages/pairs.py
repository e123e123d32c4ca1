"""DVC stage ``pairs``: synced broadcast frames + ground-truth game_state labels (chimera.pairs.run)."""

from pathlib import Path

from chimera.pairs import run
from chimera.stage import main

if __name__ == "__main__":
    main(
        lambda p: run(
            p.pairs,
            p.sync,
            Path("data/parsed"),
            p.sync.vod_dir,
            Path("data/sync"),
            Path("data/pairs"),
            Path("metrics/pairs.json"),
        )
    )
