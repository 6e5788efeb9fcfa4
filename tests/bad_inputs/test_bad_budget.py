"""Catalogue (docs/bad-inputs.md): mistakes in the budget settings (`pairs`, `groups`), stopped
before any job with a message that names the field and says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_data import BASE_CONFIG, noise_dataset, run_snakemake, tones_dataset

from analysis.config import section
from analysis.errors import StudyInputError


def study(folder: Path) -> Path:
    tones_dataset(folder / "data" / "tones")
    noise_dataset(folder / "data" / "noise")
    return folder


def stopped_before_any_job(result, folder: Path) -> str:
    assert result.returncode != 0
    assert not (folder / "results").exists(), "a config error left results behind"
    return result.stdout + result.stderr


@pytest.mark.parametrize(("values", "field"), [({"select": "best"}, "pairs.select"),
                                               ({"per_task": 0}, "pairs.per_task")])
def test_budget_unknown_select(values, field):
    with pytest.raises(StudyInputError, match=f"config {field}: "):
        section("pairs", values)


@pytest.mark.parametrize(("values", "field"), [({"from": "gains"}, "groups: 'networks'"),
                                               ({"networks": 2, "from": "pairs"}, "groups.from: ")])
def test_groups_without_networks(values, field):
    with pytest.raises(StudyInputError, match=f"config {field}"):
        section("groups", values)


@pytest.mark.workflow
def test_budget_measured_unknown_task(tmp_path):
    config = BASE_CONFIG | {"pairs": {"select": "predicted", "measured": [["tones_pitch", "tones_colour"]]}}
    output = stopped_before_any_job(run_snakemake(study(tmp_path), config, "--dry-run"), tmp_path)
    assert "config pairs.measured: ['tones_pitch', 'tones_colour'] names tones_colour" in output
    assert "list pairs of the tasks declared" in output


@pytest.mark.workflow
def test_budget_predicted_without_measured(tmp_path):
    config = BASE_CONFIG | {"pairs": {"select": "predicted"}}
    output = stopped_before_any_job(run_snakemake(study(tmp_path), config, "--dry-run"), tmp_path)
    assert "config pairs.select: predicted needs pairs already measured" in output and "pairs.measured" in output


@pytest.mark.workflow
def test_groups_too_many_networks(tmp_path):
    config = BASE_CONFIG | {"groups": {"networks": 4}}
    output = stopped_before_any_job(run_snakemake(study(tmp_path), config, "--dry-run"), tmp_path)
    assert "config groups.networks: 4 networks for 3 tasks; give a number from 1 to 3" in output
