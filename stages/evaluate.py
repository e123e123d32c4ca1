"""DVC stage ``evaluate@<M>``: one model on the test split (see chimera.evaluate).

Usage: ``python stages/evaluate.py NAME MODEL_DIR`` (dvc.yaml's foreach passes both).
"""

import logging
import sys
from pathlib import Path

from chimera.config import load_params
from chimera.evaluate import run


def main(name: str, model_dir: str) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    figures = run(
        load_params().evaluate,
        name,
        Path(model_dir),
        test_file=Path("data/grpo/test.jsonl"),
        out_file=Path(f"data/predictions/{name}.jsonl"),
        metrics_file=Path(f"metrics/eval_{name}.json"),
        fields_file=Path(f"metrics/fields_{name}.json"),
    )
    logging.info(
        "evaluate %s: n %d, json valid %.3f, field accuracy %.3f, reward %.3f",
        name,
        figures["n"],
        figures["json_valid_rate"]["mean"],
        figures["field_accuracy"]["mean"],
        figures["reward_total"]["mean"],
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
