"""Process-wide policy every stage and test runs under, applied when ``chimera`` is imported.

Nothing may reach the network (Hugging Face hub downloads and telemetry, DVC analytics), and numeric
libraries use one intra-op thread: with two threads on these 2-core machines identical CPU runs stalled
at random for seconds (see STACK.md). Values already set in the environment win, so a GPU user can
raise the thread count explicitly. The Makefile exports the same values for the processes it starts.
"""

from __future__ import annotations

import os

POLICY = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply() -> None:
    for key, value in POLICY.items():
        os.environ.setdefault(key, value)
