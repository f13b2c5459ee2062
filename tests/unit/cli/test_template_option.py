"""`--template` on the stack commands: a file that is not a generated template is refused in one line,
exit 2, before any AWS call."""

import json
from pathlib import Path

import pytest

from tapstack.cli import main
from tapstack.exits import ExitCode

COMMANDS = [
    ["bootstrap"],
    ["preflight", "--env", "dev", "--params", "params/dev.json"],
    ["deploy", "--env", "dev", "--params", "params/dev.json"],
    ["diff", "--env", "dev", "--params", "params/dev.json"],
    ["destroy", "--env", "dev"],
    ["replay", "--env", "dev"],
    ["quarantine", "list", "--env", "dev"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_a_missing_template_is_refused_with_the_next_step(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "TapStack.json"

    status = main([*command, "--template", str(missing), "--region", "eu-west-1"])

    error = capsys.readouterr().err.strip()
    assert status == ExitCode.USAGE
    assert error.count("\n") == 0
    assert str(missing) in error
    assert f"tapstack generate --output {missing}" in error


def test_a_template_that_records_no_name_prefix_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"Resources": {}}), encoding="utf-8")

    status = main(["destroy", "--env", "dev", "--template", str(foreign), "--region", "eu-west-1"])

    assert status == ExitCode.USAGE
    assert "not a generated TapStack template" in capsys.readouterr().err
