"""`tapstack params …`: parameter files for the AWS CLI alone (no AWS call, no AWS SDK)."""

from __future__ import annotations

from pathlib import Path

import click

from tapstack.cfn.model import read_template
from tapstack.cli.options import TEMPLATE_ERRORS, template_option, unusable_template
from tapstack.exits import ExitCode
from tapstack.parameter_files import as_overrides, as_parameters, with_added_values

FORMATS = {"overrides": as_overrides, "parameters": as_parameters}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def params() -> None:
    """Parameter files for the AWS CLI: a file and the values the deploy adds, as one checked file."""


@params.command(
    epilog="""\b
Examples:
  tapstack params overrides params/dev.json --add EnvironmentSuffix=dev \\
    --add CodeS3Bucket=my-artifacts --add CodeS3Key=lambda-abc.zip
  tapstack params overrides params/local.json --add EnvironmentSuffix=local --format parameters"""
)
@click.argument("parameter_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--add",
    "added",
    multiple=True,
    metavar="KEY=VALUE",
    help="a value beside the file's (repeatable): the deploy adds EnvironmentSuffix, CodeS3Bucket, CodeS3Key",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(FORMATS)),
    default="overrides",
    show_default=True,
    help='overrides: ["Key=Value"] for `aws cloudformation deploy --parameter-overrides file://…`; '
    'parameters: [{"ParameterKey", "ParameterValue"}] for create-stack and update-stack --parameters',
)
@template_option("the template whose parameters the values are checked against")
def overrides(
    parameter_file: Path, added: tuple[str, ...], output_format: str, template_path: Path
) -> ExitCode:
    """Print the parameter file with the --add values, checked as the deploy checks them, as one JSON file.

    `aws cloudformation deploy --parameter-overrides file://params/dev.json` takes no further Key=Value,
    so write the combined file and give that instead (see docs/deploying.md).
    """
    try:
        template = read_template(template_path)
    except TEMPLATE_ERRORS as error:
        raise unusable_template(template_path, error) from error
    values = with_added_values(parameter_file, list(added), template)
    click.echo(FORMATS[output_format](values), nl=False)
    return ExitCode.OK
