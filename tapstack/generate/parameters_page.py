"""docs/parameters.md: the deploy-time parameters of the committed template, for whoever writes a
params/<env>.json. Rendered from the generated JSON with the report's own parameter table, so the page,
the report and the template cannot disagree; `tapstack check` fails when the committed page is stale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tapstack import paths
from tapstack.cfn.model import Template
from tapstack.generate.report.tables import parameters_table

PARAMETERS_PAGE: Final = paths.REPOSITORY / "docs" / "parameters.md"

_INTRODUCTION = (
    "Generated from `output/TapStack.json` by `tapstack generate` (run by `make template`); "
    "`tapstack check` fails when it is not current. Do not edit it by hand: the parameters are declared "
    "in `templates/parameters.py`."
)
_USAGE = (
    "Set them per environment in `params/<env>.json` (a JSON list of `Key=Value`, the "
    "`--parameter-overrides` format); the deploy supplies `EnvironmentSuffix`, `CodeS3Bucket` and "
    "`CodeS3Key` itself. [Deploying](deploying.md) describes the parameter files and what each "
    "environment sets; the defaults of some parameters come from the generation settings "
    "([configuration](configuration.md))."
)


def render_parameters_page(document: Mapping[str, Any]) -> str:
    """The Markdown page: what the parameters are for, then one row per parameter of the template."""
    template = Template(document)
    sections = ["# Deploy-time parameters", _INTRODUCTION, _USAGE, parameters_table(template)]
    return "\n\n".join(sections) + "\n"
