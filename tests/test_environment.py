"""The conda environment of the rules installs exactly the software pyproject.toml pins."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_conda_environment_takes_its_python_packages_from_pyproject() -> None:
    environment = yaml.safe_load((REPO / "workflow/envs/analysis.yaml").read_text())
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = [d for d in environment["dependencies"] if isinstance(d, dict)]
    # The package itself, so its pins are the pins of pyproject.toml and nothing is listed twice.
    assert pip == [{"pip": ["-e ../.."]}]
    pinned = {requirement.split("==")[0].lower() for requirement in pyproject["dependencies"]}
    assert not pinned & {d.split("=")[0].lower() for d in conda}
    python = next(d for d in conda if d.startswith("python="))
    assert pyproject["requires-python"] == ">=" + python.split("=")[1]
