"""`tapstack generate` (what generate.py runs): writes, checks, and refuses bad settings without touching
the file; run in this process, as generate.py runs it in its own (tests/functional/generate)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.cli import main
from tests.support.settings import CONFIG_IN_FORCE

COMMITTED = paths.TEMPLATE


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_generate(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    status = main(["generate", *args])
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def test_check_names_the_file_and_shows_the_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "TapStack.json"
    memory = CONFIG_IN_FORCE.receiver.memory_mb
    stale.write_text(
        COMMITTED.read_text().replace(f'"MemorySize": {memory}', f'"MemorySize": {memory + 64}', 1)
    )
    result = run_generate(capsys, "--check", "--output", str(stale))
    assert result.returncode == 1
    assert str(stale) in result.stderr
    assert f'-        "MemorySize": {memory + 64},' in result.stderr
    assert f'+        "MemorySize": {memory},' in result.stderr


def test_check_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_generate(capsys, "--check", "--output", str(tmp_path / "absent.json"))
    assert result.returncode == 1
    assert "missing" in result.stderr


def test_writes_byte_identical_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "TapStack.json"
    assert run_generate(capsys, "--output", str(target)).returncode == 0
    assert target.read_bytes() == COMMITTED.read_bytes()


@pytest.mark.parametrize(
    ("flags", "setting", "limit"),
    [
        (["--max-retry-attempts", "5"], "max_retry_attempts", "0 to 2"),
        (["--max-event-age-seconds", "30"], "max_event_age_seconds", "60 to 21600"),
        (["--receiver-timeout-seconds", "29"], "receiver.timeout_seconds", "29 s"),
        (["--processor-memory-mb", "64"], "processor.memory_mb", "128 to 10240"),
        (["--notifier-timeout-seconds", "901"], "notifier.timeout_seconds", "1 to 900"),
        (["--default-log-retention-days", "10"], "default_log_retention_days", "CloudWatch Logs accepts"),
        (["--runtime", "python3.9"], "runtime", "supported Python runtimes"),
        (["--architecture", "x86_64"], "architecture", "arm64"),
        (["--default-reserved-concurrency", "-1"], "default_reserved_concurrency", "0 to 1000"),
        (["--name-prefix", "Tap_Stack"], "name_prefix", "lowercase"),
    ],
)
def test_out_of_range_setting_exits_2_names_it_and_writes_nothing(
    tmp_path: Path, flags: list[str], setting: str, limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "TapStack.json"
    target.write_text("previous\n")
    result = run_generate(capsys, *flags, "--output", str(target))
    assert result.returncode == 2
    assert f"setting '{setting}'" in result.stderr
    assert limit in result.stderr
    assert "source: https://docs.aws.amazon.com/" in result.stderr
    assert target.read_text() == "previous\n"
    assert list(tmp_path.iterdir()) == [target], "no temporary file left behind"


def test_settings_from_a_toml_file_and_flags_override_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "tap.toml"
    config.write_text("max_event_age_seconds = 7200\n[processor]\nmemory_mb = 2048\n")
    target = tmp_path / "TapStack.json"
    result = run_generate(
        capsys, "--config", str(config), "--max-event-age-seconds", "600", "--output", str(target)
    )
    assert result.returncode == 0, result.stderr
    text = target.read_text()
    assert '"MemorySize": 2048' in text
    assert '"MaximumEventAgeInSeconds": 600' in text


def test_unknown_setting_in_a_config_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "tap.toml"
    config.write_text("max_retries = 1\n")
    target = tmp_path / "TapStack.json"
    result = run_generate(capsys, "--config", str(config), "--output", str(target))
    assert result.returncode == 2
    assert "setting 'max_retries'" in result.stderr
    assert "unknown setting" in result.stderr
    assert not target.exists()


def test_help_documents_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_generate(capsys, "--help")
    assert result.returncode == 0
    for flag in ("--max-retry-attempts", "--receiver-timeout-seconds", "--config", "--check"):
        assert flag in result.stdout
