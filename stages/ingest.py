"""DVC stage ``ingest``: demos or simulated matches into ``data/parsed/<match>/`` (chimera.ingest)."""

import logging
import sys
from pathlib import Path

from chimera.config import load_params
from chimera.ingest import IngestError, run


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = load_params()
    try:
        matches = run(params.ingest, Path("data/parsed"), Path("metrics/sim.json"))
    except IngestError as err:
        logging.error("%s", err)
        return 1
    logging.info("ingest: wrote %d matches to data/parsed", len(matches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
