"""`tapstack register` and `tapstack local register`: the stack's webhook URL registered with a provider,
its signing secret or webhook id stored in the stack's secret (tapstack/operate/registration.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tapstack.cli.local import LOCAL_ENVIRONMENT, PORT_OPTION, emulator_deployment
from tapstack.cli.operate import REGION_OPTION, aws_deployment, environment_option
from tapstack.exits import CommandError, ExitCode
from tapstack.operate.deployment import Deployment
from tapstack.operate.registration import PROVIDERS, Registration, RegistrationRefusedError, register


def registration_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--provider, --apply, --rotate and --api-base, shared by both commands."""
    command = click.option(
        "--api-base",
        help="the provider's API base URL (default: the provider's own; PayPal's for the secret's "
        "paypal_environment)",
    )(command)
    command = click.option(
        "--rotate",
        is_flag=True,
        help="replace a signing secret or webhook id in use, keeping the old one accepted during the overlap",
    )(command)
    command = click.option("--apply", is_flag=True, help="do it; without it, only print what it would do")(
        command
    )
    return click.option("--provider", type=click.Choice(PROVIDERS), required=True)(command)


def run_register(
    deployment: Deployment, provider: str, api_base: str | None, apply: bool, rotate: bool
) -> ExitCode:
    """Print the registration's one JSON document; a refusal is one line (exit 2)."""
    outputs = deployment.target.stack_outputs(deployment.stack, deployment.environment, deployment.template)
    try:
        registration = Registration.of(provider, deployment.stack, outputs)
        plan = register(registration, deployment.clients("secretsmanager"), api_base, apply, rotate)
    except RegistrationRefusedError as error:
        raise CommandError(str(error)) from None
    print(json.dumps(plan.document(deployment.stack), indent=2))
    return ExitCode.OK


@click.command(
    epilog="""\b
Examples:
  tapstack register --env dev --provider stripe                  what it would do
  tapstack register --env dev --provider stripe --apply
  tapstack register --env dev --provider paypal --apply --rotate"""
)
@environment_option()
@registration_options
@REGION_OPTION
def register_command(
    environment: str,
    template_path: Path,
    provider: str,
    apply: bool,
    rotate: bool,
    api_base: str | None,
    region: str | None,
) -> ExitCode:
    """Register the stack's webhook URL with Stripe or PayPal and store its secret (a dry run unless --apply).

    Creates or updates the provider's endpoint with the event types TapStack maps (Stripe: at the pinned
    API version), writes the returned Stripe signing secret or PayPal webhook id into the stack's webhook
    secret, and prints one JSON document of what it did or would do. A second run changes nothing. It
    refuses to replace a signing secret or webhook id in use unless --rotate, which keeps the old one
    accepted. Needs the provider API credentials in the secret (docs/go-live.md).
    """
    deployment = aws_deployment(environment, template_path, region)
    return run_register(deployment, provider, api_base, apply, rotate)


@click.command(
    name="register",
    epilog="""\b
Examples:
  tapstack local register --provider stripe --apply --rotate
  tapstack local register --provider paypal --apply --rotate""",
)
@environment_option(LOCAL_ENVIRONMENT)
@registration_options
@PORT_OPTION
def register_local(
    environment: str,
    template_path: Path,
    provider: str,
    apply: bool,
    rotate: bool,
    api_base: str | None,
    port: int,
) -> ExitCode:
    """Register the local stack's webhook URL with the local provider stand-in (a dry run unless --apply).

    Without --api-base the local providers' APIs run in this command on loopback, as for `local reconcile`,
    and keep their registrations under .local/providers/. The local deploy puts working local material in
    the secret, so the first registration replaces it: give --rotate (the local material stays accepted).
    """
    from tapstack.local.provider_apis.stand_ins import local_provider_server  # noqa: PLC0415 (only the local command serves it)

    deployment = emulator_deployment(environment, template_path, port)
    if api_base is not None:
        return run_register(deployment, provider, api_base, apply, rotate)
    with local_provider_server(deployment).running() as server:
        return run_register(deployment, provider, server.url, apply, rotate)
