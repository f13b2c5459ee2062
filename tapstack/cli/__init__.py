"""The `tapstack` command: build, operate and the local cloud, each command thin over its library.

`main` is the console script; it turns the errors a user can act on into one line and an exit status
from tapstack.exits, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from botocore.exceptions import BotoCoreError, ClientError

from tapstack.cli.build import BUILD_COMMANDS
from tapstack.cli.local import local
from tapstack.cli.operate import OPERATE_COMMANDS
from tapstack.exits import CommandError, ExitCode
from tapstack.operate.deploy import DeployError

# What a stack operation can fail with that is the account's or the input's doing, not a bug here.
OPERATION_ERRORS = (DeployError, LookupError, ClientError, BotoCoreError, OSError, RuntimeError)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def tapstack() -> None:
    """TapStack: the payment-webhook CloudFormation stack, from code to a running stack.

    \b
    build    generate, check, report, diagram, lint, guard, package, bench
    operate  bootstrap, preflight, deploy, diff, destroy, replay (AWS, with your credentials)
    local    up, down, deploy, send, replay, destroy, load (the moto emulator on loopback)

    Exit status: 0 done, 1 something was found or failed, 2 the command cannot run as asked.
    """


for command in (*BUILD_COMMANDS, *OPERATE_COMMANDS, local):
    tapstack.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    try:
        result = tapstack.main(
            args=list(sys.argv[1:] if argv is None else argv), prog_name="tapstack", standalone_mode=False
        )
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
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.FAILED
    return int(result or ExitCode.OK)
