"""`tapstack object` (AWS) and `tapstack local object` (the emulator), thin over tapstack.operate.objects."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tapstack.cli.local import LOCAL_ENVIRONMENT, PORT_OPTION, emulator_deployment
from tapstack.cli.operate import REGION_OPTION, aws_deployment, environment_option
from tapstack.exits import ExitCode
from tapstack.operate.objects import StackObjects

HELP = """Print one provider object as one JSON document: its state and its events.

`state` is the object's applied event (the objects table; null when none was applied), `events` every
stored event that advances it, in the order they happened, each with its `transaction_id`,
`event_type`, `occurred_at` and `stale` flag. Finding the events scans the transactions table. Exit
status 1 when the stack has nothing about the object."""

PROVIDER_ARGUMENT = click.argument("provider")
OBJECT_ID_ARGUMENT = click.argument("object_id", metavar="OBJECT_ID")


def run_describe(objects: StackObjects, provider: str, object_id: str) -> ExitCode:
    document = objects.describe(provider, object_id)
    print(json.dumps(document, indent=2))
    return ExitCode.OK if document["state"] or document["events"] else ExitCode.FAILED


@click.command(
    name="object", help=HELP, epilog="Example:\n\n  tapstack object --env dev stripe pi_3QxSample0001"
)
@PROVIDER_ARGUMENT
@OBJECT_ID_ARGUMENT
@environment_option()
@REGION_OPTION
def object_aws(
    provider: str, object_id: str, environment: str, template_path: Path, region: str | None
) -> ExitCode:
    deployment = aws_deployment(environment, template_path, region)
    return run_describe(StackObjects.of_deployment(deployment), provider, object_id)


@click.command(name="object", help=HELP, epilog="Example:\n\n  tapstack local object stripe pi_3QxSample0001")
@PROVIDER_ARGUMENT
@OBJECT_ID_ARGUMENT
@environment_option(LOCAL_ENVIRONMENT)
@PORT_OPTION
def object_local(provider: str, object_id: str, environment: str, template_path: Path, port: int) -> ExitCode:
    deployment = emulator_deployment(environment, template_path, port)
    return run_describe(StackObjects.of_deployment(deployment), provider, object_id)
