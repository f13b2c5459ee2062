"""The dated price table (prices.toml beside this module): us-east-1 list prices, each with its source
page, the date it was checked and where it was confirmed. Read once per command; amounts are Decimal,
parsed from their text."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tapstack import paths
from tapstack.exits import CommandError

FIELDS = ("unit", "for_quantity", "usd", "per", "source", "checked", "verified")


class PriceTableError(CommandError):
    """A price table that cannot be read: the file to fix is named."""


@dataclass(frozen=True)
class Price:
    """One list price: `usd` for `for_quantity` of `unit`."""

    key: str
    unit: str
    for_quantity: Decimal
    usd: Decimal
    per: str
    source: str
    checked: str
    verified: str

    def cost(self, quantity: Decimal) -> Decimal:
        """What `quantity` of the unit costs, unrounded."""
        return quantity * self.usd / self.for_quantity

    @property
    def unit_usd(self) -> Decimal:
        """The price of one unit."""
        return self.usd / self.for_quantity


def load_prices(path: Path = paths.COST_PRICES) -> dict[str, Price]:
    """Every price of the table, by key."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PriceTableError(f"cannot read the price table {path}: {error}") from error
    prices = {}
    for key, entry in table.items():
        missing = [name for name in FIELDS if not isinstance(entry.get(name), str)]
        if missing:
            raise PriceTableError(f"{path}: [{key}] lacks {', '.join(missing)} (each a string)")
        try:
            amounts = Decimal(entry["usd"]), Decimal(entry["for_quantity"])
        except InvalidOperation as error:
            raise PriceTableError(f"{path}: [{key}] usd and for_quantity must be decimal numbers") from error
        prices[key] = Price(key, entry["unit"], amounts[1], amounts[0], *(entry[name] for name in FIELDS[3:]))
    return prices
