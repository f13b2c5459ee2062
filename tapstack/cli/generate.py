"""Generation commands: the template, its report and the settings documentation; check; report; diagram."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tapstack import paths
from tapstack.cfn.model import read_template
from tapstack.cli.options import template_option
from tapstack.exits import CommandError, ExitCode
from tapstack.generate import generate, load_settings
from tapstack.generate.files import check_current, write_atomically
from tapstack.generate.report import render_report, write_svg
from templates.config import SETTINGS

TEMPLATE_OPTION = template_option("the template JSON to read")


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--config and one flag per entry of the settings registry, the flag over the file.

    The command receives the flags' values together as `setting_flags`, keyed by setting name.
    """
    # click names a parameter by an identifier: `receiver.memory_mb` is `receiver__memory_mb` there.
    parameters = {setting.name.replace(".", "__"): setting for setting in SETTINGS.values()}

    @functools.wraps(command)
    def with_settings(**arguments: Any) -> Any:
        flags = {setting.name: arguments.pop(parameter) for parameter, setting in parameters.items()}
        return command(setting_flags=flags, **arguments)

    decorated: Callable[..., Any] = with_settings
    for parameter, setting in reversed(parameters.items()):
        decorated = click.option(
            setting.flag,
            parameter,
            type=setting.kind,
            metavar=setting.kind.__name__.upper(),
            help=setting.description,
        )(decorated)
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="TOML file of settings (a [receiver] table sets receiver.*); flags override it",
    )(decorated)


OUTPUT_OPTION = click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=paths.TEMPLATE,
    show_default=True,
    help="where the template JSON goes (its report goes beside it, .md)",
)


@click.command(
    name="generate",
    epilog="""\b
Examples:
  tapstack generate
  tapstack generate --name-prefix acme --output build/acme/TapStack.json
  tapstack generate --config tapstack.toml --processor-memory-mb 2048 --output build/big/TapStack.json""",
)
@OUTPUT_OPTION
@click.option("--check", is_flag=True, help="compare with --output instead of writing it")
@settings_options
def generate_command(
    output: Path, check: bool, config_file: Path | None, setting_flags: dict[str, Any]
) -> ExitCode:
    """Generate the template JSON, its review report, the deployer policy and the settings' documentation.

    Settings are validated against AWS limits first; an invalid one names the setting, the value and
    the limit, and nothing is written. The comments of tapstack.toml and docs/configuration.md are
    rewritten from the settings registry (templates/config.py); the values in tapstack.toml are kept.
    """
    return generate(load_settings(config_file, setting_flags), output, check=check)


@click.command(
    epilog="""\b
Examples:
  tapstack check
  tapstack check --name-prefix acme --output build/acme/TapStack.json"""
)
@OUTPUT_OPTION
@settings_options
def check(output: Path, config_file: Path | None, setting_flags: dict[str, Any]) -> ExitCode:
    """Fail (1) when a committed generated file differs from what the code generates.

    The files: the template JSON, its report, the deployer policy, tapstack.toml's comments and
    docs/configuration.md.
    """
    return generate(load_settings(config_file, setting_flags), output, check=True)


def _read_template(path: Path) -> dict[str, Any]:
    try:
        return read_template(path)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read --template {path}: {error}") from error


@click.command(
    epilog="""\b
Examples:
  tapstack report
  tapstack report --template build/acme/TapStack.json --output build/acme/report.md
  tapstack report --check"""
)
@TEMPLATE_OPTION
@click.option(
    "--output", type=click.Path(path_type=Path), help="where to write it (default: the template's .md)"
)
@click.option("--check", is_flag=True, help="compare with --output instead of writing it")
def report(template_path: Path, output: Path | None, check: bool) -> ExitCode:
    """Render the Markdown review report of a template: diagram, tables of every resource and grant."""
    text = render_report(_read_template(template_path))
    target = output or template_path.with_suffix(".md")
    if check:
        return check_current(target, text)
    write_atomically(target, text)
    print(f"wrote {target} ({len(text.encode())} bytes)")
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack diagram --output output/TapStack.svg")
@TEMPLATE_OPTION
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=paths.OUTPUT / "TapStack.svg",
    show_default=True,
    help="the SVG to write",
)
def diagram(template_path: Path, output: Path) -> ExitCode:
    """Draw the template's diagram as SVG with Graphviz (needs `dot`: apt-get install graphviz)."""
    write_svg(_read_template(template_path), output)
    return ExitCode.OK
