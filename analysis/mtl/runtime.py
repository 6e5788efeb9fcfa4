"""Process-wide settings of a training job: torch's determinism and threads, and its start-up cost."""

from __future__ import annotations

import logging
import os
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


def resolve_device(name: str) -> torch.device:
    """The torch device of the config's `training.device` (cpu, cuda or auto)."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError(
            "training.device is 'cuda' but this job sees no CUDA device (torch "
            f"{torch.__version__}, CUDA build {torch.version.cuda}); run it where a GPU is "
            "allocated (README, 'Running on a SLURM cluster': --set-resources train_model:gpu=1) "
            "or set training.device to auto or cpu."
        )
    # cuBLAS is deterministic only with a fixed workspace, set before its first call.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.device("cuda")


def device_record(device: torch.device) -> dict[str, str | None]:
    """What a model's numbers depend on beyond the config: the device type, torch and CUDA."""
    return {
        "type": device.type,
        "name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
    }
