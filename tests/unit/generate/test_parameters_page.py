"""docs/parameters.md: every parameter of the template, generated only beside the committed template."""

from __future__ import annotations

import json
from pathlib import Path

from tapstack import paths
from tapstack.generate import generated_files
from tapstack.generate.parameters_page import PARAMETERS_PAGE, render_parameters_page
from templates.config import config_from_mapping
from tests.support.settings import LOG_RETENTION_DAYS


def test_the_page_has_a_row_per_parameter_with_its_type_and_default() -> None:
    template = json.loads(paths.TEMPLATE.read_text(encoding="utf-8"))
    page = render_parameters_page(template)
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == sorted(template["Parameters"])
    assert f"| `LogRetentionDays` | Number | `{LOG_RETENTION_DAYS}` |" in page
    assert "| `EnvironmentSuffix` | String | (required) |" in page


def test_only_the_committed_template_writes_the_page(tmp_path: Path) -> None:
    config = config_from_mapping({})
    assert PARAMETERS_PAGE in generated_files(config, paths.TEMPLATE)
    assert PARAMETERS_PAGE not in generated_files(config, tmp_path / "TapStack.json")
