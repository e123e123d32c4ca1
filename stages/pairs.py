"""DVC stage ``pairs``: synced broadcast frames + ground-truth game_state labels (see chimera.pairs)."""

import logging
import sys
import time
from pathlib import Path

from chimera.config import load_params
from chimera.pairs import PairsError, run


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    params = load_params()
    start = time.perf_counter()
    try:
        m = run(
            params,
            Path("data/parsed"),
            Path(params.sync.vod_dir),
            Path("data/sync"),
            Path("data/pairs"),
            Path("metrics/pairs.json"),
        )
    except PairsError as err:
        logging.error("%s", err)
        return 1
    logging.info(
        "pairs: train %d, val %d, test %d; skipped %s; player correct %s; from replay/pause %d; %.0f s",
        m["train"],
        m["val"],
        m["test"],
        {k: v for k, v in m["skipped"].items() if v} or "none",
        "n/a" if m["player_correct_rate"] is None else f"{m['player_correct_rate']:.4f}",
        m["pairs_from_replay_or_pause"],
        time.perf_counter() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
