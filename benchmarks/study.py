"""The whole study, measured: where its wall time goes, per rule, from Snakemake's benchmark files.

Runs the study of `--configfile` (default: the repository's `config.yaml`, the default study) in a
fresh folder (`-s <repo>/Snakefile --directory <folder>`) with `--cores` cores, then reads every
job's `results/benchmarks/**.tsv` (written with `--benchmark-extended`, so each names its rule) and
prints, per rule:

- `jobs`, `wall s` (sum over jobs), `CPU s` (sum of the jobs' user + system CPU), `MB written`;
- `startup CPU-s`: for training jobs, the mean CPU seconds a job spent before its first batch
  (interpreter, Snakemake's script preamble, imports, data loading), as the job logs it
  (`startup: ... CPU-s before the first batch`); `-` for other rules.

and for the whole study: its wall time, the parallel CPU limit (sum of job CPU over the cores: the
wall time if the cores never waited and nothing but jobs ran), wall / that limit (1.0 is perfect),
and the CPU of everything the command ran (Snakemake's own scheduling and the short-lived
subprocesses that its sampling misses, such as the demo corpora's synthesizers, included) with
wall / (that CPU / cores). Snakemake samples a job's process tree every 0.5 s, so a job or a
subprocess shorter than that can be recorded with too little or no CPU time (`NA`). Timings on a
shared machine are noisy: look at `uptime` before trusting a run. `--no-run` prints the figures of
the jobs already in `--directory` (no study-wide wall or CPU).

    .venv/bin/python benchmarks/study.py [--configfile STUDY.yaml] [--cores 2] [--directory DIR]
        [--keep] [--no-run] [-- extra snakemake arguments]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STARTUP = re.compile(r"startup: ([0-9.]+) CPU-s before the first batch")


def run_study(
    directory: Path, configfile: Path, cores: int, extra: list[str]
) -> tuple[float, float]:
    """Run Snakemake on the study; (wall seconds, CPU seconds of the command and its children)."""
    snakemake = Path(sys.executable).parent / "snakemake"
    command = [
        str(snakemake), "-s", str(REPO / "Snakefile"), "--directory", str(directory),
        "--configfile", str(configfile), "--cores", str(cores), "--benchmark-extended",
        "--quiet", "rules", *extra,
    ]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=environment, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"snakemake failed ({done.returncode}); the study folder is {directory}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "NA") else None
    except ValueError:
        return None


def read_benchmarks(directory: Path) -> dict[str, list[dict[str, float | None]]]:
    """{rule: [{s, cpu_time, io_out}, ...]} of every job's benchmark file (last repeat)."""
    jobs: dict[str, list[dict[str, float | None]]] = defaultdict(list)
    for path in sorted((directory / "results" / "benchmarks").rglob("*.tsv")):
        with path.open() as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        if not rows:
            continue
        row = rows[-1]
        # without --benchmark-extended a file names its rule: <rule>.tsv or <rule>/<wildcards>.tsv
        parts = path.relative_to(directory / "results" / "benchmarks").parts
        rule = row.get("rule_name") or (parts[0] if len(parts) > 1 else path.stem)
        jobs[rule].append({key: _number(row.get(key)) for key in ("s", "cpu_time", "io_out")})
    return jobs


def read_startups(directory: Path) -> dict[str, list[float]]:
    """{rule: [start-up CPU seconds of each job that logged one]}, from logs/<rule>/**.log."""
    found: dict[str, list[float]] = defaultdict(list)
    for path in sorted((directory / "logs").rglob("*.log")):
        matches = STARTUP.findall(path.read_text(errors="replace"))
        if matches:
            found[path.relative_to(directory / "logs").parts[0]].append(float(matches[-1]))
    return found


def _total(jobs: list[dict[str, float | None]], key: str) -> str:
    values = [job[key] for job in jobs if job[key] is not None]
    missing = len(jobs) - len(values)
    text = f"{sum(values):.1f}" if values else "NA"
    return text + (f" ({missing} NA)" if missing and values else "")


def report(directory: Path, wall: float | None, command_cpu: float, cores: int) -> None:
    jobs, startups = read_benchmarks(directory), read_startups(directory)
    header = ("rule", "jobs", "wall s", "CPU s", "MB written", "startup CPU-s (mean, max)")
    lines = []
    for rule in sorted(jobs, key=lambda r: -sum(j["cpu_time"] or 0.0 for j in jobs[r])):
        found = startups.get(rule, [])
        startup = f"{sum(found) / len(found):.2f}, {max(found):.2f}" if found else "-"
        lines.append((rule, str(len(jobs[rule])), _total(jobs[rule], "s"),
                      _total(jobs[rule], "cpu_time"), _total(jobs[rule], "io_out"), startup))
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    for row in [header, *lines]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
    job_cpu = sum(j["cpu_time"] or 0.0 for rule in jobs.values() for j in rule)
    written = sum(j["io_out"] or 0.0 for rule in jobs.values() for j in rule)
    limit = job_cpu / cores
    print()
    print(f"study: {sum(map(len, jobs.values()))} jobs; job CPU {job_cpu:.1f} s; "
          f"parallel limit (job CPU / cores) {limit:.1f} s; written by jobs {written:.1f} MB")
    if wall is None:
        return
    print(f"wall {wall:.1f} s on {cores} cores; wall / limit {wall / limit if limit else 0:.2f}")
    print(f"CPU of everything run {command_cpu:.1f} s; "
          f"wall / (that CPU / cores) {wall / (command_cpu / cores) if command_cpu else 0:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--directory", type=Path, help="study folder (default: a fresh one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary study folder")
    parser.add_argument("--no-run", action="store_true", help="only report on --directory")
    parser.add_argument("extra", nargs="*", help="more snakemake arguments, after --")
    args = parser.parse_args()
    if args.no_run:
        if args.directory is None:
            parser.error("--no-run needs --directory")
        report(args.directory, None, 0.0, args.cores)
        return
    fresh = args.directory is None
    directory = Path(tempfile.mkdtemp(prefix="study_bench_")) if fresh else args.directory
    directory.mkdir(parents=True, exist_ok=True)
    try:
        wall, cpu = run_study(directory, args.configfile.resolve(), args.cores, args.extra)
        print(f"study folder: {directory}")
        report(directory, wall, cpu, args.cores)
    finally:
        if fresh and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
