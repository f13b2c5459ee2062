"""The estimate as `tapstack cost` prints it (text or JSON) and as the review report and docs show it
(Markdown). Money is rounded here only, for display: cents for totals, more places for small lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from tapstack import paths
from tapstack.cfn.model import UnresolvableError
from tapstack.cost.estimate import Estimate, Line, estimate
from tapstack.cost.measurements import Measurements, MeasurementsError, load_measurements
from tapstack.cost.prices import Price, load_prices
from tapstack.cost.sensitivity import Movement, sensitivity
from tapstack.parameter_files import ParameterFileError, load_parameter_file

CENT = Decimal("0.01")
DEFAULT_DELIVERIES = Decimal(1_000_000)
"""The month's traffic the report and docs price the total at."""
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
    result: Estimate,
    deliveries: Decimal,
    movements: Iterable[Movement],
    heading: str = "##",
    summary: str = "",
) -> str:
    """The cost as a Markdown section: `summary` (if any), fixed lines, per-million lines, the total, the
    sensitivity."""
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
        f"{result.measurements.measured_on}). `tapstack cost --params FILE` prices another parameter file; "
        "[docs/cost.md](../docs/cost.md) says how each line is computed.",
        "",
        *([summary, "", "Line by line, with the template's defaults:", ""] if summary else []),
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


def parameter_files_table(
    document: Mapping[str, Any], files: Iterable[Path], prices: Mapping[str, Price], measured: Measurements
) -> str:
    """One row per parameter file (and the template's defaults): fixed a month, per million deliveries."""
    rows = ["| Parameters | Fixed a month | Per million deliveries |", "| --- | --- | --- |"]
    choices: list[tuple[str, Mapping[str, str]]] = [("the template's defaults", {})]
    for path in files:
        try:
            choices.append((f"`{path.relative_to(paths.REPOSITORY)}`", load_parameter_file(path, document)))
        except ParameterFileError:
            continue  # a file written for another template: not this one's to price
    for name, parameters in choices:
        result = estimate(document, parameters, prices, measured)
        rows.append(
            f"| {name} | {usd(result.monthly_fixed_usd)} | {usd(result.per_million_deliveries_usd)} |"
        )
    return "\n".join(rows)


def cost_section(document: Mapping[str, Any], heading: str = "##") -> str:
    """The Cost section of the review report and docs/cost.md: each committed parameter file's figures,
    then the template's defaults line by line at a million deliveries a month."""
    prices, measured = load_prices(), load_measurements()
    try:
        result = estimate(document, {}, prices, measured)
    except (MeasurementsError, UnresolvableError) as error:
        return f"{heading} Cost\n\nNot costed: {error}\n"
    movements = sensitivity(document, {}, prices, measured, DEFAULT_DELIVERIES)
    files = sorted(paths.PARAMS.glob("*.json"))
    summary = parameter_files_table(document, files, prices, measured)
    return markdown(result, DEFAULT_DELIVERIES, movements, heading, summary)


COST_PAGE = paths.REPOSITORY / "docs" / "cost.md"
COST_PAGE_INTRODUCTION = """\
# What TapStack costs

Generated by `tapstack generate` from the committed template, the price table and the delivery
measurements; do not edit it by hand. `tapstack cost [--params FILE] [--deliveries-per-month N]
[--format text|json]` prints the same for any parameter file and traffic, and the review report
([output/TapStack.md](../output/TapStack.md#cost)) carries the same section.

## How it is computed

- **Prices**: one dated table, [tapstack/cost/prices.toml](../tapstack/cost/prices.toml): us-east-1
  list prices before free tiers and discounts, each line with the AWS pricing page it comes from, the
  date it was checked and where it was confirmed (or that it could not be). Refresh it by hand: change
  a line, then `make template` regenerates this page and the report.
- **What the stack holds** comes from the template, read through `tapstack/cfn/model.py` with each
  resource's condition resolved for the parameter values: the KMS key, the secret, the web ACL and its
  rules (only when `WafEnabled`), the alarms' metrics, dashboards, metric filters, each function's
  memory and log group, each log group's retention, the archive bucket's lifecycle, Object Lock and
  bucket key, the tables' billing mode, encryption and point-in-time recovery, active tracing.
- **What a delivery does** cannot be read from the template, so it is measured: `make measure` (also
  part of `make bench`) deploys a throwaway stack on the local emulator, sends 40 new events of the
  four providers' shapes through the real handlers one function at a time, and records into
  [tapstack/cost/measurements.json](../tapstack/cost/measurements.json) each function's median
  duration, the log bytes it writes, the AWS requests it makes, the DynamoDB units those requests use
  (from the stored items' sizes) and the bytes archived and published. These are local measurements:
  the durations are this machine's, over loopback, not Lambda's; the counts and sizes are what the
  same code does on AWS. Re-measure after changing the handlers.
- **A scheduled run** (the reconciler's, from its schedule's rate) is measured the same way, in the
  steady state: after those deliveries, 10 scheduled runs whose window holds their events, all stored,
  so that each finds nothing missing; each run is billed at its median duration (to the next ms), with
  its requests, DynamoDB units, log bytes and the metrics it emits. The provider calls go to the local
  stand-ins over loopback, so a run on AWS also waits for the providers' APIs. A scheduled function
  with no measurement is billed its Timeout each run, marked as an upper bound.
- **Fixed lines** are a month without traffic; **per-million lines** are what a million deliveries
  use. Storage kept for a finite time (the archive, logs) is costed over its whole retention, which is
  also what a steady million deliveries a month adds to each month's bill once the storage has filled;
  DynamoDB items do not expire and are costed per month kept. A month is 730 hours, as AWS prices it.
- **X-Ray**'s default sampling rule traces the first request each second and 5% of the others: the
  per-million figure counts the 5%, and a month's total adds the reservoir for its traffic.
- **Upper bounds** are marked as such: log storage on uncompressed bytes, one KMS data-key request per
  SNS publish, one table-key request per caller every five minutes.
- **What moves it most** recomputes the month with one change at a time: a deploy-time parameter in
  the parameter values, a generation setting (memory, tracing) in a copy of the template; measured
  durations are kept, so doubling the memory doubles the GB-seconds.

"""


def render_cost_page(document: Mapping[str, Any]) -> str:
    """docs/cost.md: how the cost is computed, then the committed template's cost section."""
    return COST_PAGE_INTRODUCTION + cost_section(document, heading="##")
