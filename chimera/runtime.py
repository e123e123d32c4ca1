"""Process-wide policy every stage and test runs under, applied when ``chimera`` is imported, and the one
way stages fan work out to processes.

Nothing may reach the network (Hugging Face hub downloads and telemetry, DVC analytics), and numeric
libraries use one intra-op thread: with two threads on these 2-core machines identical CPU runs stalled
at random for seconds (see STACK.md). Values already set in the environment win, so a GPU user can
raise the thread count explicitly. The Makefile exports the same values for the processes it starts.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from logging.handlers import QueueHandler, QueueListener

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


@contextmanager
def process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """Worker processes started fresh (``spawn``), never forked: a process that has already run Tesseract
    (OpenMP) or PyTorch threads deadlocks children forked from it, as the test suite showed. The workers'
    log records are sent back and handled by this process's loggers, so a warning a worker logs is
    seen (and tested) like one logged here."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    listener = QueueListener(queue, _Forward())
    listener.start()
    level = logging.getLogger().getEffectiveLevel()
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_log_to, initargs=(queue, level)
        ) as pool:
            yield pool
    finally:
        listener.stop()


class _Forward(logging.Handler):
    """Hands a worker's record to the logger of the same name here."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


def _log_to(queue, level: int) -> None:
    root = logging.getLogger()
    root.handlers[:] = [QueueHandler(queue)]
    root.setLevel(level)
