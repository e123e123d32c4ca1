"""DVC stage ``base``: the model every training stage starts from (see chimera.models.base)."""

import logging
import sys
from pathlib import Path

from chimera.config import load_params
from chimera.models.base import prepare
from chimera.models.processor import ModelDirError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        info = prepare(load_params().model, Path("models/base"))
    except ModelDirError as err:
        logging.error("%s", err)
        return 1
    logging.info("base: %s", info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
