"""Operate commands: the stack on AWS, with the usual credential chain (`--region` or the chain's own)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tapstack import paths
from tapstack.cfn.model import read_template
from tapstack.exits import ExitCode
from tapstack.operate import actions
from tapstack.operate.cloud import Clients
from tapstack.operate.preflight import failed
from tapstack.operate.replay import TARGETS

REGION_OPTION = click.option("--region", help="AWS region (default: the credential chain's)")


def check_environment_suffix(value: str) -> str:
    """Refuse a suffix the template would refuse, before any AWS call: same pattern, same length limit."""
    parameter = read_template(paths.TEMPLATE)["Parameters"]["EnvironmentSuffix"]
    pattern, longest = parameter["AllowedPattern"], parameter["MaxLength"]
    if not re.fullmatch(pattern, value) or len(value) > longest:
        raise ValueError(
            f"{value!r} is not a valid EnvironmentSuffix: {pattern}, at most {longest} characters "
            "(the longest that keeps every resource name within its AWS limit; S3 bucket names are the "
            "tightest)"
        )
    return value


class EnvironmentSuffix(click.ParamType[str]):
    name = "suffix"

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return check_environment_suffix(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


def environment_option(default: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    # An explicit default=None would count as a value: pass a default only when there is one.
    defaults: dict[str, Any] = (
        {"required": True} if default is None else {"default": default, "show_default": True}
    )
    return click.option(
        "--env",
        "environment",
        type=EnvironmentSuffix(),
        help="environment suffix: the stack is <prefix>-<env>",
        **defaults,
    )


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


def run_preflight(
    clients: Clients, environment: str, parameter_file: Path, artifact: Path | None
) -> ExitCode:
    """Print every check's result; FAILED when one failed."""
    results = actions.preflight_environment(clients, environment, parameter_file, artifact)
    for result in results:
        print("\n".join(result.lines()))
    return ExitCode.FAILED if failed(results) else ExitCode.OK


def run_replay(clients: Clients, environment: str, functions: tuple[str, ...], apply: bool) -> ExitCode:
    """Replay and print what happened; FAILED when a message was kept."""
    kept = actions.replay_environment(clients, environment, list(functions) or list(TARGETS), apply, print)
    return ExitCode.FAILED if kept else ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack bootstrap --region eu-west-1")
@REGION_OPTION
def bootstrap(region: str | None) -> ExitCode:
    """Create or update the artifact-bucket stack (once per account and region)."""
    print(f"artifact bucket: {actions.bootstrap(Clients.for_aws(region), print)}")
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack preflight --env dev --params params/dev.json")
@environment_option()
@parameters_options()
@REGION_OPTION
def preflight(environment: str, parameter_file: Path, artifact: Path | None, region: str | None) -> ExitCode:
    """Check the account before a deploy: credentials, stack state, quotas, artifact, logging role, secret."""
    return run_preflight(Clients.for_aws(region), environment, parameter_file, artifact)


@click.command(
    epilog="""\b
Examples:
  tapstack deploy --env dev --params params/dev.json
  tapstack deploy --env prod --params params/prod.json --region eu-west-1 --artifact build/lambda-abc.zip"""
)
@environment_option()
@parameters_options()
@REGION_OPTION
def deploy(environment: str, parameter_file: Path, artifact: Path | None, region: str | None) -> ExitCode:
    """Preflight, upload the artifact and template, deploy through a change set, write cfn-outputs/.

    Prints the stack events as they happen and, on failure, the first failed resource with advice.
    """
    actions.deploy_environment(Clients.for_aws(region), environment, parameter_file, artifact, print)
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack diff --env dev --params params/dev.json")
@environment_option()
@parameters_options()
@REGION_OPTION
def diff(environment: str, parameter_file: Path, artifact: Path | None, region: str | None) -> ExitCode:
    """Show what a deploy would change (a change set, described and deleted)."""
    print("\n".join(actions.diff_environment(Clients.for_aws(region), environment, parameter_file, artifact)))
    return ExitCode.OK


@click.command(epilog="Example:\n\n  tapstack destroy --env dev")
@environment_option()
@click.option("--with-bootstrap", is_flag=True, help="also delete the artifact-bucket stack")
@REGION_OPTION
def destroy(environment: str, with_bootstrap: bool, region: str | None) -> ExitCode:
    """Empty the stack's buckets, delete the stack, and report anything left behind (1 if any)."""
    left = actions.destroy_environment(Clients.for_aws(region), environment, with_bootstrap, print)
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
def replay(environment: str, functions: tuple[str, ...], apply: bool, region: str | None) -> ExitCode:
    """Re-drive the dead-letter queues into their functions (a dry run unless --apply)."""
    return run_replay(Clients.for_aws(region), environment, functions, apply)
