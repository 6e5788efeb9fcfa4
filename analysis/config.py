"""The study's configuration schema as the one place where defaults are declared.

Snakemake validates the config file against `workflow/schemas/config.schema.yaml` and fills in its
defaults before any job runs. Library code that is called without Snakemake (tests, benchmarks,
notebooks) gets the same defaults and the same checks from `section`, so no default value is
written twice.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from analysis.errors import StudyInputError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


@cache
def schema() -> dict[str, Any]:
    if not SCHEMA_PATH.is_file():
        raise FileNotFoundError(
            f"the config schema {SCHEMA_PATH} is missing: install the repository with "
            "`pip install -e .` so that the library finds it"
        )
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _fill_defaults(subschema: Mapping[str, Any], value: Any) -> Any:
    """`value` with every missing property that has a `default` filled in, recursively."""
    if not isinstance(value, dict):
        return value
    for key, property_schema in subschema.get("properties", {}).items():
        if key not in value and "default" in property_schema:
            value[key] = copy.deepcopy(property_schema["default"])
        if key in value:
            value[key] = _fill_defaults(property_schema, value[key])
    return value


def section(name: str, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The top-level config section `name` (e.g. "model", "training") with the schema's defaults
    filled in and checked against the schema; a StudyInputError names the offending field."""
    root = schema()
    subschema = root["properties"][name]
    filled = _fill_defaults(subschema, copy.deepcopy(dict(values or {})))
    validator = jsonschema.Draft202012Validator({**subschema, "$defs": root.get("$defs", {})})
    error = jsonschema.exceptions.best_match(validator.iter_errors(filled))
    if error is not None:
        field = ".".join([name, *(str(part) for part in error.absolute_path)])
        raise StudyInputError(f"config {field}: {error.message}")
    return filled


def definition_defaults(name: str) -> dict[str, Any]:
    """The defaults the schema declares for the properties of `$defs/<name>` (`dataset`, `task`):
    what Snakemake fills into every dataset or task spec, for library code called without it."""
    properties = schema()["$defs"][name]["properties"]
    return {key: copy.deepcopy(spec["default"]) for key, spec in properties.items() if "default" in spec}


def default(definition: str, key: str) -> Any:
    """One default of `$defs/<definition>` (see `definition_defaults`)."""
    return copy.deepcopy(definition_defaults(definition)[key])
