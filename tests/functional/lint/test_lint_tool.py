"""`tapstack lint` as `make lint` runs it: exit status, one listing for every tool, JSON and YAML input
(tests/unit/lint/test_lint_tool.py has what runs in process)."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.exits import ExitCode
from tests.support.rules import CLEAN_TEMPLATE, FIXTURES, ROOT

LINT = [str(Path(sys.executable).parent / "tapstack"), "lint"]
needs_checkov = pytest.mark.skipif(
    not paths.CHECKOV.exists(), reason=".venv-checkov is not installed (`make lint` installs it)"
)


def run_lint(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """The console script, as `make lint` runs it."""
    return subprocess.run(
        [*LINT, *map(str, arguments)], capture_output=True, text=True, check=False, cwd=ROOT
    )


@functools.cache
def lint_raw_only(template: Path) -> subprocess.CompletedProcess[str]:
    """`tapstack lint TEMPLATE --raw-only`, run once per template and test process: several tests read
    the same listing, and each run starts every tool."""
    return run_lint(template, "--raw-only")


def test_missing_template_exits_2(tmp_path: Path) -> None:
    result = run_lint(tmp_path / "absent.json")
    assert result.returncode == ExitCode.USAGE
    assert "no such template file" in result.stderr


@needs_checkov
def test_clean_template_exits_0() -> None:
    result = run_lint(CLEAN_TEMPLATE, "--raw-only")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "clean" in result.stdout


@needs_checkov
@pytest.mark.parametrize("fixture", ["E9001_stack_destroyable.yaml", "E9050_outputs_exported.json"])
def test_findings_of_every_tool_in_one_listing_exit_1(fixture: str) -> None:
    result = lint_raw_only(FIXTURES / "bad" / fixture)
    assert result.returncode == ExitCode.FAILED, result.stderr
    for tool in ("[cfn-lint]", "[checkov]", "[cdk-nag]"):
        assert tool in result.stdout
    assert "finding(s) (cfn-lint:" in result.stdout


@needs_checkov
def test_listing_names_rule_resource_property_and_fix() -> None:
    template = FIXTURES / "bad" / "E9001_stack_destroyable.yaml"
    result = lint_raw_only(template)
    assert f"{template}:16: E9001 [cfn-lint] Resources.RetainedTable > DeletionPolicy\n" in result.stdout
    assert "set it to Delete" in result.stdout
    assert (
        f"{template}:14: CKV_AWS_28 [checkov] Resources.RetainedTable > PointInTimeRecoverySpecification"
        in (result.stdout)
    )
