"""`tapstack cost`: what the stack costs a month and per million deliveries, line by line (tapstack/cost/)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import click

from tapstack.cfn.model import read_template
from tapstack.cli.options import template_option
from tapstack.cost import render
from tapstack.cost.estimate import estimate
from tapstack.cost.measurements import load_measurements
from tapstack.cost.prices import load_prices
from tapstack.cost.sensitivity import sensitivity
from tapstack.exits import CommandError, ExitCode
from tapstack.parameter_files import load_parameter_file

FORMATS = ("text", "json")
DEFAULT_DELIVERIES = "1000000"


def _deliveries(text: str) -> Decimal:
    if not text.isdigit():
        raise CommandError(f"--deliveries-per-month {text!r} is not a whole number: give one, e.g. 1000000")
    return Decimal(text)


@click.command(
    name="cost",
    epilog="""\b
Examples:
  tapstack cost
  tapstack cost --params params/prod.json --deliveries-per-month 5000000
  tapstack cost --params params/dev.json --format json""",
)
@template_option("the template to cost")
@click.option(
    "--params",
    "parameter_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="the parameter file it would be deployed with (default: the template's defaults)",
)
@click.option(
    "--deliveries-per-month",
    "deliveries_text",
    default=DEFAULT_DELIVERIES,
    show_default=True,
    help="the traffic the month's total is given for",
)
@click.option("--format", "output_format", default="text", show_default=True, help="text or json")
def cost(
    template_path: Path, parameter_file: Path | None, deliveries_text: str, output_format: str
) -> ExitCode:
    """Price the stack: fixed monthly cost and cost per million deliveries, line by line, from the template.

    Prices are us-east-1 list prices from a dated table (tapstack/cost/prices.toml); what a delivery does
    (durations, log bytes, requests) was measured on the local stack (`make measure`). Also shows which
    settings move the month's total most.
    """
    if output_format not in FORMATS:
        raise CommandError(f"--format {output_format!r} is not one of {', '.join(FORMATS)}: use text or json")
    deliveries = _deliveries(deliveries_text)
    try:
        document = read_template(template_path)
    except (OSError, ValueError) as error:
        raise CommandError(
            f"cannot read the template {template_path} ({error}): generate it with `tapstack generate`"
        ) from error
    parameters = {} if parameter_file is None else load_parameter_file(parameter_file, document)
    prices, measured = load_prices(), load_measurements()
    result = estimate(document, parameters, prices, measured)
    movements = sensitivity(document, parameters, prices, measured, deliveries)
    if output_format == "json":
        print(json.dumps(render.document(result, deliveries, movements), indent=2))
    else:
        print(render.text(result, deliveries, movements))
    return ExitCode.OK
