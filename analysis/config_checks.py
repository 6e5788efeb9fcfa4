"""Checks and repairs of the config before the schema sees it, with messages a person can act on.

- `top_level_problem`: an unknown top-level key, or both `datasets` and `external_results`, in one
  line naming the key and the allowed ones (the schema's own message for these is a page-long dump).
- `coerce_numbers`: PyYAML reads `1e-3` (no dot) as a string; a string where the schema wants a
  number is converted when it is one (`learning_rate: 1e-3` is accepted), and a key YAML read as
  a boolean (`on: speaker` is `True: speaker`) becomes the property name it stands for (`on`).
- `sorted_keys`: a mapping's keys sorted as text, so that YAML keys that look like numbers (`03:`,
  `08:`) sort without a TypeError.
"""

from __future__ import annotations

from typing import Any


def top_level_problem(config: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """One line for an unknown top-level key or for `datasets` together with `external_results`."""
    allowed = sorted(schema.get("properties", {}))
    unknown = sorted(str(key) for key in config if key not in allowed)
    if unknown:
        return (
            f"config: unknown top-level key(s) {unknown}; the allowed keys are {allowed} "
            "(README.md, 'Configuration'). Fix the spelling or remove the key."
        )
    if config.get("datasets") and config.get("external_results"):
        return (
            "config: both `datasets` and `external_results` are set; a study either trains on datasets or "
            "analyses the results of a study trained elsewhere. Remove one of them."
        )
    return None


def coerce_numbers(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """`value` with every string that the schema wants as a number and that parses as one converted,
    and every boolean key that stands for a property name (`on`) renamed to it."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if isinstance(value, str) and _wants_number(schema):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if "integer" in _types(schema) and number.is_integer() else number
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        value = {_yaml_bool_key(key, properties): item for key, item in value.items()}
        return {
            key: coerce_numbers(item, properties.get(key, extra if isinstance(extra, dict) else {}), root)
            for key, item in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [coerce_numbers(item, schema["items"], root) for item in value]
    return value


def sorted_keys(value: Any) -> Any:
    """`value` with the keys of every mapping in it sorted as text (lists keep their order)."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value, key=lambda k: (str(k), type(k).__name__))}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


#: Keys YAML 1.1 reads as booleans when unquoted (`on: speaker` is `True: speaker`).
YAML_BOOLEAN_WORDS = {True: ("on", "yes", "y", "true"), False: ("off", "no", "n", "false")}


def _yaml_bool_key(key: Any, properties: dict[str, Any]) -> Any:
    """A boolean key back to the one property name YAML read as that boolean (e.g. `on`)."""
    if not isinstance(key, bool):
        return key
    names = [name for name in properties if name.lower() in YAML_BOOLEAN_WORDS[key]]
    return names[0] if len(names) == 1 else key


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {})
        return node
    return schema if isinstance(schema, dict) else {}


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _wants_number(schema: dict[str, Any]) -> bool:
    types = _types(schema)
    return ("number" in types or "integer" in types) and "string" not in types
