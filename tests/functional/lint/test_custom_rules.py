"""The project's rules through cfn-lint's own command line, as `cfn-lint -a tapstack/lint/rules/` loads
them (tests/unit/lint/test_custom_rules.py runs each rule on its fixtures in process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.rules import FIXTURES, RULES_DIRECTORY, fixtures

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def test_good_fixtures_pass_the_whole_cfn_lint_cli() -> None:
    """The fixtures are valid templates for cfn-lint's own rules too, and `-a tapstack/lint/rules/ --` loads
    the rules."""
    result = subprocess.run(
        [CFN_LINT, "--include-checks", "I", "-a", RULES_DIRECTORY, "--", *fixtures("good")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_cli_reports_a_project_rule_with_exit_code_bitmask() -> None:
    bad = FIXTURES / "bad" / "E9001_stack_destroyable.yaml"
    result = subprocess.run(
        [CFN_LINT, "-a", RULES_DIRECTORY, "--format", "parseable", "--", bad],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode & 2, result.stderr
    assert f"{bad}:16:5:16:19:E9001:AWS::DynamoDB::Table RetainedTable: DeletionPolicy" in result.stdout
