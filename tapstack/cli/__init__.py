"""The `tapstack` command: build, operate and the local cloud, each command thin over its library.

`main` is the console script; it turns the errors a user can act on into one line and an exit status
from tapstack.exits, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from tapstack.cli.build import BUILD_COMMANDS
from tapstack.cli.local import local
from tapstack.cli.operate import OPERATE_COMMANDS
from tapstack.cli.quarantine import local_quarantine, quarantine
from tapstack.cli.verify import verify
from tapstack.exits import CommandError, ExitCode
from tapstack.operate.cloud import DeployError

# What a stack operation can fail with that is the account's or the input's doing, not a bug here.
OPERATION_ERRORS = (DeployError, LookupError, ClientError, BotoCoreError, OSError, RuntimeError)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def tapstack() -> None:
    """TapStack: the payment-webhook CloudFormation stack, from code to a running stack.

    \b
    build    generate, check, report, diagram, lint, guard, package, bench
    operate  bootstrap, preflight, deploy, diff, destroy, replay, quarantine (AWS, with your credentials)
    local    up, down, deploy, send, replay, quarantine, destroy, load (the moto emulator on loopback)
    verify   a captured delivery through the receiver's checks (no AWS)

    Exit status: 0 done, 1 something was found or failed, 2 the command cannot run as asked.
    """


local.add_command(local_quarantine)
for command in (*BUILD_COMMANDS, *OPERATE_COMMANDS, quarantine, verify, local):
    tapstack.add_command(command)


def next_step(error: Exception, on_emulator: bool) -> str | None:
    """What to do about an AWS client error that says only what went wrong; None when it says enough."""
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
    except OPERATION_ERRORS as error:
        advice = next_step(error, on_emulator=arguments[:1] == ["local"])
        print(f"error: {advice or error}", file=sys.stderr)
        return ExitCode.USAGE if advice else ExitCode.FAILED
    return int(result or ExitCode.OK)
