"""DVC stage ``sync``: broadcast video time -> demo tick from the HUD round timer (see chimera.sync)."""

import logging
import sys
from pathlib import Path

from chimera.config import load_params
from chimera.sync.run import run
from chimera.sync.scan import VideoError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = load_params()
    try:
        run(
            params.sync,
            Path("data/parsed"),
            Path("data/sync"),
            Path("metrics/sync.json"),
            Path("metrics/sync_residuals.csv"),
            params.ingest.sim.round_time_s,
        )
    except VideoError as err:
        logging.error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
