"""The README's cost figures are the ones the cost library derives for the committed template's defaults."""

from __future__ import annotations

import re

from tapstack import paths
from tapstack.cost.estimate import estimate
from tapstack.cost.measurements import load_measurements
from tapstack.cost.prices import load_prices
from tapstack.cost.render import usd
from tests.support.report import committed_template


def test_the_readme_states_the_derived_fixed_and_per_million_figures() -> None:
    readme = paths.REPOSITORY.joinpath("README.md").read_text(encoding="utf-8")
    result = estimate(committed_template(), {}, load_prices(), load_measurements())

    found = re.search(
        r"\*\*What it costs\*\*[^$]*(\$[\d,.]+) a month[^$]*(\$[\d,.]+) per million deliveries", readme
    )

    assert found is not None, "README.md: the **What it costs** line is gone"
    assert found.groups() == (usd(result.monthly_fixed_usd), usd(result.per_million_deliveries_usd)), (
        "README.md's cost figures are stale: write the ones `tapstack cost` prints"
    )
