"""The `tapstack` command as a user runs it: its help, an example on every command, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from tapstack import paths
from tapstack.cli import main, tapstack
from tapstack.exits import ExitCode

TAPSTACK = Path(sys.executable).parent / "tapstack"
EXPECTED_COMMANDS = {
    "generate", "check", "lint", "guard", "package", "report", "diagram", "bench",
    "bootstrap", "preflight", "deploy", "diff", "destroy", "replay", "local",
}  # fmt: skip
EXPECTED_LOCAL_COMMANDS = {"up", "down", "deploy", "send", "replay", "destroy", "load"}


def _leaf_commands() -> list[tuple[str, click.Command]]:
    leaves: list[tuple[str, click.Command]] = []
    for name, command in tapstack.commands.items():
        if isinstance(command, click.Group):
            leaves += [(f"{name} {sub}", subcommand) for sub, subcommand in command.commands.items()]
        else:
            leaves.append((name, command))
    return leaves


def test_the_console_script_lists_every_command() -> None:
    result = subprocess.run([TAPSTACK, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == EXPECTED_COMMANDS
    local_group = tapstack.commands["local"]
    assert isinstance(local_group, click.Group)
    assert set(local_group.commands) == EXPECTED_LOCAL_COMMANDS


@pytest.mark.parametrize(("name", "command"), _leaf_commands(), ids=[name for name, _ in _leaf_commands()])
def test_every_command_shows_an_example_that_runs_it(
    name: str, command: click.Command, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*name.split(), "--help"]) == ExitCode.OK
    shown = capsys.readouterr().out
    assert "Example" in shown
    assert f"tapstack {name}" in shown.split("Example", 1)[1]
    assert command.help


def test_deploy_help_shows_an_example() -> None:
    result = subprocess.run([TAPSTACK, "deploy", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "tapstack deploy --env dev --params params/dev.json" in result.stdout


def test_an_unknown_command_is_a_usage_error() -> None:
    result = subprocess.run([TAPSTACK, "deploi"], capture_output=True, text=True, check=False)
    assert result.returncode == ExitCode.USAGE
    assert "No such command 'deploi'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_option_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--params", "params/dev.json"]) == ExitCode.USAGE
    assert "Missing option '--env'" in capsys.readouterr().err


def test_an_unreadable_template_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = subprocess.run(
        [TAPSTACK, "report", "--template", str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.startswith(f"error: cannot read --template {broken}: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not broken.with_suffix(".md").exists()


def test_generate_py_is_the_generate_command(tmp_path: Path) -> None:
    target = tmp_path / "TapStack.json"
    script = paths.REPOSITORY / "generate.py"
    via_script = subprocess.run(
        [sys.executable, script, "--output", target], capture_output=True, text=True, check=False
    )
    assert via_script.returncode == 0, via_script.stderr
    via_command = subprocess.run(
        [TAPSTACK, "check", "--output", target], capture_output=True, text=True, check=False
    )
    assert via_command.returncode == 0, via_command.stderr
