"""DVC stage ``evaluate@<M>``: one model on the test split, beside its baselines (chimera.evaluate).

Usage: ``python stages/evaluate.py NAME MODEL_DIR`` (dvc.yaml's foreach passes both).
"""

import sys
from pathlib import Path

from chimera.evaluate import run
from chimera.stage import main

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    name, model_dir = sys.argv[1], Path(sys.argv[2])
    main(
        lambda p: run(
            p.evaluate,
            p.grpo.reward_weights,
            p.ingest.sim.max_rounds,
            name,
            model_dir,
            test_file=Path("data/grpo/test.jsonl"),
            train_file=Path("data/grpo/train.jsonl"),
            oracle_file=Path("data/counterfactual/test.jsonl"),
            out_file=Path(f"data/predictions/{name}.jsonl"),
            metrics_file=Path(f"metrics/eval_{name}.json"),
            fields_file=Path(f"metrics/fields_{name}.json"),
        )
    )
