"""Latency per input row: a dual-task model against its two single-task models.

The memory and runtime comparison of Georgiev et al. (2017). Parameters and multiply-adds are
deterministic and stored with every model (`efficiency.json`); latency depends on the machine and
its load, so it is measured here, with `torch.utils.benchmark.Timer` (warm-up, then enough runs
for a stable median), in one process, one thread, in eval mode.

Prints the median milliseconds of one forward pass of one row through the pair model and through
the two single-task models together, and their ratio.

    .venv/bin/python benchmarks/latency.py [--model dnn|cnn|adapters] [--features 168]
        [--frames 96 --bands 64] [--classes 10 3]
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.benchmark import Timer

from analysis.mtl.layers import InputShape, MultiTaskNet
from analysis.mtl.models import build_model
from analysis.mtl.seeding import RunSeeds

MODELS = {
    "dnn": {"type": "dnn", "hidden": [128, 256, 512], "dropout": 0.1},
    "cnn": {"type": "cnn", "channels": [8, 16, 32, 64, 128], "dropout": 0.1},
    "adapters": {"type": "adapters", "channels": [8, 16, 32, 64, 128], "dropout": 0.1},
}


def median_ms(model: MultiTaskNet, input_shape: InputShape) -> float:
    model.eval()
    timer = Timer(
        stmt="with torch.no_grad(): model(x)",
        globals={"torch": torch, "model": model, "x": torch.zeros(1, *input_shape)},
        num_threads=1,
    )
    return timer.blocked_autorange(min_run_time=1.0).median * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="dnn")
    parser.add_argument("--features", type=int, default=168, help="dnn: features per row")
    parser.add_argument("--frames", type=int, default=96, help="cnn, adapters: frames per row")
    parser.add_argument("--bands", type=int, default=64, help="cnn, adapters: bands per row")
    parser.add_argument("--classes", type=int, nargs=2, default=[10, 3], help="of the two tasks")
    args = parser.parse_args()
    shape = (args.features,) if args.model == "dnn" else (args.frames, args.bands)
    config, seeds = MODELS[args.model], RunSeeds(seed=0, fold=0)
    heads = {"a": args.classes[0], "b": args.classes[1]}
    pair = build_model(config, shape, heads, seeds)
    singles = [build_model(config, shape, {task: n}, seeds) for task, n in heads.items()]
    pair_ms = median_ms(pair, shape)
    singles_ms = sum(median_ms(single, shape) for single in singles)
    print(f"{args.model}, input rows of shape {shape}, 1 thread")
    print(f"  pair model:         {pair_ms:8.3f} ms per row")
    print(f"  two single models:  {singles_ms:8.3f} ms per row")
    print(f"  pair / two singles: {pair_ms / singles_ms:8.2f}x")


if __name__ == "__main__":
    main()
