"""DVC stage ``report``: report.md, its plots and the review page from the metrics (chimera.report)."""

from pathlib import Path

from chimera.report import run
from chimera.stage import main

if __name__ == "__main__":
    main(
        lambda p: run(
            p.ingest.source,
            metrics_dir=Path("metrics"),
            predictions_dir=Path("data/predictions"),
            test_file=Path("data/grpo/test.jsonl"),
            frames_root=Path("data/pairs/frames"),
            report_file=Path("metrics/report.md"),
            plots_dir=Path("metrics/report"),
            review_dir=Path("metrics/review"),
        )
    )
