"""The README's cost figures are the ones the cost library derives for the committed template's defaults,
to the dollar: within a tenth, so that re-measuring (durations vary from run to run) does not make them
stale, while a change of price, resources or code does."""

from __future__ import annotations

import re
from decimal import Decimal

from tapstack import paths
from tapstack.cost.estimate import estimate
from tapstack.cost.measurements import load_measurements
from tapstack.cost.prices import load_prices
from tests.support.report import committed_template

STATED = re.compile(r"\*\*What it costs\*\*[^$]*\$([\d,]+) a month[^$]*\$([\d,]+) per million deliveries")


def test_the_readme_states_the_derived_fixed_and_per_million_figures() -> None:
    readme = paths.REPOSITORY.joinpath("README.md").read_text(encoding="utf-8")
    result = estimate(committed_template(), {}, load_prices(), load_measurements())

    found = STATED.search(readme)

    assert found is not None, "README.md: the **What it costs** line is gone"
    stated = [Decimal(figure.replace(",", "")) for figure in found.groups()]
    derived = [result.monthly_fixed_usd, result.per_million_deliveries_usd]
    for figure, exact in zip(stated, derived, strict=True):
        assert abs(figure - exact) <= exact / 10, (
            f"README.md's cost figure ${figure} is stale: `tapstack cost` derives ${exact:.2f}; "
            "write it to the dollar"
        )
