"""The real cfn-lint, with informational checks, finds nothing in the committed template."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tapstack import paths

ROOT = paths.REPOSITORY


def test_cfn_lint_with_informational_checks_reports_nothing() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--", str(ROOT / "output" / "TapStack.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_cfn_lint_would_catch_a_seed_failure(tmp_path: Path) -> None:
    """The check above can fail: retries of 5 (a seed's mistake) make cfn-lint exit non-zero."""
    broken = tmp_path / "broken.json"
    text = (ROOT / "output" / "TapStack.json").read_text()
    broken.write_text(text.replace('"MaximumRetryAttempts": 2', '"MaximumRetryAttempts": 5'))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode & 2
    assert "E3034 5 is greater than the maximum of 2" in result.stdout
