"""The estimate as `tapstack cost` prints it (text or JSON) and as the review report and docs show it
(Markdown). Money is rounded here only, for display: cents for totals, more places for small lines."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tapstack.cost.estimate import Estimate, Line
from tapstack.cost.sensitivity import Movement

CENT = Decimal("0.01")
JSON_PLACES = Decimal("0.000001")


def usd(amount: Decimal, places: Decimal = CENT) -> str:
    """`$1,234.57`; a non-zero amount below the places shows as `<$0.01`."""
    rounded = amount.quantize(places, rounding=ROUND_HALF_UP)
    if amount and not rounded:
        return f"<${places}"
    return f"-${-rounded:,}" if rounded < 0 else f"${rounded:,}"


def _exact(amount: Decimal) -> str:
    return str(amount.quantize(JSON_PLACES, rounding=ROUND_HALF_UP))


def unit_price(line: Line) -> str:
    """The price as the table gives it: `$0.60 / 1,000,000 request`."""
    return f"${line.price.usd} / {line.price.for_quantity:,f} {line.price.unit}"


def _quantity(amount: Decimal) -> str:
    rounded = amount.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:,f}"


def document(result: Estimate, deliveries: Decimal, movements: Iterable[Movement]) -> dict[str, Any]:
    """The JSON of `tapstack cost --format json`: amounts as decimal strings to the millionth of a dollar."""
    reservoir = result.reservoir_line(deliveries)
    return {
        "monthly_fixed_usd": _exact(result.monthly_fixed_usd),
        "per_million_deliveries_usd": _exact(result.per_million_deliveries_usd),
        "deliveries_per_month": str(deliveries),
        "total_usd": _exact(result.total_usd(deliveries)),
        "lines": {
            "monthly_fixed": [line.document() for line in result.fixed],
            "per_million_deliveries": [line.document() for line in result.per_million],
            "traffic_dependent": [reservoir.document()] if reservoir else [],
        },
        "sensitivity": [
            {
                "change": movement.variant.name,
                "how": movement.variant.how,
                "total_usd": _exact(movement.total_usd),
                "delta_usd": _exact(movement.delta_usd),
                "lines_moved": list(movement.moved),
            }
            for movement in movements
        ],
        "measurements": {
            "label": result.measurements.label,
            "measured_on": result.measurements.measured_on,
            "deliveries": result.measurements.deliveries,
        },
        "not_costed": list(result.notes),
    }


def _text_lines(lines: Iterable[Line]) -> list[str]:
    return [
        f"  {usd(line.usd, Decimal('0.0001')):>11}  {line.service}: {line.item} "
        f"({_quantity(line.quantity)} {line.price.unit} at {unit_price(line)})"
        for line in lines
    ]


def text(result: Estimate, deliveries: Decimal, movements: Iterable[Movement]) -> str:
    reservoir = result.reservoir_line(deliveries)
    out = [
        f"Fixed, a month: {usd(result.monthly_fixed_usd)}",
        *_text_lines(result.fixed),
        f"Per million deliveries: {usd(result.per_million_deliveries_usd)}",
        *_text_lines(result.per_million),
    ]
    if reservoir is not None:
        out += [f"At {deliveries:,} deliveries a month, also:", *_text_lines([reservoir])]
    out.append(f"Total for {deliveries:,} deliveries a month: {usd(result.total_usd(deliveries))}")
    out.append(f"What moves it most (at {deliveries:,} deliveries a month):")
    out += [
        f"  {usd(movement.delta_usd):>10}  {movement.variant.name} ({movement.variant.how}): "
        + ", ".join(movement.moved)
        for movement in movements
    ]
    out.append(
        f"Durations and log bytes: {result.measurements.label} ({result.measurements.measured_on}, "
        f"{result.measurements.deliveries} deliveries)."
    )
    out += [f"Not costed: {note}" for note in result.notes]
    return "\n".join(out)


def _markdown_rows(lines: Iterable[Line]) -> list[str]:
    return [
        f"| {line.service} | {line.item} | {_quantity(line.quantity)} {line.price.unit} | "
        f"{unit_price(line)} | {usd(line.usd, Decimal('0.0001'))} | {line.basis} |"
        for line in lines
    ]


def markdown(
    result: Estimate, deliveries: Decimal, movements: Iterable[Movement], heading: str = "##"
) -> str:
    """The cost as a Markdown section: fixed lines, per-million lines, the total, the sensitivity."""
    header = [
        "| Service | What | Quantity | Unit price | USD | From |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    reservoir = result.reservoir_line(deliveries)
    out = [
        f"{heading} Cost",
        "",
        f"us-east-1 list prices ([tapstack/cost/prices.toml](../tapstack/cost/prices.toml), each with its "
        "source and the date checked), the template's resources with these parameter values, and what a "
        f"delivery does measured on the local stack ({result.measurements.label}; "
        f"{result.measurements.measured_on}). `tapstack cost --params FILE` prices another parameter file.",
        "",
        f"{heading}# Fixed, a month: {usd(result.monthly_fixed_usd)}",
        "",
        *header,
        *_markdown_rows(result.fixed),
        "",
        f"{heading}# Per million deliveries: {usd(result.per_million_deliveries_usd)}",
        "",
        *header,
        *_markdown_rows(result.per_million),
        "",
        f"At {deliveries:,} deliveries a month: {usd(result.total_usd(deliveries))}"
        + (f", with {usd(reservoir.usd)} of X-Ray's sampling reservoir." if reservoir else "."),
        f"Each further million deliveries adds {usd(result.per_million_deliveries_usd)}.",
        "",
        f"{heading}# What moves it most (at {deliveries:,} deliveries a month)",
        "",
        "| Change | How | Month | Lines that move |",
        "| --- | --- | --- | --- |",
        *(
            f"| {movement.variant.name} | {movement.variant.how} | {usd(movement.delta_usd)} | "
            f"{'; '.join(movement.moved)} |"
            for movement in movements
        ),
        "",
        "Not costed:",
        "",
        *(f"- {note}" for note in result.notes),
    ]
    return "\n".join(out) + "\n"
