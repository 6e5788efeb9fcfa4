"""Send a Snakemake job's logging and stderr (progress bars, warnings, tracebacks) to its log file."""

from __future__ import annotations

import logging
import os
import socket
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from analysis.errors import StudyInputError


def log_to_file(path: str | Path) -> None:
    """Route stderr and the root logger to `path` for the rest of this process.

    The log is appended to, not overwritten: a job retried by Snakemake (`--retries`, or a SLURM job
    killed at its time limit and submitted again) keeps every earlier attempt's log above a header
    line naming the start time, host, process and SLURM job of the new attempt. The traceback of an uncaught error goes to the log too; an error the user caused (a
    StudyInputError) is also printed to the console, so the message is seen without opening the log.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    console = sys.stderr
    stream = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the job process
    stream.write(attempt_header() + "\n")
    sys.stderr = stream
    logging.basicConfig(
        stream=stream,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )

    def report(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, error, tb, file=stream)
        if isinstance(error, StudyInputError):
            print(f"{kind.__name__}: {error}", file=console)

    sys.excepthook = report


def attempt_header() -> str:
    """The line that opens one attempt of a job in its (appended) log."""
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    where = f"host {socket.gethostname()}, pid {os.getpid()}"
    slurm_job = os.environ.get("SLURM_JOB_ID")
    if slurm_job:
        array_task = os.environ.get("SLURM_ARRAY_TASK_ID")
        where += f", SLURM job {slurm_job}" + (f" (array task {array_task})" if array_task else "")
        restarts = os.environ.get("SLURM_RESTART_COUNT")
        if restarts:
            where += f", requeued {restarts} times"
    return f"===== job attempt started {started} ({where}) ====="
