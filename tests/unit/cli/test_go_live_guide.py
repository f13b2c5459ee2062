"""docs/go-live.md holds true of the commands it names: each exists, and each option it gives them is one
their real `--help` lists."""

import re
import shlex

import pytest

from handlers.providers import stripe
from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode

GUIDE = paths.REPOSITORY / "docs" / "go-live.md"


def guide_commands() -> list[list[str]]:
    """Each `$ tapstack …` line of the guide's console blocks, as its words (comments dropped)."""
    lines = re.findall(r"^\$ (tapstack .*)$", GUIDE.read_text(encoding="utf-8"), re.MULTILINE)
    return [shlex.split(line, comments=True) for line in lines]


def test_the_guide_names_the_commands_of_every_step() -> None:
    named = {
        " ".join(word for word in words[1:] if not word.startswith("-"))[:12] for words in guide_commands()
    }
    for command in ("bootstrap", "preflight", "deploy", "diff", "verify", "replay", "quarantine"):
        assert any(entry.startswith(command) for entry in named), command


@pytest.mark.parametrize("words", guide_commands(), ids=" ".join)
def test_each_command_of_the_guide_exists_with_the_options_it_is_given(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    command = [word for word in words[1:] if not word.startswith("-")][:1]
    options = [word for word in words if word.startswith("--") and word != "--help"]

    assert main([*command, "--help"]) == ExitCode.OK
    shown = capsys.readouterr().out
    for option in options:
        assert re.search(rf"(^|\s){re.escape(option)}\b", shown), f"{' '.join(command)} has no {option}"


def test_the_guide_states_the_stripe_api_version_registration_pins() -> None:
    assert f"**{stripe.API_VERSION}**" in GUIDE.read_text(encoding="utf-8")
