"""The examples the project shows: the `Example:` lines of every command's --help, and the commands of
the ```sh and ```console blocks of README.md and docs/*.md (in a console block, its `$ ` lines; the
others are output, or a synopsis of make targets with [optional] parts)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

import click

from tapstack import paths
from tapstack.cli import tapstack

PAGES = [paths.REPOSITORY / "README.md", *sorted((paths.REPOSITORY / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```(sh|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)
CONTINUED = re.compile(r"\\\n\s*")  # a line ending in a backslash goes on on the next, as in a shell


@dataclass(frozen=True)
class Example:
    """One command line an example shows, and where."""

    where: str
    line: str

    @property
    def words(self) -> list[str]:
        """The command's words, without its trailing `# comment`."""
        return shlex.split(self.line, comments=True)


def commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the group, with its path of names, subgroups' commands included."""
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))


def help_examples() -> Iterator[tuple[tuple[str, ...], Example]]:
    """Each `tapstack …` line of each command's epilog (`then: …` lines too), without the comment two
    or more spaces start."""
    for path, command in commands(tapstack):
        for line in CONTINUED.sub("", command.epilog or "").splitlines():
            text = line.strip().removeprefix("then: ")
            if text.startswith("tapstack "):
                yield (
                    path,
                    Example(f"tapstack {' '.join(path)} --help", re.split(r"\s{2,}", text, maxsplit=1)[0]),
                )


def page_examples() -> Iterator[Example]:
    for page in PAGES:
        for block in SHELL_BLOCK.finditer(page.read_text(encoding="utf-8")):
            kind, text = block.groups()
            for line in CONTINUED.sub(" ", text).splitlines():
                if kind == "console" and not line.startswith("$ "):
                    continue
                command = line.removeprefix("$ ").strip() if kind == "console" else line.strip()
                if command and not command.startswith("#"):
                    yield Example(page.relative_to(paths.REPOSITORY).as_posix(), command)
