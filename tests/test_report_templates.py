"""The report's captions are Jinja templates that Snakemake renders with the study's config: each
must render for the default config and for configs that turn on every optional section (a merge
that drops an `{% endif %}` breaks `--report` only at the end of a study otherwise)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
import yaml
from snakemake.utils import validate

from analysis.config import SCHEMA_PATH

REPORT = Path(__file__).resolve().parents[1] / "workflow" / "report"
CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"
OPTIONAL_SECTIONS = {
    "transfer": {"enabled": True, "costs": [0.3, 1.0]},
    "pairs": {"select": "affinity", "per_task": 2},
    "groups": {"networks": 2, "from": "gains"},
    "controls": True,
}


@cache
def study_configs() -> dict[str, dict]:
    """config.yaml, and config.yaml with every optional section on, filled as Snakemake fills them."""
    configs = {"default": yaml.safe_load(CONFIG.read_text())}
    configs["every section"] = configs["default"] | OPTIONAL_SECTIONS
    for config in configs.values():
        if config.get("training", {}).get("early_stopping", False) is None:
            del config["training"]["early_stopping"]  # as workflow/rules/common.smk does
        validate(config, str(SCHEMA_PATH))  # fills the schema's defaults in place
    return configs


@pytest.mark.parametrize("template", sorted(REPORT.glob("*.rst")), ids=lambda p: p.name)
@pytest.mark.parametrize("name", ["default", "every section"])
def test_report_template_renders(template: Path, name: str) -> None:
    config = study_configs()[name]
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template.read_text())
    rendered = text.render(snakemake=SimpleNamespace(config=config, wildcards={}, params={}))
    assert "{%" not in rendered and "{{" not in rendered


@pytest.mark.parametrize(("name", "says"), [
    ("default", "For every pair of the tasks"),
    ("every section", "only for each task's 2\nbest-ranked partner(s) by task affinity"),
])
def test_overview_says_whether_every_pair_was_trained(name: str, says: str) -> None:
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        (REPORT / "workflow.rst").read_text())
    text = template.render(snakemake=SimpleNamespace(config=study_configs()[name]))
    assert says in text
    assert ("For every pair of the tasks" in text) == (name == "default")


def test_overview_names_the_gain_metric_of_detection_tasks() -> None:
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        (REPORT / "workflow.rst").read_text())
    config = study_configs()["default"]
    text = template.render(snakemake=SimpleNamespace(config=config))
    assert "for a detection task" not in text
    datasets = {**config["datasets"], "scenes": {"tasks": {
        "scenes_events": {"label": "events", "type": "detection"}, "scenes_any": "any"}}}
    detection = {**config["detection"], "gain_metric": "segment_er"}
    text = template.render(snakemake=SimpleNamespace(
        config=config | {"datasets": datasets, "detection": detection}))
    assert 'for a detection task\nsegment_er, "Detection" section' in text
    assert "(single minus pair for segment_er, where lower is better)" in text
