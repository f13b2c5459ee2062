"""`tapstack republish` (AWS) and `tapstack local republish` (the emulator), thin over
tapstack.operate.republish."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from handlers.core.model import Kind
from handlers.core.windows import Window, parse_moment
from tapstack.cli.local import LOCAL_ENVIRONMENT, PORT_OPTION, emulator_deployment
from tapstack.cli.operate import REGION_OPTION, aws_deployment, environment_option
from tapstack.exits import CommandError, ExitCode
from tapstack.operate.deployment import Deployment
from tapstack.operate.republish import Destination, QueueArn, StackEvents, SubscriberQueue

HELP = """Re-publish the stored events of a time window, in received order (a dry run unless --apply).

Each event received from --since until --until (default: now), of the --kind given (default:
every kind), is sent again as the notifier built it, marked `republished` (a message attribute and a
body field, both `true`): to the stack's events topic (and its FIFO topic, if it has one), or with
--to to one subscriber's SQS queue only, as a raw-delivery subscription receives it. Events are
read from the table's index by receipt time, never by a scan; only those stored since the index
exists are found (docs/operations.md, "Replaying a window to a subscriber"). Quarantined and not yet
published events are listed as skipped. Prints one JSON document; exit status 1 when a send failed
(sending stops there, so what was sent is the window's beginning, in order).

--backfill instead gives the window's items stored before the index existed their index keys (found
by a scan of the table; written with --apply): run it once after the upgrade, then republish."""

TIME_FORMS = "ISO 8601 with an offset, a UTC date, or a time ago: 90m, 24h, 7d"


def window_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--since, --until, --kind, --to, --apply and --backfill."""
    options = [
        click.option("--since", required=True, help=f"the window's start, inclusive ({TIME_FORMS})"),
        click.option("--until", help=f"the window's end, exclusive (default: now; {TIME_FORMS})"),
        click.option(
            "--kind",
            "kinds",
            multiple=True,
            type=click.Choice([str(kind) for kind in Kind]),
            help="only events of this kind (repeatable; default: every kind)",
        ),
        click.option(
            "--to", "queue_arn", metavar="QUEUE_ARN", help="one subscriber's SQS queue, not the topic"
        ),
        click.option("--apply", is_flag=True, help="send; without it, only list what would be sent"),
        click.option(
            "--backfill",
            is_flag=True,
            help="instead, key the window's items stored before the index existed (a scan)",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def parse_window(since: str, until: str | None, now: datetime) -> Window:
    """The window asked for, or the one-line usage error (exit 2) saying what is wrong."""
    bounds = {"--since": since, "--until": until}
    moments = {}
    for option, text in bounds.items():
        try:
            moments[option] = now if text is None else parse_moment(text, now)
        except ValueError as error:
            raise CommandError(f"{option}: {error}") from error
    try:
        return Window(moments["--since"], moments["--until"])
    except ValueError as error:
        raise CommandError(f"{error}: give a --since before --until (default: now)") from error


def parse_queue(queue_arn: str | None) -> QueueArn | None:
    try:
        return None if queue_arn is None else QueueArn.parse(queue_arn)
    except ValueError as error:
        raise CommandError(f"--to: {error}") from error


def check_backfill(backfill: bool, kinds: tuple[str, ...], queue_arn: str | None) -> None:
    if backfill and (kinds or queue_arn):
        raise CommandError("--backfill keys every item of the window: give it without --kind and --to")


def run_republish(
    deployment: Deployment,
    window: Window,
    kinds: tuple[str, ...],
    queue: QueueArn | None,
    apply: bool,
    backfill: bool,
) -> ExitCode:
    events = StackEvents.of_deployment(deployment)
    if backfill:
        print(json.dumps(events.backfill(window, apply), indent=2))
        return ExitCode.OK
    destination: Destination = (
        events.topics if queue is None else SubscriberQueue.of_arn(deployment.clients, queue)
    )
    result = events.republish(window, tuple(Kind(kind) for kind in kinds), destination, apply)
    print(json.dumps(result.document(), indent=2))
    return ExitCode.FAILED if result.failed else ExitCode.OK


@click.command(
    help=HELP,
    epilog="""\b
Examples:
  tapstack republish --env dev --since 7d
  tapstack republish --env dev --since 2026-11-01 --backfill --apply   once, after the upgrade
  tapstack republish --env dev --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z --kind refund \\
      --to arn:aws:sqs:eu-west-1:111122223333:ledger-events --apply""",
)
@environment_option()
@window_options
@REGION_OPTION
def republish(
    environment: str,
    template_path: Path,
    since: str,
    until: str | None,
    kinds: tuple[str, ...],
    queue_arn: str | None,
    apply: bool,
    backfill: bool,
    region: str | None,
) -> ExitCode:
    check_backfill(backfill, kinds, queue_arn)
    window, queue = parse_window(since, until, datetime.now(UTC)), parse_queue(queue_arn)
    deployment = aws_deployment(environment, template_path, region)
    return run_republish(deployment, window, kinds, queue, apply, backfill)


@click.command(
    name="republish",
    help=HELP,
    epilog="""\b
Examples:
  tapstack local republish --since 1h
  tapstack local republish --since 1h --to arn:aws:sqs:us-east-1:123456789012:subscriber --apply""",
)
@environment_option(LOCAL_ENVIRONMENT)
@window_options
@PORT_OPTION
def local_republish(
    environment: str,
    template_path: Path,
    since: str,
    until: str | None,
    kinds: tuple[str, ...],
    queue_arn: str | None,
    apply: bool,
    backfill: bool,
    port: int,
) -> ExitCode:
    check_backfill(backfill, kinds, queue_arn)
    window, queue = parse_window(since, until, datetime.now(UTC)), parse_queue(queue_arn)
    deployment = emulator_deployment(environment, template_path, port)
    return run_republish(deployment, window, kinds, queue, apply, backfill)
