"""DVC stage ``grpo_data``: pairs + pro behaviour + outcome + contribution (see chimera.grpo_data)."""

import logging
import sys
from pathlib import Path

from chimera.config import load_params
from chimera.grpo_data import run


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    figures = run(
        load_params().grpo_data,
        Path("data/parsed"),
        Path("data/pairs"),
        Path("data/grpo"),
        Path("metrics/grpo_data.json"),
    )
    logging.info("grpo_data: train %d, val %d, test %d", figures["train"], figures["val"], figures["test"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
