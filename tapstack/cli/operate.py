"""Operate commands: the stack on AWS, with the usual credential chain (`--region` or the chain's own)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tapstack import paths
from tapstack.cfn.model import read_template
from tapstack.cli.options import MOMENT, TEMPLATE_ERRORS, template_option, unusable_template
from tapstack.exits import ExitCode
from tapstack.operate import actions
from tapstack.operate.artifacts import bootstrap as bootstrap_stack
from tapstack.operate.cloud import Clients
from tapstack.operate.deployment import Deployment
from tapstack.operate.preflight import failed
from tapstack.operate.replay import TARGETS
from tapstack.operate.target import AwsTarget, DeployTarget
from templates.contract import SUFFIX_PARAMETER
from templates.naming import names_of

REGION_OPTION = click.option("--region", help="AWS region (default: the credential chain's)")
TEMPLATE_OPTION = template_option("the generated template; its name prefix says which stacks")

WITH_BOOTSTRAP_OPTION = click.option(
    "--with-bootstrap", is_flag=True, help="also delete the artifact-bucket stack"
)
OUTPUTS_OPTION = click.option(
    "--outputs",
    "flat_outputs_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=paths.FLAT_OUTPUTS,
    show_default=str(paths.FLAT_OUTPUTS.relative_to(paths.REPOSITORY)),
    help="the stack's outputs as one JSON object: written by deploy, removed by destroy",
)


def check_environment_suffix(value: str, template: dict[str, Any]) -> str:
    """Refuse a suffix the template would refuse, before any AWS call: same pattern, same length limit."""
    parameter = template["Parameters"][SUFFIX_PARAMETER]
    pattern, longest = parameter["AllowedPattern"], parameter["MaxLength"]
    if not re.fullmatch(pattern, value) or len(value) > longest:
        raise ValueError(
            f"{value!r} is not a valid {SUFFIX_PARAMETER}: {pattern}, at most {longest} characters "
            "(the longest that keeps every resource name within its AWS limit; S3 bucket names are the "
            "tightest)"
        )
    return value


def load_deployment(target: DeployTarget, environment: str, template_path: Path) -> Deployment:
    """The command's deployment, refused in one line (exit 2) when the template is not a generated one
    or would refuse the suffix; before any AWS call."""
    try:
        deployment = Deployment.load(target, environment, template_path)
    except TEMPLATE_ERRORS as error:
        raise unusable_template(template_path, error) from error
    try:
        check_environment_suffix(environment, deployment.template)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--env'") from error
    return deployment


def environment_option(default: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--env and --template: which stack of which generated template."""
    # An explicit default=None would count as a value: pass a default only when there is one.
    defaults: dict[str, Any] = (
        {"required": True} if default is None else {"default": default, "show_default": True}
    )
    environment = click.option(
        "--env", "environment", help="environment suffix: the stack is <prefix>-<env>", **defaults
    )
    return lambda command: environment(TEMPLATE_OPTION(command))


def parameters_options(
    default_params: Path | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--params (a parameter file) and --artifact (a Lambda zip), shared by preflight, deploy, diff, load."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--artifact",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Lambda zip to deploy (default: built by `tapstack package`)",
        )(command)
        defaults: dict[str, Any] = (
            {"required": True}
            if default_params is None
            else {"default": default_params, "show_default": True}
        )
        return click.option(
            "--params",
            "parameter_file",
            type=click.Path(path_type=Path, dir_okay=False),
            help="parameter file (aws cloudformation deploy format)",
            **defaults,
        )(command)

    return decorate


def function_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--function and --apply of replay."""
    command = click.option("--apply", is_flag=True, help="re-invoke and delete; without it, only list")(
        command
    )
    return click.option(
        "--function",
        "functions",
        multiple=True,
        type=click.Choice(sorted(TARGETS)),
        help="whose dead letters (repeatable; default: both)",
    )(command)


def run_preflight(deployment: Deployment, parameter_file: Path, artifact: Path | None) -> ExitCode:
    """Print every check's result; FAILED when one failed."""
    results = actions.preflight_environment(deployment, parameter_file, artifact)
    for result in results:
        print("\n".join(result.lines()))
    return ExitCode.FAILED if failed(results) else ExitCode.OK


def run_replay(deployment: Deployment, functions: tuple[str, ...], apply: bool) -> ExitCode:
    """Replay and print what happened; FAILED when a message was kept."""
    kept = actions.replay_environment(deployment, list(functions) or list(TARGETS), apply, print)
    return ExitCode.FAILED if kept else ExitCode.OK


def aws_deployment(environment: str, template_path: Path, region: str | None) -> Deployment:
    return load_deployment(AwsTarget(Clients.for_aws(region)), environment, template_path)


