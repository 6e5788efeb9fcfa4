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

CONSOLE = "console"  # logger.warning(..., extra={CONSOLE: True}) also reaches the console in a job


def log_to_file(path: str | Path, attempt: int | None = None) -> None:
    """Route stderr and the root logger to `path` for the rest of this process.

    `attempt`: the job's attempt number (the `attempt` resource, workflow/rules/resources.smk).
    Snakemake deletes a job's log before every attempt, so a retried job (`--retries`, a SLURM job
    stopped at its time limit) would lose the log of the attempt that failed. With `attempt`, the
    log is also the file `<path>.attempts` (a hard link to the same content, which Snakemake does
    not delete): attempt 1 starts it anew, a later attempt appends to it, so `path` then shows every
    attempt of this run, each under a header line naming its start time, host, process and SLURM
    job. The traceback of an uncaught error goes to the log too; an error the user caused (a
    StudyInputError) is also printed to the console, so the message is seen without opening the log,
    and so is a warning logged with `extra={CONSOLE: True}` (a result the user must not misread).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    console = sys.stderr
    if attempt is not None:
        _link_attempts(path, attempt)
    stream = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the job process
    stream.write(attempt_header(attempt) + "\n")
    sys.stderr = stream
    logging.basicConfig(
        stream=stream,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    to_console = logging.StreamHandler(console)
    to_console.setLevel(logging.WARNING)
    to_console.addFilter(lambda record: bool(getattr(record, CONSOLE, False)))
    to_console.setFormatter(logging.Formatter("WARNING (%(name)s): %(message)s"))
    logging.getLogger().addHandler(to_console)

    def report(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, error, tb, file=stream)
        if isinstance(error, StudyInputError):
            print(f"{kind.__name__}: {error}", file=console)

    sys.excepthook = report


def _link_attempts(path: Path, attempt: int) -> None:
    """Make `path` the same file as `<path>.attempts`, started anew by attempt 1."""
    history = path.with_name(path.name + ".attempts")
    if attempt <= 1:
        history.unlink(missing_ok=True)
    history.touch()
    path.unlink(missing_ok=True)
    try:
        os.link(history, path)
    except OSError as error:  # a file system without hard links: this attempt's log only
        path.write_text(f"(earlier attempts, if any, are in {history.name}: {error})\n")


def attempt_header(attempt: int | None = None) -> str:
    """The line that opens one attempt of a job in its log."""
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    where = f"host {socket.gethostname()}, pid {os.getpid()}"
    slurm_job = os.environ.get("SLURM_JOB_ID")
    if slurm_job:
        array_task = os.environ.get("SLURM_ARRAY_TASK_ID")
        where += f", SLURM job {slurm_job}" + (f" (array task {array_task})" if array_task else "")
        restarts = os.environ.get("SLURM_RESTART_COUNT")
        if restarts:
            where += f", requeued {restarts} times"
    number = f" {attempt}" if attempt is not None else ""
    return f"===== job attempt{number} started {started} ({where}) ====="
