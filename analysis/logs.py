"""Send a Snakemake job's logging and stderr (progress bars, warnings, tracebacks) to its log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def log_to_file(path: str | Path) -> None:
    """Route stderr and the root logger to `path` for the rest of this process."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the job process
    sys.stderr = stream
    logging.basicConfig(
        stream=stream,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
