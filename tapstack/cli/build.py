"""Build commands: lint, the code guard, the Lambda artifact, benchmarks."""

from __future__ import annotations

from pathlib import Path

import click

from tapstack import artifact, paths
from tapstack.exits import ExitCode
from tapstack.lint import code_guard, runner


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


@click.command(
    epilog="""\b
Examples:
  tapstack bench                     (make bench runs `make load` first)
  tapstack bench --deliveries-only   (make measure: only what a delivery does, for `tapstack cost`)"""
)
@click.option(
    "--deliveries-only",
    is_flag=True,
    help="only measure what a delivery makes each function do on the emulator (needs `make local-up`)",
)
@click.option(
    "--port",
    type=int,
    default=None,
    help="the emulator's port on 127.0.0.1 (default: the one `local up` used)",
)
def bench(deliveries_only: bool, port: int | None) -> ExitCode:
    """Benchmarks: cold import against bare boto3, CPU per event, parse at the size limit, artifact size.

    Prints a table and writes build/bench.json, with the last load run's figures (build/load.json), and
    measures what a delivery does on a throwaway emulator stack (durations, log bytes, requests) into
    tapstack/cost/measurements.json, which `tapstack cost` reads.
    """
    from tapstack import bench as benchmarks  # noqa: PLC0415 (imports the handlers: only this command)
    from tapstack.cli.local import emulator_deployment  # noqa: PLC0415 (the emulator's commands)
    from tapstack.local import ports  # noqa: PLC0415

    deployment = emulator_deployment(
        benchmarks.MEASURE_ENVIRONMENT, paths.TEMPLATE, port or ports.remembered(ports.EMULATOR)
    )
    if deliveries_only:
        print(benchmarks.measure_delivery_costs(deployment))
        return ExitCode.OK
    benchmarks.main(deployment)
    return ExitCode.OK
