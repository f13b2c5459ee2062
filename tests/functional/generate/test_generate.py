"""generate.py as a user runs it: writes, checks, refuses bad settings without touching the file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tapstack import paths
from tests.support.settings import CONFIG_IN_FORCE

ROOT = paths.REPOSITORY
COMMITTED = ROOT / "output" / "TapStack.json"
TAPSTACK = Path(sys.executable).parent / "tapstack"


def run_generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_committed_json_matches_the_code() -> None:
    result = run_generate("--check")
    assert result.returncode == 0, result.stderr


def test_check_names_the_file_and_shows_the_difference(tmp_path: Path) -> None:
    stale = tmp_path / "TapStack.json"
    memory = CONFIG_IN_FORCE.receiver.memory_mb
    stale.write_text(
        COMMITTED.read_text().replace(f'"MemorySize": {memory}', f'"MemorySize": {memory + 64}', 1)
    )
    result = run_generate("--check", "--output", str(stale))
    assert result.returncode == 1
    assert str(stale) in result.stderr
    assert f'-        "MemorySize": {memory + 64},' in result.stderr
    assert f'+        "MemorySize": {memory},' in result.stderr


def test_check_reports_a_missing_file(tmp_path: Path) -> None:
    result = run_generate("--check", "--output", str(tmp_path / "absent.json"))
    assert result.returncode == 1
    assert "missing" in result.stderr


def test_writes_byte_identical_output(tmp_path: Path) -> None:
    target = tmp_path / "out" / "TapStack.json"
    assert run_generate("--output", str(target)).returncode == 0
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
    tmp_path: Path, flags: list[str], setting: str, limit: str
) -> None:
    target = tmp_path / "TapStack.json"
    target.write_text("previous\n")
    result = run_generate(*flags, "--output", str(target))
    assert result.returncode == 2
    assert f"setting '{setting}'" in result.stderr
    assert limit in result.stderr
    assert "source: https://docs.aws.amazon.com/" in result.stderr
    assert target.read_text() == "previous\n"
    assert list(tmp_path.iterdir()) == [target], "no temporary file left behind"


def test_settings_from_a_toml_file_and_flags_override_it(tmp_path: Path) -> None:
    config = tmp_path / "tap.toml"
    config.write_text("max_event_age_seconds = 7200\n[processor]\nmemory_mb = 2048\n")
    target = tmp_path / "TapStack.json"
    result = run_generate("--config", str(config), "--max-event-age-seconds", "600", "--output", str(target))
    assert result.returncode == 0, result.stderr
    text = target.read_text()
    assert '"MemorySize": 2048' in text
    assert '"MaximumEventAgeInSeconds": 600' in text


def test_unknown_setting_in_a_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "tap.toml"
    config.write_text("max_retries = 1\n")
    target = tmp_path / "TapStack.json"
    result = run_generate("--config", str(config), "--output", str(target))
    assert result.returncode == 2
    assert "setting 'max_retries'" in result.stderr
    assert "unknown setting" in result.stderr
    assert not target.exists()


AWS_SDK = re.compile(r"^import time:.*\| +(boto3|botocore)(\.|$)", re.MULTILINE)


@pytest.mark.parametrize(
    "command",
    [
        [str(ROOT / "generate.py"), "--check"],
        [str(TAPSTACK), "check"],
        [str(TAPSTACK), "report", "--check"],
    ],
    ids=["generate.py --check", "tapstack check", "tapstack report --check"],
)
def test_generating_and_checking_import_no_aws_sdk(command: list[str]) -> None:
    """These commands never call AWS: the SDK would only cost them its import time."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "import time:" in result.stderr, "-X importtime printed nothing to look through"
    assert AWS_SDK.findall(result.stderr) == []


def test_help_documents_every_setting() -> None:
    result = run_generate("--help")
    assert result.returncode == 0
    for flag in ("--max-retry-attempts", "--receiver-timeout-seconds", "--config", "--check"):
        assert flag in result.stdout
