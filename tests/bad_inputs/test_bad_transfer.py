"""Catalogue (docs/bad-inputs.md): mistakes in the `transfer` section."""

from __future__ import annotations

import pytest
from study_data import BASE_CONFIG
from study_data import run_snakemake as snakemake

from analysis.errors import StudyInputError
from analysis.mtl.transfer import TransferSettings
from analysis.mtl.transfer_job import pretrain_study_source


def test_transfer_cost_out_of_range():
    with pytest.raises(StudyInputError, match=r"config transfer\.costs\.0: 1\.5 is greater than"):
        TransferSettings.from_config({"costs": [1.5]})


def test_transfer_unknown_key():
    with pytest.raises(StudyInputError, match="config transfer: Additional properties.*'cost'"):
        TransferSettings.from_config({"cost": [0.1]})


@pytest.mark.workflow
def test_transfer_with_external_results(tmp_path):
    config = {key: value for key, value in BASE_CONFIG.items() if key != "datasets"}
    (tmp_path / "elsewhere").mkdir()
    result = snakemake(tmp_path, config | {"external_results": "elsewhere",
                                           "transfer": {"enabled": True}}, "--dry-run")
    assert result.returncode != 0
    assert "transfer.enabled needs datasets" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_transfer_with_early_stopping(tmp_path):
    training = {"epochs": 1, "seeds": [0], "early_stopping": {"patience": 1,
                                                              "validation_fraction": 0.2}}
    with pytest.raises(StudyInputError, match="transfer.enabled needs training without early"):
        pretrain_study_source({"t": {"dataset": "d", "label": "x"}}, {}, str(tmp_path / "t.pt"),
                              {"type": "dnn"}, training)
    assert not (tmp_path / "t.pt").exists()


def test_transfer_with_adapters(tmp_path):
    with pytest.raises(StudyInputError, match="transfer.enabled needs model.type dnn or cnn"):
        pretrain_study_source({"t": {"dataset": "d", "label": "x"}}, {}, str(tmp_path / "t.pt"),
                              {"type": "adapters"}, {"epochs": 1})
