"""Job logs keep the earlier attempts of a retried job, although Snakemake deletes the log first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from study_data import REPO

JOB = """
import logging, sys
from analysis.logs import log_to_file
log_to_file(sys.argv[1], attempt=int(sys.argv[2]))
logging.getLogger("job").info("attempt %s working", sys.argv[2])
print("progress on stderr", file=sys.stderr)
if sys.argv[2] == "1":
    raise RuntimeError("killed in attempt 1")
"""


def attempt(log: Path, number: int, env: dict[str, str] | None = None) -> int:
    log.unlink(missing_ok=True)  # as Snakemake does before every attempt of a job
    return subprocess.run([sys.executable, "-c", JOB, str(log), str(number)], cwd=REPO,
                          env={"PYTHONPATH": str(REPO), **(env or {})},
                          capture_output=True, text=True, timeout=60).returncode


def test_a_retry_keeps_the_log_of_the_failed_attempt(tmp_path):
    log = tmp_path / "logs/train_model/single/t.log"
    assert attempt(log, 1) != 0
    assert attempt(log, 2, {"SLURM_JOB_ID": "42"}) == 0
    text = log.read_text()
    assert text.count("===== job attempt") == 2
    first, second = text.split("===== job attempt")[1:]
    assert first.startswith(" 1 started") and second.startswith(" 2 started")
    assert "attempt 1 working" in first and "RuntimeError: killed in attempt 1" in first
    assert "progress on stderr" in first
    assert "attempt 2 working" in second and "SLURM job 42" in second
    assert "SLURM job" not in first.splitlines()[0]
    # A new run of the job (attempt 1 again) starts a new log.
    assert attempt(log, 1) != 0
    assert log.read_text().count("===== job attempt") == 1
