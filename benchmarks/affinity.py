"""The affinity path against training every pair, in one run: CPU time and the quality achieved.

Runs the study of `--configfile` (default: the repository's `config.yaml`) in `--directory` (a
fresh temporary folder by default) up to `cost.csv` and `affinity_vs_gain.csv`, or, with
`--no-run`, reads those of a finished study folder, and prints:

- CPU seconds of the all-task model (probe included), of the probe alone, of every pair model and
  of the single-task models (sums of the jobs' Snakemake benchmark files), and the affinity
  model's share of the all-pairs cost (the issue's goal: at most 10 %);
- per predictor (affinity lookahead and cosine, the pair-feature predictor, the size ratio):
  Spearman's rho with the measured gains, its interval and p, and top-k partner precision against
  chance, as measured (a weak or negative figure is printed as it is).

    .venv/bin/python benchmarks/affinity.py [--configfile STUDY.yaml] [--cores 2]
        [--directory DIR] [--no-run]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TARGETS = ["results/analysis/cost.csv", "results/analysis/affinity_vs_gain.csv"]


def run_study(configfile: Path, directory: Path, cores: int) -> None:
    snakemake = Path(sys.executable).with_name("snakemake")
    command = [str(snakemake), "-s", str(REPO / "Snakefile"), "--directory", str(directory),
               "--configfile", str(configfile), "--cores", str(cores), *TARGETS]
    subprocess.run(command, check=True)


def print_figures(directory: Path) -> None:
    cost = pd.read_csv(directory / TARGETS[0])
    quality = pd.read_csv(directory / TARGETS[1])
    print("\ncost (CPU seconds from the jobs' benchmark files)")
    print(cost.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    columns = ["predictor", "n_pairs", "spearman_rho", "spearman_ci_low", "spearman_ci_high",
               "spearman_p", "top_k", "top_k_precision", "chance_precision", "top_k_p", "note"]
    print("\nquality against the measured pair gains")
    print(quality[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--directory", type=Path)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--no-run", action="store_true", help="read a finished study folder")
    args = parser.parse_args()
    directory = args.directory or Path(tempfile.mkdtemp(prefix="affinity_benchmark_"))
    if not args.no_run:
        run_study(args.configfile.resolve(), directory, args.cores)
    print_figures(directory)


if __name__ == "__main__":
    main()
