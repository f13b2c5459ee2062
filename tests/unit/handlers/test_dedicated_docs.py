"""docs/webhooks.md's money table lists Adyen's and Braintree's mappings exactly as the code has them
(the rows of Stripe and PayPal are checked in test_money_model.py, the same way)."""

import re

import pytest

from handlers.providers import adyen, braintree
from tests.unit.handlers.test_money_model import money_model_section


def documented(provider: str) -> dict[str, tuple[str, str, str]]:
    """Event type -> (amount field, kind, first word of the direction) of the provider's rows."""
    rows: dict[str, tuple[str, str, str]] = {}
    for line in money_model_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] == provider and cells[3] != "—":
            amount = re.findall(r"`([^`]+)`", cells[3])[0]
            for event_type in re.findall(r"`([^`]+)`", cells[1]):
                assert event_type not in rows, event_type
                rows[event_type] = (amount, cells[4].strip("`"), cells[5].split(" ")[0])
    return rows


@pytest.mark.parametrize(
    ("provider", "code"),
    [
        ("Adyen", {name: ("amount.value", m.kind, m.direction or "—") for name, m in adyen.MEANINGS.items()}),
        (
            "Braintree",
            {
                name: (f"subject.{m.amount}", m.kind, m.direction or "—")
                for name, m in braintree.MEANINGS.items()
            },
        ),
    ],
)
def test_the_docs_table_lists_every_mapping_as_the_code_does(
    provider: str, code: dict[str, tuple[str, str, str]]
) -> None:
    assert documented(provider) == code
