"""Process-wide settings of a training job: torch's determinism and threads, and its start-up cost."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

logger = logging.getLogger(__name__)


@contextmanager
def torch_settings(threads: int) -> Iterator[None]:
    """Deterministic algorithms and a fixed thread count; the previous settings come back after."""
    previous = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])


_startup_logged = False


def log_startup() -> None:
    """Log, once per process, the CPU seconds it spent before its first batch (interpreter, the
    job's preamble, imports, reading the inputs): `benchmarks/study.py` reads this line."""
    global _startup_logged
    if not _startup_logged:
        _startup_logged = True
        logger.info("startup: %.3f CPU-s before the first batch", time.process_time())
