"""The exit statuses of every `tapstack` command, and the error that carries one to the user."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # done: written, clean, up to date, deployed
    FAILED = 1  # ran, and found something: a finding, a failed check or step, a file out of date
    USAGE = 2  # cannot run as asked: a bad argument or setting, an unreadable input, a missing tool


class CommandError(Exception):
    """A failure the user can act on: one line naming the problem and the next step, no traceback."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
