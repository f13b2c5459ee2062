"""The `tapstack` command in this process: an example on every command, one-line errors, settings."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from tapstack import paths
from tapstack.cli import SUBCOMMANDS, main, tapstack
from tapstack.exits import ExitCode
from templates.contract import SETTINGS_METADATA


def _commands() -> dict[str, click.Command]:
    """Every command of the group, each imported as running it imports it."""
    context = click.Context(tapstack)
    loaded = {name: tapstack.get_command(context, name) for name in tapstack.list_commands(context)}
    return {name: command for name, command in loaded.items() if command is not None}


def _leaf_commands() -> list[tuple[str, click.Command]]:
    leaves: list[tuple[str, click.Command]] = []
    for name, command in _commands().items():
        if isinstance(command, click.Group):
            leaves += [(f"{name} {sub}", subcommand) for sub, subcommand in command.commands.items()]
        else:
            leaves.append((name, command))
    return leaves


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_the_listing_summarises_each_command_as_its_own_help_does(name: str) -> None:
    """`tapstack --help` lists the commands from a static table: it must say what each command's help says."""
    command = _commands()[name]
    listed = click.Command(name, help=SUBCOMMANDS[name].summary)
    assert listed.get_short_help_str(limit=1000) == command.get_short_help_str(limit=1000)


@pytest.mark.parametrize(("name", "command"), _leaf_commands(), ids=[name for name, _ in _leaf_commands()])
def test_every_command_shows_an_example_that_runs_it(
    name: str, command: click.Command, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*name.split(), "--help"]) == ExitCode.OK
    shown = capsys.readouterr().out
    assert "Example" in shown
    assert f"tapstack {name}" in shown.split("Example", 1)[1]
    assert command.help


def test_a_missing_option_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--params", "params/dev.json"]) == ExitCode.USAGE
    assert "Missing option '--env'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read the parameter file {path}: No such file or directory"),
        ('["LogRetentionDays=30",', "{path} is not valid JSON (Expecting value: line 1 column 24 (char 23))"),
        ('{"LogRetentionDays": "30"}', '{path}: expected a JSON list of "Key=Value" strings'),
    ],
    ids=["missing", "not-json", "not-the-format"],
)
def test_an_unreadable_parameter_file_is_refused_before_any_aws_call(
    content: str | None,
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "params.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):  # an AWS call would fail on the region first
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")

    status = main(["deploy", "--env", "dev", "--params", str(path), "--artifact", str(path)])

    error = capsys.readouterr().err
    assert status == ExitCode.USAGE
    assert error.startswith("error: " + says.format(path=path))
    assert error.endswith('; fix the file (a JSON list of "Key=Value", see params/dev.json)\n')
    assert len(error.splitlines()) == 1


@pytest.mark.parametrize("length", [27, 28, 64])
def test_a_too_long_name_prefix_exits_2_and_writes_nothing(
    length: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "TapStack.json"
    assert main(["generate", "--name-prefix", "a" * length, "--output", str(target)]) == ExitCode.USAGE
    error = capsys.readouterr().err
    assert error.startswith(f"error: setting 'name_prefix' = '{'a' * length}' is invalid: at most ")
    assert error.endswith("nothing was written\n")
    assert "Traceback" not in error
    assert list(tmp_path.iterdir()) == []


def test_the_committed_settings_file_is_read_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "tapstack.toml"
    settings.write_text('name_prefix = "acme"\n[processor]\nmemory_mb = 2048\n', encoding="utf-8")
    monkeypatch.setattr(paths, "SETTINGS", settings)
    target = tmp_path / "out" / "TapStack.json"

    assert main(["generate", "--output", str(target)]) == ExitCode.OK
    assert main(["check", "--output", str(target)]) == ExitCode.OK  # the same settings, read again

    template = json.loads(target.read_text(encoding="utf-8"))
    recorded = template["Metadata"][SETTINGS_METADATA]
    assert (recorded["name_prefix"], recorded["processor.memory_mb"]) == ("acme", 2048)
    assert "| `processor.memory_mb` | `2048` |" in target.with_suffix(".md").read_text(encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text('name_prefix = "zeta"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "--output", str(target), "--config", str(other)]) == ExitCode.FAILED
    assert main(["check", "--output", str(target), "--name-prefix", "zeta"]) == ExitCode.FAILED


def test_the_committed_settings_generate_the_committed_template() -> None:
    """`make test` checks output/TapStack.json against tapstack.toml, the file users edit."""
    assert paths.SETTINGS.is_file()
    assert main(["check"]) == ExitCode.OK


@pytest.mark.parametrize(
    ("times", "says"),
    [
        (["--since", "yesterday"], "Invalid value for '--since': 'yesterday' is not a time"),
        (["--since", "1d", "--until", "2d"], "error: --until ("),
    ],
    ids=["not-a-time", "empty-window"],
)
def test_reconcile_refuses_a_window_it_cannot_list_before_any_aws_call(
    times: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["reconcile", "--env", "dev", "--provider", "stripe", *times])
    error = capsys.readouterr().err
    assert status == ExitCode.USAGE
    assert says in error
    assert "Traceback" not in error
