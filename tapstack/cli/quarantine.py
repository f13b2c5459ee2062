"""`tapstack quarantine …` (AWS) and `tapstack local quarantine …` (the emulator), thin over
tapstack.operate.quarantine."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tapstack.cli.local import LOCAL_ENVIRONMENT, PORT_OPTION, emulator_deployment
from tapstack.cli.operate import REGION_OPTION, aws_deployment, environment_option
from tapstack.exits import ExitCode
from tapstack.operate.quarantine import StackQuarantine

SHOW_HELP = """Print a stored item, the key of its archived raw body, and the body itself.

The body is the provider's own payload as it was received: it may contain personal data (names,
e-mail and postal addresses, card details a provider includes), so keep the output only where such
data may be kept."""
REPROCESS_HELP = """Re-run normalisation on quarantined deliveries after a fix to the code.

Reads each archived raw body and normalises it with this checkout's code; the signature is not
checked again (it was verified at receipt, and the archive holds the body, not the headers). Each
that now normalises replaces its quarantined item and is published once, through the processor's
and the notifier's own conditional steps: reprocessing again publishes nothing. --all also finishes
a reprocess that stopped between storing and publishing. Exit status 1 when any stays quarantined
or fails."""


def run_list(quarantine: StackQuarantine) -> ExitCode:
    entries = quarantine.entries()
    for entry in entries:
        print(entry.line())
    print(f"{len(entries)} quarantined in {quarantine.table}")
    return ExitCode.OK


def run_show(quarantine: StackQuarantine, transaction_id: str) -> ExitCode:
    print(json.dumps(quarantine.show(transaction_id), indent=2))
    return ExitCode.OK


def run_reprocess(quarantine: StackQuarantine, transaction_ids: tuple[str, ...], every: bool) -> ExitCode:
    if every == bool(transaction_ids):
        raise click.UsageError("give the ids to reprocess, or --all (not both)")
    outcomes = quarantine.reprocess(None if every else list(transaction_ids))
    for outcome in outcomes:
        print(outcome.line())
    unresolved = sum(not outcome.resolved for outcome in outcomes)
    print(f"{len(outcomes) - unresolved} resolved, {unresolved} not")
    return ExitCode.FAILED if unresolved else ExitCode.OK


IDS_ARGUMENT = click.argument("transaction_ids", metavar="[ID]...", nargs=-1)
ALL_OPTION = click.option("--all", "every", is_flag=True, help="every quarantined item")


def _aws(environment: str, template_path: Path, region: str | None) -> StackQuarantine:
    return StackQuarantine.of_deployment(aws_deployment(environment, template_path, region))


@click.group(
    epilog="""\b
Examples:
  tapstack quarantine list --env dev
  tapstack quarantine show --env dev 'stripe#evt_1QxAbc'
  tapstack quarantine reprocess --env dev --all"""
)
def quarantine() -> None:
    """Deliveries kept in quarantine (verified, not normalised): list, show, reprocess (AWS)."""


@quarantine.command(name="list", epilog="Example:\n\n  tapstack quarantine list --env dev --region eu-west-1")
@environment_option()
@REGION_OPTION
def list_aws(environment: str, template_path: Path, region: str | None) -> ExitCode:
    """List the quarantined items: received time, id, provider, reason (a scan of the table)."""
    return run_list(_aws(environment, template_path, region))


@quarantine.command(
    name="show", help=SHOW_HELP, epilog="Example:\n\n  tapstack quarantine show --env dev 'stripe#evt_1'"
)
@click.argument("transaction_id", metavar="ID")
@environment_option()
@REGION_OPTION
def show_aws(transaction_id: str, environment: str, template_path: Path, region: str | None) -> ExitCode:
    return run_show(_aws(environment, template_path, region), transaction_id)


@quarantine.command(
    name="reprocess",
    help=REPROCESS_HELP,
    epilog="""\b
Examples:
  tapstack quarantine reprocess --env dev 'stripe#evt_1' 'paypal#WH-2'
  tapstack quarantine reprocess --env dev --all""",
)
@IDS_ARGUMENT
@ALL_OPTION
@environment_option()
@REGION_OPTION
def reprocess_aws(
    transaction_ids: tuple[str, ...], every: bool, environment: str, template_path: Path, region: str | None
) -> ExitCode:
    return run_reprocess(_aws(environment, template_path, region), transaction_ids, every)


def _local(environment: str, template_path: Path, port: int) -> StackQuarantine:
    return StackQuarantine.of_deployment(emulator_deployment(environment, template_path, port))


@click.group(
    name="quarantine",
    epilog="""\b
Examples:
  tapstack local quarantine list
  tapstack local quarantine reprocess --all""",
)
def local_quarantine() -> None:
    """The local stack's quarantined deliveries: list, show, reprocess."""


@local_quarantine.command(name="list", epilog="Example:\n\n  tapstack local quarantine list --port 5000")
@environment_option(LOCAL_ENVIRONMENT)
@PORT_OPTION
def list_local(environment: str, template_path: Path, port: int) -> ExitCode:
    """List the local stack's quarantined items: received time, id, provider, reason."""
    return run_list(_local(environment, template_path, port))


@local_quarantine.command(
    name="show", help=SHOW_HELP, epilog="Example:\n\n  tapstack local quarantine show 'stripe#evt_1'"
)
@click.argument("transaction_id", metavar="ID")
@environment_option(LOCAL_ENVIRONMENT)
@PORT_OPTION
def show_local(transaction_id: str, environment: str, template_path: Path, port: int) -> ExitCode:
    return run_show(_local(environment, template_path, port), transaction_id)


@local_quarantine.command(
    name="reprocess", help=REPROCESS_HELP, epilog="Example:\n\n  tapstack local quarantine reprocess --all"
)
@IDS_ARGUMENT
@ALL_OPTION
@environment_option(LOCAL_ENVIRONMENT)
@PORT_OPTION
def reprocess_local(
    transaction_ids: tuple[str, ...], every: bool, environment: str, template_path: Path, port: int
) -> ExitCode:
    return run_reprocess(_local(environment, template_path, port), transaction_ids, every)
