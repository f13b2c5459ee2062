"""Build commands: the template and its report, lint, the code guard, the Lambda artifact, benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tapstack import artifact, paths
from tapstack.cfn.model import read_template
from tapstack.exits import CommandError, ExitCode
from tapstack.generate import generate, load_settings
from tapstack.generate.files import check_current, write_atomically
from tapstack.generate.report import render_report, write_svg
from tapstack.lint import code_guard, runner
from templates.config import SETTING_HELP

TEMPLATE_OPTION = click.option(
    "--template",
    type=click.Path(path_type=Path, dir_okay=False),
    default=paths.TEMPLATE,
    show_default=True,
    help="the template JSON to read",
)


def _setting_flag(setting: str) -> str:
    return "--" + setting.replace(".", "-").replace("_", "-")


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--config and one flag per setting of templates.config, the flag over the file."""
    for setting, (kind, text) in reversed(SETTING_HELP.items()):
        command = click.option(
            _setting_flag(setting),
            setting.replace(".", "__"),
            type=kind,
            metavar=kind.__name__.upper(),
            help=text,
        )(command)
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="TOML file of settings (a [receiver] table sets receiver.*); flags override it",
    )(command)


def _settings(flags: dict[str, Any]) -> dict[str, Any]:
    return {key.replace("__", "."): value for key, value in flags.items()}


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
  tapstack generate --config tap.toml --processor-memory-mb 2048""",
)
@OUTPUT_OPTION
@click.option("--check", is_flag=True, help="compare with --output instead of writing it")
@settings_options
def generate_command(output: Path, check: bool, config_file: Path | None, **flags: Any) -> ExitCode:
    """Generate the template JSON and its review report from templates/.

    Settings are validated against AWS limits first; an invalid one names the setting, the value and
    the limit, and nothing is written.
    """
    return generate(load_settings(config_file, _settings(flags)), output, check=check)


@click.command(
    epilog="""\b
Examples:
  tapstack check
  tapstack check --name-prefix acme --output build/acme/TapStack.json"""
)
@OUTPUT_OPTION
@settings_options
def check(output: Path, config_file: Path | None, **flags: Any) -> ExitCode:
    """Fail (1) when the committed JSON or report differs from what the code generates."""
    return generate(load_settings(config_file, _settings(flags)), output, check=True)


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
def report(template: Path, output: Path | None, check: bool) -> ExitCode:
    """Render the Markdown review report of a template: diagram, tables of every resource and grant."""
    text = render_report(_read_template(template))
    target = output or template.with_suffix(".md")
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
def diagram(template: Path, output: Path) -> ExitCode:
    """Draw the template's diagram as SVG with Graphviz (needs `dot`: apt-get install graphviz)."""
    write_svg(_read_template(template), output)
    return ExitCode.OK


@click.command(
    name="lint",
    epilog="""\b
Examples:
  tapstack lint
  tapstack lint build/acme/TapStack.json -x E9041:budget=1900
  tapstack lint --params params/prod.json
  tapstack lint --params params/landing-zone.json --control-tower-enforced
  tapstack lint tests/fixtures/rule-templates/bad/E9001_stack_destroyable.yaml --raw-only
  tapstack lint --only cfn-lint      (what make template and the pre-commit hook run)""",
)
@click.argument("template", type=click.Path(path_type=Path), default=paths.TEMPLATE)
@click.option(
    "-x",
    "--configure-rule",
    "rule_configuration",
    multiple=True,
    metavar="RULE:key=value",
    help="passed to cfn-lint, e.g. E9041:budget=1900 for an account with a 2,000 quota",
)
@click.option(
    "--params",
    "parameter_files",
    multiple=True,
    type=click.Path(path_type=Path),
    default=runner.DEFAULT_PARAMETER_FILES,
    show_default="params/dev.json, params/prod.json and params/landing-zone.json",
    help="a parameter file to resolve the template with for the policy tools (repeatable)",
)
@click.option(
    "--raw-only",
    is_flag=True,
    help="lint the template only as written: for a template the parameter files are not for",
)
@click.option(
    "--control-tower-enforced",
    is_flag=True,
    help="the parameter files are for accounts that enforce Control Tower's proactive controls: a control "
    "some parameter value meets is a finding where the file's values fail it",
)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(runner.LINTER_NAMES),
    help="run only this tool (repeatable); policy is Control Tower's controls and cdk-nag. "
    "cfn-lint alone needs only .venv",
)
def lint_command(
    template: Path,
    rule_configuration: tuple[str, ...],
    parameter_files: tuple[Path, ...],
    raw_only: bool,
    control_tower_enforced: bool,
    only: tuple[str, ...],
) -> ExitCode:
    """Lint a template with cfn-lint (with tapstack/lint/rules/), checkov, Control Tower's proactive controls
    and cdk-nag; fail (1) on any finding.

    The policy tools (Control Tower's controls and cdk-nag's AwsSolutions, Serverless, NIST 800-53 rev 5,
    PCI DSS 3.2.1 and HIPAA Security packs) also lint the template as each parameter file resolves it,
    since Control Tower's hooks see resolved properties. Every finding prints in one listing, template
    by template and ordered by line: location, rule, tool, resource and property, the message and
    what to do. A template that is missing, does not parse or cannot be resolved, or a linter that
    cannot run, exits 2.
    """
    return runner.lint(
        template,
        list(rule_configuration),
        () if raw_only else parameter_files,
        control_tower_enforced=control_tower_enforced,
        only=only,
    )


@click.command(epilog="Example:\n\n  tapstack guard src/handlers")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path, exists=True))
def guard(sources: tuple[Path, ...]) -> ExitCode:
    """Check the handler code: no JSON parse without parse_float, no float on the money path.

    Lists `path:line: ID message` for each finding (default: src/handlers) and fails (1) on any.
    """
    return code_guard.guard(list(sources) or code_guard.DEFAULT_PATHS)


@click.command(name="package", epilog="Example:\n\n  tapstack package")
def package_command() -> ExitCode:
    """Build the deterministic Lambda artifact build/lambda-<hash>.zip (arm64 wheels, imports checked)."""
    path = artifact.build_artifact()
    size = path.stat().st_size
    print(f"{path.relative_to(paths.REPOSITORY)}: {size} bytes ({size / 1024 / 1024:.2f} MiB)")
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack bench      (make bench runs `make load` first)")
def bench() -> ExitCode:
    """Benchmarks: cold import against bare boto3, CPU per event, parse at the size limit, artifact size.

    Prints a table and writes build/bench.json, with the last load run's figures (build/load.json).
    """
    from tapstack import bench as benchmarks  # noqa: PLC0415 (imports the handlers: only this command)

    benchmarks.main()
    return ExitCode.OK


BUILD_COMMANDS = (generate_command, check, report, diagram, lint_command, guard, package_command, bench)
