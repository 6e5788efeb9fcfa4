"""Every example config of examples/ is a valid study: Snakemake builds its DAG (a dry run), so a
renamed or removed option cannot leave an example behind (marked `workflow`: four Snakemake starts)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from study_data import REPO, SNAKEMAKE

pytestmark = pytest.mark.workflow

EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
SHARED_DATA = REPO.parent / "shared" / "data"


def _config_for(example: Path, tmp_path: Path) -> Path:
    """The example as its comment says to run it: `../shared/data` paths seen from the repository's
    root, so they are made absolute here for a study folder elsewhere."""
    text = example.read_text()
    if "../shared/data" not in text:
        return example
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{example.name} reads the real corpora in {SHARED_DATA}, which is absent")
    copy = tmp_path / example.name
    copy.write_text(text.replace("../shared/data", str(SHARED_DATA)))
    return copy


def test_there_are_examples() -> None:
    assert {"detection.yaml", "transfer.yaml", "transfer_and_detection.yaml"} <= {
        example.name for example in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_builds_its_dag(example: Path, tmp_path: Path) -> None:
    config = _config_for(example, tmp_path)
    command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path / "study"),
               "--configfile", str(config), "--cores", "2", "--dry-run", "--quiet", "rules"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "train_model" in result.stdout + result.stderr
