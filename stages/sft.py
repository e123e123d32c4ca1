"""DVC stage ``sft``: Model B, LoRA on both towers with TRL's SFTTrainer (chimera.sft)."""

from pathlib import Path

from chimera.sft import run
from chimera.stage import main

if __name__ == "__main__":
    main(
        lambda p: run(
            p,
            base_dir=Path("models/base"),
            grpo_dir=Path("data/grpo"),
            out_dir=Path("models/sft"),
            work_dir=Path("models/sft-checkpoints"),
            live_dir=Path("metrics/sft"),
            summary_file=Path("metrics/sft/summary.json"),
        )
    )
