"""Test-run options shared by every test module."""

from __future__ import annotations

from pathlib import Path

import pytest

SLOW_MARKERS = ("workflow", "slow")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked `workflow` (Snakemake studies) or `slow` (CI runs them)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    slow = [item for item in items if any(item.get_closest_marker(m) for m in SLOW_MARKERS)]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]


@pytest.fixture(scope="session")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small datasets as `train_study_model` reads them, built once per test run: alpha (60
    clips, labels word and speaker) and beta (48 clips, label scene), 3 round-robin folds, so a
    cross-dataset pair has tasks of different sizes (40 and 32 training clips per fold)."""
    from test_mtl import make_dataset

    root = tmp_path_factory.mktemp("study")
    make_dataset(root, "alpha", 60, {"word": 3, "speaker": 2}, seed=1)
    make_dataset(root, "beta", 48, {"scene": 3}, seed=2)
    return root


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`study_data.BASE_CONFIG` run to its end by Snakemake, once per test run (the end-to-end
    tests, marked `workflow`, share it). Tests read it or dry-run other configs on it; a test that
    changes it must put it back (see test_a_study_folder_copied_elsewhere_runs_without_retraining)."""
    from study_data import BASE_CONFIG, chirps_dataset, noise_dataset, run_snakemake, tones_dataset

    study = tmp_path_factory.mktemp("finished_study")
    tones_dataset(study / "data" / "tones")
    noise_dataset(study / "data" / "noise")
    chirps_dataset(study / "data" / "chirps")
    result = run_snakemake(study, BASE_CONFIG)
    assert result.returncode == 0, result.stderr[-4000:]
    return study
