"""DVC stage ``compare``: paired differences between evaluated models (see chimera.evaluate.compare)."""

import logging
import sys
from pathlib import Path

from chimera.config import load_params
from chimera.evaluate import compare
from chimera.io import write_json


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = load_params().evaluate
    diffs = compare(params.compare, Path("data/predictions"), params.seed)
    write_json("metrics/compare.json", diffs)
    for pair, d in diffs.items():
        fa = d["field_accuracy"]
        logging.info("%s: field accuracy %+.3f [%+.3f, %+.3f]", pair, fa["mean"], fa["ci_low"], fa["ci_high"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
