"""The catalogue's table (docs/bad-inputs.md) and its tests agree: every row has `test_<id>`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE.parents[1] / "docs" / "bad-inputs.md"


def table_ids() -> list[str]:
    ids = []
    for line in TABLE.read_text().splitlines():
        match = re.match(r"^\| ([a-z0-9_]+) \|", line)
        if match and match.group(1) != "id":
            ids.append(match.group(1))
    return ids


def covers(test: str, case: str) -> bool:
    """`test_<id>` or `test_<id>_<detail>` is a test of the row `id`."""
    return test == f"test_{case}" or test.startswith(f"test_{case}_")


def test_every_row_has_a_test_and_every_case_a_row():
    ids = table_ids()
    assert len(ids) >= 25 and len(ids) == len(set(ids)), "row ids must be unique"
    names = {name for path in HERE.glob("test_bad_*.py") for name in _functions(path)}
    missing = [case for case in ids if not any(covers(name, case) for name in names)]
    assert not missing, f"rows of {TABLE.name} without a test_<id> in tests/bad_inputs: {missing}"
    extra = sorted(name for name in names if not any(covers(name, case) for case in ids))
    assert not extra, f"catalogue tests without a row in {TABLE.name}: {extra}"


def _functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
