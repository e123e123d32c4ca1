"""DVC stage ``grpo_data``: pairs + pro behaviour + outcome + contribution (chimera.grpo_data)."""

from pathlib import Path

from chimera.grpo_data import run
from chimera.stage import main

if __name__ == "__main__":
    main(
        lambda p: run(
            p.grpo_data,
            Path("data/parsed"),
            Path("data/pairs"),
            Path("data/grpo"),
            Path("metrics/grpo_data.json"),
        )
    )