@click.command(epilog="Example:\n\n  tapstack bootstrap --region eu-west-1")
@TEMPLATE_OPTION
@REGION_OPTION
def bootstrap(template_path: Path, region: str | None) -> ExitCode:
    """Create or update the artifact-bucket stack (once per account and region)."""
    try:
        names = names_of(read_template(template_path))
    except TEMPLATE_ERRORS as error:
        raise unusable_template(template_path, error) from error
    print(f"artifact bucket: {bootstrap_stack(AwsTarget(Clients.for_aws(region)), names, print)}")
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack preflight --env dev --params params/dev.json")
@environment_option()
@parameters_options()
@REGION_OPTION
def preflight(
    environment: str, template_path: Path, parameter_file: Path, artifact: Path | None, region: str | None
) -> ExitCode:
    """Check the account before a deploy: credentials, stack state, quotas, artifact, logging role, secret."""
    return run_preflight(aws_deployment(environment, template_path, region), parameter_file, artifact)


@click.command(
    epilog="""\b
Examples:
  tapstack deploy --env dev --params params/dev.json
  tapstack deploy --env prod --params params/prod.json --region eu-west-1 --artifact build/lambda-abc.zip"""
)
@environment_option()
@parameters_options()
@OUTPUTS_OPTION
@REGION_OPTION
def deploy(
    environment: str,
    template_path: Path,
    parameter_file: Path,
    artifact: Path | None,
    flat_outputs_path: Path,
    region: str | None,
) -> ExitCode:
    """Preflight, upload the artifact and template, deploy through a change set, write cfn-outputs/.

    Prints the stack events as they happen and, on failure, the first failed resource with advice.
    """
    deployment = aws_deployment(environment, template_path, region)
    actions.deploy_environment(deployment, parameter_file, artifact, print, flat_outputs_path)
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack diff --env dev --params params/dev.json")
@environment_option()
@parameters_options()
@REGION_OPTION
def diff(
    environment: str, template_path: Path, parameter_file: Path, artifact: Path | None, region: str | None
) -> ExitCode:
    """Show what a deploy would change (a change set, described and deleted)."""
    deployment = aws_deployment(environment, template_path, region)
    print("\n".join(actions.diff_environment(deployment, parameter_file, artifact)))
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack destroy --env dev")
@environment_option()
@WITH_BOOTSTRAP_OPTION
@OUTPUTS_OPTION
@REGION_OPTION
def destroy(
    environment: str, template_path: Path, with_bootstrap: bool, flat_outputs_path: Path, region: str | None
) -> ExitCode:
    """Empty the stack's buckets, delete the stack, and report anything left behind (1 if any)."""
    deployment = aws_deployment(environment, template_path, region)
    left = actions.destroy_environment(deployment, with_bootstrap, print, flat_outputs_path)
    return ExitCode.FAILED if left else ExitCode.OK


@click.command(
    epilog="""\b
Examples:
  tapstack replay --env dev                       list the dead letters
  tapstack replay --env dev --function processor --apply"""
)
@environment_option()
@function_options
@REGION_OPTION
def replay(
    environment: str, template_path: Path, functions: tuple[str, ...], apply: bool, region: str | None
) -> ExitCode:
    """Re-drive the dead-letter queues into their functions (a dry run unless --apply)."""
    return run_replay(aws_deployment(environment, template_path, region), functions, apply)


PROVIDER_OPTION = click.option(
    "--provider", type=click.Choice(("stripe", "paypal")), required=True, help="whose event log to list"
)
APPLY_RECONCILE_OPTION = click.option(
    "--apply", is_flag=True, help="hand what is missing to the processor (default: only list it)"
)


def print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2))


@click.command(
    epilog="""\b
Examples:
  tapstack reconcile --env dev --provider stripe --since 3d                what is missing (dry run)
  tapstack reconcile --env dev --provider paypal --since 2026-12-01T00:00:00Z --until 1d --apply"""
)
@environment_option()
@PROVIDER_OPTION
@click.option(
    "--since", type=MOMENT, required=True, help="from (ISO 8601, Unix seconds, or a span ago: 6h, 3d)"
)
@click.option("--until", type=MOMENT, help="to (default: now)")
@APPLY_RECONCILE_OPTION
@REGION_OPTION
def reconcile(
    environment: str,
    template_path: Path,
    provider: str,
    since: int,
    until: int | None,
    apply: bool,
    region: str | None,
) -> ExitCode:
    """List a provider's events the table lacks over a window; hand them to the processor with --apply.

    Prints one JSON document: `missing` (transaction ids such as stripe#evt_...) and, applying, `ingested`.
    """
    from tapstack.operate.reconcile import reconcile_deployment, window_of  # noqa: PLC0415 (imports the handlers)

    window = window_of(since, until)
    document = reconcile_deployment(
        aws_deployment(environment, template_path, region), provider, window, apply
    )
    print_json(document)
    return ExitCode.OK if document["complete"] else ExitCode.FAILED
