"""Writing and checking the committed, generated files (tapstack.generate.generated_files)."""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from pathlib import Path

from tapstack import paths
from tapstack.exits import CommandError, ExitCode

MAX_DIFF_LINES = 60


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomically(path: Path, text: str) -> None:
    """Replace path in one step, so an interrupted run never leaves a truncated file behind.

    The file gets the mode any new file gets here (0666 less the umask), not the temporary file's 0600;
    a path that is a directory, or a directory that cannot be written, is refused with the next step.
    """
    if path.is_dir():
        raise CommandError(f"{path} is a directory: give a file path, e.g. {path / paths.TEMPLATE.name}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, delete=False, encoding="utf-8", newline="\n", prefix=f".{path.name}."
        ) as tmp:
            tmp.write(text)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror}; choose a writable --output") from error
    staged = Path(tmp.name)
    try:
        staged.chmod(0o666 & ~_umask())
        os.replace(staged, path)
    except OSError as error:
        staged.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {error.strerror}; choose a writable --output") from error


def check_current(path: Path, expected: str) -> ExitCode:
    """0 when path holds exactly `expected`; else 1, naming the file and showing how it differs."""
    try:
        actual = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"{path}: missing; run 'make template' and commit it", file=sys.stderr)
        return ExitCode.FAILED
    if actual == expected:
        print(f"{path}: up to date")
        return ExitCode.OK
    print(f"{path}: differs from what the code generates; run 'make template' and commit it", file=sys.stderr)
    diff = difflib.unified_diff(
        actual.splitlines(keepends=True),
        expected.splitlines(keepends=True),
        fromfile=f"{path} (committed)",
        tofile=f"{path} (generated)",
        n=2,
    )
    sys.stderr.writelines(list(diff)[:MAX_DIFF_LINES])
    return ExitCode.FAILED
