"""The `tapstack` command as a user runs it: its help, an example on every command, one-line errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tapstack import paths
from tapstack.cli import main, tapstack
from tapstack.exits import ExitCode
from tests.support.settings import PREFIX

TAPSTACK = Path(sys.executable).parent / "tapstack"
EXPECTED_COMMANDS = {
    "generate", "check", "lint", "guard", "package", "report", "diagram", "cost", "bench",
    "bootstrap", "preflight", "deploy", "diff", "destroy", "replay", "republish", "reconcile", "register",
    "quarantine", "object", "verify", "params", "local",
}  # fmt: skip
EXPECTED_LOCAL_COMMANDS = {
    "up", "down", "deploy", "send", "serve", "replay", "republish", "reconcile", "register", "quarantine",
    "object", "destroy", "load",
}  # fmt: skip


def test_the_console_script_lists_every_command() -> None:
    result = subprocess.run([TAPSTACK, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == EXPECTED_COMMANDS
    local_group = tapstack.get_command(click.Context(tapstack), "local")
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


def test_deploy_help_shows_an_example() -> None:
    result = subprocess.run([TAPSTACK, "deploy", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "tapstack deploy --env dev --params params/dev.json" in result.stdout


def test_an_unknown_command_is_a_usage_error() -> None:
    result = subprocess.run([TAPSTACK, "deploi"], capture_output=True, text=True, check=False)
    assert result.returncode == ExitCode.USAGE
    assert "No such command 'deploi'" in result.stderr
    assert "Traceback" not in result.stderr


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
        f"error: the emulator is not running on port {port}: start it with `make local-up LOCAL_PORT={port}` "
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
    assert errors == [f"error: stack {PREFIX}-nosuch does not exist: deploy it first (`make deploy-local`)"]


def test_no_region_names_the_flag_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Functional: without credentials, boto3's chain probes the instance metadata endpoint first."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    status = main(["replay", "--env", "dev"])
    assert status == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "error: no AWS region: pass --region, or set AWS_REGION (with make: AWS_REGION=eu-west-1)\n"
    )
