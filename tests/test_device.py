"""`training.device`: cpu and auto (on a machine without a GPU) give the same bytes; cuda trains
where a GPU exists (skipped elsewhere) and says what to do where none does; a study refuses models
trained on different device types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_mtl import TRAINING, read_outputs, train

from analysis.errors import StudyInputError
from analysis.mtl.runtime import resolve_device
from analysis.stats.collect import check_one_device_type

TASKS = ["alpha_word", "beta_scene"]
NO_CUDA = "no CUDA device on this machine: the GPU path runs where torch.cuda.is_available()"



def outputs_bytes(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.glob("*.parquet"))}


@pytest.mark.skipif(torch.cuda.is_available(), reason="auto means cuda on this machine")
def test_cpu_and_auto_without_a_gpu_give_the_same_bytes(study: Path, tmp_path: Path) -> None:
    cpu = train(study, TASKS, tmp_path / "cpu", training=TRAINING | {"device": "cpu"})
    auto = train(study, TASKS, tmp_path / "auto", training=TRAINING | {"device": "auto"})
    assert outputs_bytes(cpu) == outputs_bytes(auto)
    record = json.loads((cpu / "efficiency.json").read_text())["device"]
    assert record["type"] == "cpu" and record["torch"] == torch.__version__


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="training.device is 'cuda' but this job sees no CUDA"):
        resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
def test_cuda_trains_and_records_its_device(study: Path, tmp_path: Path) -> None:
    cpu = read_outputs(train(study, TASKS, tmp_path / "cpu", training=TRAINING | {"device": "cpu"}))
    out = train(study, TASKS, tmp_path / "cuda", training=TRAINING | {"device": "cuda"})
    record = json.loads((out / "efficiency.json").read_text())["device"]
    assert record["type"] == "cuda" and record["cuda"] == torch.version.cuda
    cuda = read_outputs(out)
    # same initial weights, batches and dropout masks: the curves start at the same loss (float
    # rounding differs on the GPU, so later steps are close, not equal)
    first = ["task", "fold", "seed", "step"]
    start = cpu["curve"].query("step == 1").sort_values(first)["loss"].to_numpy()
    assert cuda["curve"].query("step == 1").sort_values(first)["loss"].to_numpy() == pytest.approx(start, rel=1e-4)
    repeat = read_outputs(train(study, TASKS, tmp_path / "again", training=TRAINING | {"device": "cuda"}))
    for name, table in cuda.items():  # deterministic algorithms: the same numbers twice
        assert table.equals(repeat[name]), name


def test_a_study_refuses_models_from_different_device_types(tmp_path: Path) -> None:
    folders = {}
    for name, kind in (("a", "cpu"), ("b", "cuda"), ("c", None)):
        folder = tmp_path / name
        folder.mkdir()
        record = {"device": {"type": kind}} if kind else {}  # c: written before devices were recorded
        (folder / "efficiency.json").write_text(json.dumps(record))
        folders[name] = str(folder)
    check_one_device_type({name: folders[name] for name in ("a", "c")})
    with pytest.raises(StudyInputError, match=r"different device types \(cpu: a, c; cuda: b\)"):
        check_one_device_type(folders)
