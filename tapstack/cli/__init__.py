"""The `tapstack` command: build, operate and the local cloud, each command thin over its library.

`main` is the console script; it turns the errors a user can act on into one line and an exit status
from tapstack.exits, never a traceback. Each command's module is imported only when that command runs,
so `tapstack generate` does not pay for the AWS SDK the stack operations use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from tapstack.exits import CommandError, ExitCode


@dataclass(frozen=True)
class Subcommand:
    """A command of the group: where it is defined and its summary, listed without importing it."""

    location: str
    """"module:attribute" of the click command."""
    summary: str
    """The first sentence of the command's help (a test holds the two equal)."""
    extensions: tuple[str, ...] = ()
    """"module:attribute" of subcommands defined elsewhere, added to this group when it loads."""


def _load(location: str) -> click.Command:
    module, _, attribute = location.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{location} is not a click command")
    return command


class LazyGroup(click.Group):
    """A click group that imports a command's module when the command is asked for, not before."""

    def __init__(self, *args: Any, subcommands: Mapping[str, Subcommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subcommands = subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 (click's signature)
        return sorted(self.subcommands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002 (click's)
        entry = self.subcommands.get(cmd_name)
        if entry is None:
            return None
        command = _load(entry.location)
        if isinstance(command, click.Group):
            for extension in entry.extensions:
                command.add_command(_load(extension))
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Stand-ins carrying only the summaries: click lays them out as it would the commands.
        listing = click.Group(
            commands=[click.Command(name, help=entry.summary) for name, entry in self.subcommands.items()]
        )
        listing.format_commands(ctx, formatter)


SUBCOMMANDS = {
    "generate": Subcommand(
        "tapstack.cli.generate:generate_command",
        "Generate the template JSON, its review report, the deployer policy and the settings' documentation.",
    ),
    "check": Subcommand(
        "tapstack.cli.generate:check",
        "Fail (1) when a committed generated file differs from what the code generates.",
    ),
    "report": Subcommand(
        "tapstack.cli.generate:report",
        "Render the Markdown review report of a template: diagram, tables of every resource and grant.",
    ),
    "diagram": Subcommand(
        "tapstack.cli.generate:diagram",
        "Draw the template's diagram as SVG with Graphviz (needs `dot`: apt-get install graphviz).",
    ),
    "cost": Subcommand(
        "tapstack.cli.cost:cost",
        "Price the stack: fixed monthly cost and cost per million deliveries, line by line, from the "
        "template.",
    ),
    "lint": Subcommand(
        "tapstack.cli.build:lint_command",
        "Lint a template with cfn-lint (with tapstack/lint/rules/), checkov, Control Tower's proactive "
        "controls and cdk-nag; fail (1) on any finding.",
    ),
    "guard": Subcommand(
        "tapstack.cli.build:guard",
        "Check the handler code: no JSON parse without parse_float, no float on the money path.",
    ),
    "package": Subcommand(
        "tapstack.cli.build:package_command",
        "Build the deterministic Lambda artifact build/lambda-<hash>.zip (arm64 wheels, imports checked).",
    ),
    "bench": Subcommand(
        "tapstack.cli.build:bench",
        "Benchmarks: cold import against bare boto3, CPU per event, parse at the size limit, artifact size.",
    ),
    "bootstrap": Subcommand(
        "tapstack.cli.operate:bootstrap",
        "Create or update the artifact-bucket stack (once per account and region).",
    ),
    "preflight": Subcommand(
        "tapstack.cli.operate:preflight",
        "Check the account before a deploy: credentials, stack state, quotas, artifact, logging role, "
        "secret.",
    ),
    "deploy": Subcommand(
        "tapstack.cli.operate:deploy",
        "Preflight, upload the artifact and template, deploy through a change set, write cfn-outputs/.",
    ),
    "diff": Subcommand(
        "tapstack.cli.operate:diff",
        "Show what a deploy would change (a change set, described and deleted).",
    ),
    "destroy": Subcommand(
        "tapstack.cli.operate:destroy",
        "Empty the stack's buckets, delete the stack, and report anything left behind (1 if any).",
    ),
    "replay": Subcommand(
        "tapstack.cli.operate:replay",
        "Re-drive the dead-letter queues into their functions (a dry run unless --apply).",
    ),
    "reconcile": Subcommand(
        "tapstack.cli.operate:reconcile",
        "List a provider's events the table lacks over a window; hand them to the processor with --apply.",
    ),
    "register": Subcommand(
        "tapstack.cli.register:register_command",
        "Register the stack's webhook URL with Stripe or PayPal and store its secret (a dry run unless "
        "--apply).",
    ),
    "quarantine": Subcommand(
        "tapstack.cli.quarantine:quarantine",
        "Deliveries kept in quarantine (verified, not normalised): list, show, reprocess (AWS).",
    ),
    "republish": Subcommand(
        "tapstack.cli.republish:republish",
        "Re-publish the stored events of a time window, in received order (a dry run unless --apply).",
    ),
    "object": Subcommand(
        "tapstack.cli.objects:object_aws",
        "Print one provider object as one JSON document: its state and its events.",
    ),
    "params": Subcommand(
        "tapstack.cli.params:params",
        "Parameter files for the AWS CLI: a file and the values the deploy adds, as one checked file.",
    ),
    "verify": Subcommand(
        "tapstack.cli.verify:verify",
        "Answer a captured delivery as the receiver would, without AWS; print one JSON document.",
    ),
    "local": Subcommand(
        "tapstack.cli.local:local",
        "The stack on the local emulator: start it, deploy, deliver, serve, inspect, replay, destroy.",
        extensions=(
            "tapstack.cli.quarantine:local_quarantine",
            "tapstack.cli.objects:object_local",
            "tapstack.cli.register:register_local",
            "tapstack.cli.republish:local_republish",
        ),
    ),
}


@click.group(
    cls=LazyGroup,
    subcommands=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
def tapstack() -> None:
    """TapStack: the payment-webhook CloudFormation stack, from code to a running stack.

    \b
    build    generate, check, report, diagram, cost, lint, guard, package, bench
    operate  bootstrap, preflight, deploy, diff, destroy, replay, republish, reconcile, register,
             quarantine, object (AWS, your credentials)
    local    up, down, deploy, send, serve, replay, republish, reconcile, register, quarantine, object,
             destroy, load (moto on loopback)
    params   overrides: a parameter file and the values the deploy adds, for the AWS CLI (no AWS)
    verify   a captured delivery through the receiver's checks (no AWS)

    Exit status: 0 done, 1 something was found or failed, 2 the command cannot run as asked.
    """


def operation_errors() -> tuple[type[Exception], ...]:
    """What a stack operation can fail with that is the account's or the input's doing, not a bug here.

    The AWS SDK's errors count once a command has imported the SDK: only then can they be raised, and
    importing it for every command would cost the commands that never touch AWS.
    """
    errors: tuple[type[Exception], ...] = (LookupError, OSError, RuntimeError)
    if "botocore" in sys.modules:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 (loaded already)

        errors += (ClientError, BotoCoreError)
    return errors


def next_step(error: Exception, on_emulator: bool) -> str | None:
    """What to do about an AWS client error that says only what went wrong; None when it says enough.

    Asked only once the failing command has loaded the AWS SDK.
    """
    from botocore.exceptions import (  # noqa: PLC0415 (loaded already, by the command that failed)
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region, or set AWS_REGION (with make: AWS_REGION=eu-west-1)"
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE or configure them (aws configure), then try again"
    if isinstance(error, EndpointConnectionError):
        url = error.kwargs.get("endpoint_url", "")
        if on_emulator:  # it stopped after the command began
            return f"the emulator stopped answering ({url}): start it again with `make local-up`"
        return f"cannot reach {url}: check the network and the region"
    message = str(error)
    if isinstance(error, ClientError) and "does not exist" in message and "Stack with id" in message:
        stack = message.split("Stack with id ", 1)[1].split(" does not exist", 1)[0]
        deploy = "make deploy-local" if on_emulator else "make deploy ENV=<env>"
        return f"stack {stack} does not exist: deploy it first (`{deploy}`)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        result = tapstack.main(args=arguments, prog_name="tapstack", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        print("aborted", file=sys.stderr)
        return ExitCode.FAILED
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except Exception as error:
        if not isinstance(error, operation_errors()):
            raise
        on_emulator = arguments[:1] == ["local"]
        advice = next_step(error, on_emulator) if "botocore" in sys.modules else None
        print(f"error: {advice or error}", file=sys.stderr)
        return ExitCode.USAGE if advice else ExitCode.FAILED
    return int(result or ExitCode.OK)
