"""The config schema is the one source of defaults and checks for the library too."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

import analysis.config as study_config
from analysis.corpora.tasks import TaskSpec
from analysis.errors import StudyInputError
from analysis.features.preparation import resolve_preparation
from analysis.mtl.layers import GeneratorDropout
from analysis.mtl.models import build_model
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import ModelSettings


def _dropouts(model) -> set[float]:
    return {m.p for m in model.modules() if isinstance(m, GeneratorDropout)}


def test_library_defaults_are_the_schema_defaults() -> None:
    model_schema = study_config.schema()["properties"]["model"]["properties"]
    settings = ModelSettings.from_config({})
    assert settings.dropout == model_schema["dropout"]["default"]
    assert list(settings.hidden) == model_schema["hidden"]["default"]
    assert settings.type == model_schema["type"]["default"]


def test_changing_a_default_in_the_schema_changes_what_the_library_builds(monkeypatch) -> None:
    changed = copy.deepcopy(study_config.schema())
    changed["properties"]["model"]["properties"]["dropout"]["default"] = 0.25
    changed["properties"]["model"]["properties"]["hidden"]["default"] = [7, 5]
    monkeypatch.setattr(study_config, "schema", lambda: changed)
    model = build_model({}, 12, {"a": 3}, RunSeeds(0, 0))
    assert _dropouts(model) == {0.25}
    assert model.trunk[0].out_features == 7 and model.trunk[3].out_features == 5


def test_task_and_preparation_defaults_come_from_the_schema(monkeypatch) -> None:
    changed = copy.deepcopy(study_config.schema())
    changed["$defs"]["task"]["properties"]["separator"]["default"] = "|"
    changed["$defs"]["task"]["properties"]["type"]["default"] = "multilabel"
    changed["properties"]["features"]["properties"]["preparation"]["default"]["frames"] = 40
    monkeypatch.setattr(study_config, "schema", lambda: changed)
    spec = TaskSpec(name="t", dataset="d", label="l")
    assert (spec.type, spec.separator) == ("multilabel", "|")
    assert resolve_preparation({"mode": "window"}) == {"mode": "window", "frames": 40, "hop": 20}


def test_a_value_the_schema_rejects_names_the_field() -> None:
    with pytest.raises(StudyInputError, match=r"config model\.dropout: 1\.5 is greater"):
        ModelSettings.from_config({"dropout": 1.5})
    with pytest.raises(StudyInputError, match=r"config model\.hidden\.1: 0 is less"):
        ModelSettings.from_config({"hidden": [4, 0]})


def test_filled_section_leaves_the_callers_mapping_alone() -> None:
    given = {"type": "cnn"}
    filled = study_config.section("model", given)
    assert given == {"type": "cnn"}
    assert filled["type"] == "cnn" and "channels" in filled


def test_the_default_study_and_its_schema_defaults_build_a_dag() -> None:
    """config.yaml (with `early_stopping: null`) validates and fills its defaults in Snakemake."""
    repo = Path(__file__).resolve().parents[1]
    snakemake = Path(sys.executable).with_name("snakemake")
    result = subprocess.run([str(snakemake), "-s", str(repo / "Snakefile"), "-n", "--quiet"],
                            cwd=repo, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
