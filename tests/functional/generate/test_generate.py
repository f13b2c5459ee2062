"""generate.py as a user runs it, in its own process: the committed JSON is current, and generating or
checking imports no AWS SDK (the command's own behaviour is unit-tested in tests/unit/generate)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tapstack import paths

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
