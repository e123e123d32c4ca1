"""DVC stage ``sft``: Model B, LoRA on both towers with TRL's SFTTrainer (see chimera.sft)."""

import logging
import sys
from pathlib import Path

from chimera.config import load_params
from chimera.io import write_json
from chimera.sft import run


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    summary = run(
        load_params(),
        base_dir=Path("models/base"),
        grpo_dir=Path("data/grpo"),
        out_dir=Path("models/sft"),
        work_dir=Path("models/sft-checkpoints"),
        live_dir=Path("metrics/sft"),
    )
    write_json("metrics/sft/summary.json", summary)
    logging.info("sft: %s", summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
