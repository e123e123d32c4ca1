"""DVC stage ``counterfactual``: every legal action of test frames, played out (chimera.counterfactual)."""

from pathlib import Path

from chimera.counterfactual import run
from chimera.stage import main

if __name__ == "__main__":
    main(
        lambda p: run(
            p.counterfactual,
            p.ingest,
            p.evaluate.frames_per_round,
            test_file=Path("data/grpo/test.jsonl"),
            out_file=Path("data/counterfactual/test.jsonl"),
            metrics_file=Path("metrics/counterfactual.json"),
        )
    )
