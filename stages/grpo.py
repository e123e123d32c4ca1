"""DVC stage ``grpo@<M>``: Model C (from SFT) or D (from the base) with TRL's GRPOTrainer (chimera.grpo).

Usage: ``python stages/grpo.py NAME START_DIR`` (dvc.yaml's foreach passes both).
"""

import sys
from pathlib import Path

from chimera.grpo import run
from chimera.stage import main

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    name, start_dir = sys.argv[1], Path(sys.argv[2])
    main(
        lambda p: run(
            p,
            start_dir=start_dir,
            grpo_dir=Path("data/grpo"),
            out_dir=Path(f"models/grpo_{name}"),
            work_dir=Path(f"models/grpo-checkpoints/{name}"),
            live_dir=Path(f"metrics/grpo_{name}"),
            summary_file=Path(f"metrics/grpo_{name}/summary.json"),
        )
    )
