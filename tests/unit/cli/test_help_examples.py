"""Every example in every command's `--help` holds: the command exists, each option it gives is one the
command has, and each repository file it names is there."""

import re

import click
import pytest

from tapstack import paths
from tapstack.cli import tapstack
from tests.support.examples import help_examples

# Inputs an example names that a checkout holds (build/ and output/ are what commands write).
INPUT_FILE = re.compile(r"^(events|params|tests)/\S+\.json$")


EXAMPLES = [(path, example.words) for path, example in help_examples()]


def test_every_command_with_options_shows_an_example() -> None:
    assert len(EXAMPLES) > 20


def resolved(words: list[str]) -> tuple[list[str], click.Command]:
    """The command an example runs (`tapstack local quarantine list …`) and the words after its name."""
    command: click.Command = tapstack
    rest = words[1:]
    while isinstance(command, click.Group) and rest:
        found = command.get_command(click.Context(command), rest[0])
        if found is None:
            break
        command, rest = found, rest[1:]
    return rest, command


@pytest.mark.parametrize(("path", "words"), EXAMPLES, ids=[" ".join(words) for _, words in EXAMPLES])
def test_each_help_example_names_its_command_its_options_and_files_that_exist(
    path: tuple[str, ...], words: list[str]
) -> None:
    assert words[1 : 1 + len(path)] == list(path), words  # an example of the command whose help shows it
    rest, command = resolved(words)
    assert not isinstance(command, click.Group), f"{' '.join(words)} names no command"
    names = {name for parameter in command.params for name in parameter.opts}
    for word in rest:
        option = word.split("=", 1)[0]
        if option.startswith("-"):
            assert option in names, f"{command.name} has no {option}"
        elif INPUT_FILE.match(word):
            assert (paths.REPOSITORY / word).is_file(), f"{word} does not exist"
