"""DVC stage ``render``: simulated matches as broadcast VODs + truth sidecars (see chimera.broadcast)."""

import logging
import sys
from pathlib import Path

from chimera.broadcast.stage import run
from chimera.config import load_params


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = load_params()
    videos = run(params, Path("data/parsed"), Path(params.sync.vod_dir))
    logging.info("render: %d videos in %s", len(videos), params.sync.vod_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
