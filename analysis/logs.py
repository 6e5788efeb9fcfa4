"""Send a Snakemake job's logging and stderr (progress bars, warnings, tracebacks) to its log file."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from analysis.errors import StudyInputError

CONSOLE = "console"  # logger.warning(..., extra={CONSOLE: True}) also reaches the console in a job


def log_to_file(path: str | Path) -> None:
    """Route stderr and the root logger to `path` for the rest of this process.

    The traceback of an uncaught error goes to the log too; an error the user caused (a
    StudyInputError) is also printed to the console, so the message is seen without opening the log,
    and so is a warning logged with `extra={CONSOLE: True}` (a result the user must not misread).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    console = sys.stderr
    stream = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the job process
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
