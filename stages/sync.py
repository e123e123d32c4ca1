"""DVC stage ``sync``: broadcast video time -> demo tick from the HUD round timer (chimera.sync.run)."""

from pathlib import Path

from chimera.stage import main
from chimera.sync.run import run

if __name__ == "__main__":
    main(
        lambda p: run(
            p.sync,
            Path("data/parsed"),
            Path("data/sync"),
            Path("metrics/sync.json"),
            Path("metrics/sync_residuals.csv"),
            p.ingest.sim.round_time_s,
        )
    )
