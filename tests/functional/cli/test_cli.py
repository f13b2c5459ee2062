"""The `tapstack` command as a user runs it: its help, an example on every command, one-line errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tapstack import paths
from tapstack.cli import SUBCOMMANDS, main, tapstack
from tapstack.exits import ExitCode

TAPSTACK = Path(sys.executable).parent / "tapstack"
EXPECTED_COMMANDS = {
    "generate", "check", "lint", "guard", "package", "report", "diagram", "bench",
    "bootstrap", "preflight", "deploy", "diff", "destroy", "replay", "quarantine", "verify", "local",
}  # fmt: skip
EXPECTED_LOCAL_COMMANDS = {"up", "down", "deploy", "send", "replay", "quarantine", "destroy", "load"}


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


def test_the_console_script_lists_every_command() -> None:
    result = subprocess.run([TAPSTACK, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == EXPECTED_COMMANDS
    local_group = _commands()["local"]
    assert isinstance(local_group, click.Group)
    assert set(local_group.commands) == EXPECTED_LOCAL_COMMANDS


def test_the_listing_imports_no_command() -> None:
    """Each command's module loads when that command runs: listing them all loads none of them."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", TAPSTACK, "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    imported = {line.rpartition("|")[2].strip() for line in result.stderr.splitlines()}
    assert "tapstack.cli" in imported
    assert not {module for module in imported if module.startswith(("tapstack.cli.", "botocore", "boto3"))}


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


BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"


def test_generate_py_outside_the_venv_runs_with_the_projects_venv() -> None:
    """`python generate.py` from an interpreter without the dependencies re-runs itself with .venv."""
    result = subprocess.run(
        [BASE_PYTHON, paths.REPOSITORY / "generate.py", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--name-prefix" in result.stdout


def test_generate_py_without_any_environment_says_how_to_make_one(tmp_path: Path) -> None:
    script = tmp_path / "generate.py"
    script.write_text((paths.REPOSITORY / "generate.py").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run([BASE_PYTHON, "-I", script], capture_output=True, text=True, check=False)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.startswith("error: generate.py needs TapStack's dependencies")
    assert "run `make setup`" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_local_command_without_the_emulator_says_to_start_it(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    status = main(["local", "replay", "--port", port])
    assert status == ExitCode.USAGE
    assert capsys.readouterr().err == (
        f"error: the emulator is not running on port {port}: start it with `make local-up` "
        f"(or `tapstack local up --port {port}`)\n"
    )


def test_a_stack_that_is_not_deployed_says_to_deploy_it(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = moto_endpoint.rsplit(":", 1)[1]
    status = main(["local", "replay", "--port", port, "--env", "nosuch"])
    assert status == ExitCode.USAGE
    # the emulator's request log shares stderr in this process; the command's own output is one line
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == ["error: stack tapstack-nosuch does not exist: deploy it first (`make deploy-local`)"]


def test_no_region_names_the_flag_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    status = main(["replay", "--env", "dev"])
    assert status == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "error: no AWS region: pass --region, or set AWS_REGION (with make: AWS_REGION=eu-west-1)\n"
    )


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read the parameter file {path}: No such file or directory"),
        ('["LogRetentionDays=30",', "{path} is not valid JSON (Expecting value: line 1 column 24 (char 23))"),
        ('{"LogRetentionDays": "30"}', '{path}: expected a JSON list of "Key=Value" strings'),
        ('["LogRetentionDay=30"]', "{path} sets LogRetentionDay, which the template does not declare"),
        ('["LogRetentionDays=31"]', "{path} sets LogRetentionDays=31; allowed: 1, 3, 5, 7"),
    ],
    ids=["missing", "not-json", "not-the-format", "unknown-key", "not-allowed"],
)
def test_a_bad_parameter_file_is_refused_before_any_aws_call(
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
    recorded = template["Metadata"]["TapStack::Settings"]
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
