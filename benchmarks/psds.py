"""What the threshold-free PSDS adds to a detection task's final evaluation.

For a demo-sized test fold (30 clips of 96 frames, 4 classes) and a DESED-like one (200 clips of
200 frames, 10 classes) of random frame probabilities and planted reference events, prints the
median CPU seconds over `--repeats` calls of `psds_score` (DCASE scenario 1, the default
`detection.psds`) beside `sed_eval_scores` (segment and event metrics after post-processing, the
final metrics a detection task already had), and their ratio. Then the one-time CPU seconds of
importing `sed_scores_eval`, in a fresh process, as a ratio of `import sed_eval` there.

    .venv/bin/python benchmarks/psds.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

from analysis.mtl.sed_metrics import postprocess, psds_score, sed_eval_scores

HOP_S = 0.02
SIZES = {"demo fold (30 x 96 frames, 4 classes)": (30, 96, 4),
         "DESED-like (200 x 200 frames, 10 classes)": (200, 200, 10)}
IMPORT = ("import resource, {module}; r = resource.getrusage(resource.RUSAGE_SELF); "
          "print(r.ru_utime + r.ru_stime)")


def inputs(clips: int, frames: int, n_classes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    classes = tuple(f"class{i}" for i in range(n_classes))
    length = frames * HOP_S
    reference = []
    for _ in range(clips):
        onsets = rng.uniform(0, length * 0.7, size=2)
        labels = rng.choice(classes, size=2)
        reference.append([(float(a), float(min(a + 0.3 * length, length)), str(label))
                          for a, label in zip(onsets, labels)])
    probabilities = rng.random((clips, frames, n_classes)).astype(np.float32)
    return classes, reference, probabilities


def cpu_seconds(repeats: int, function, *arguments) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        function(*arguments)
        times.append(time.process_time() - start)
    return statistics.median(times)


def import_seconds(module: str, repeats: int) -> float:
    baseline = IMPORT.format(module="sys")
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for code in (baseline, IMPORT.format(module=module))
            for _ in range(repeats)]
    return statistics.median(runs[repeats:]) - statistics.median(runs[:repeats])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'CPU-s, median of ' + str(args.repeats):44s} {'psds':>8s} {'sed_eval':>9s} {'psds / sed_eval':>16s}")
    for name, size in SIZES.items():
        classes, reference, probabilities = inputs(*size)
        estimated = [postprocess(clip, 0.5, 5, HOP_S, classes) for clip in probabilities]
        psds_score(probabilities, reference, classes, HOP_S)  # first calls import the libraries
        sed_eval_scores(reference, estimated, classes, 1.0, 0.2)
        psds = cpu_seconds(args.repeats, psds_score, probabilities, reference, classes, HOP_S)
        sed = cpu_seconds(args.repeats, sed_eval_scores, reference, estimated, classes, 1.0, 0.2)
        print(f"{name:44s} {psds:8.3f} {sed:9.3f} {psds / sed:16.2f}")
    scores_import = import_seconds("sed_scores_eval.intersection_based", args.repeats)
    eval_import = import_seconds("sed_eval", args.repeats)
    print(f"import sed_scores_eval.intersection_based {scores_import:.2f} CPU-s, import sed_eval "
          f"{eval_import:.2f} CPU-s: ratio {scores_import / eval_import:.2f}")


if __name__ == "__main__":
    main()
