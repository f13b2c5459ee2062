"""`tapstack lint` in this process: the usage errors, which end before any tool starts, cfn-lint alone
(`--only cfn-lint`, what `make template` and the pre-commit hook run: no process, no other environment),
and the adapters' reading of a tool's result."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.lint import checkov
from tapstack.lint.cfn_lint import CfnLint
from tests.support.rules import CLEAN_TEMPLATE, FIXTURES


def lint_in_process(
    capsys: pytest.CaptureFixture[str], *arguments: str | Path
) -> subprocess.CompletedProcess[str]:
    """The command through its entry point in this process."""
    capsys.readouterr()
    status = main(["lint", *map(str, arguments)])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(["tapstack", "lint"], status, captured.out, captured.err)


def test_a_binary_file_is_named_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "template.json"
    binary.write_bytes(b'{"Resources": {}}\xff\xfe')
    result = lint_in_process(capsys, binary)
    assert result.returncode == ExitCode.USAGE
    assert (
        result.stderr
        == f"error: lint: {binary}: not a text file (byte 17 is not UTF-8); a template is JSON or YAML text\n"
    )


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("broken.json", '{"Resources": {', "cannot be parsed"),
        ("broken.yaml", "Resources: [unclosed\n", "cannot be parsed"),
        ("list.yaml", "- just\n- a list\n", "not a CloudFormation template"),
    ],
)
def test_unparseable_template_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, reason: str
) -> None:
    template = tmp_path / name
    template.write_text(text)
    result = lint_in_process(capsys, template)
    assert result.returncode == ExitCode.USAGE
    assert reason in result.stderr


def test_a_template_the_parameter_files_are_not_for_exits_2_naming_raw_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = lint_in_process(capsys, CLEAN_TEMPLATE)
    assert result.returncode == ExitCode.USAGE
    assert "which the template does not declare" in result.stderr
    assert "lint it with --raw-only" in result.stderr


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("garbage", "-x garbage: a rule setting is RULE:key=value, e.g. -x E9041:budget=1900"),
        ("E9041:budget=abc", "cfn-lint cannot run with -x E9041:budget=abc: invalid literal for int()"),
    ],
)
def test_a_rule_setting_cfn_lint_refuses_exits_2_in_one_line(
    capsys: pytest.CaptureFixture[str], setting: str, reason: str
) -> None:
    result = lint_in_process(capsys, CLEAN_TEMPLATE, "--only", "cfn-lint", "-x", setting)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.startswith(f"error: lint: {reason}")
    assert result.stderr.count("\n") == 1


def test_only_cfn_lint_lints_the_template_as_written_with_the_project_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No resolved copies (the parameter files are not for this template) and no other tool."""
    template = FIXTURES / "bad" / "E9001_stack_destroyable.yaml"
    result = lint_in_process(capsys, template, "--only", "cfn-lint")
    assert result.returncode == ExitCode.FAILED, result.stderr
    assert f"{template}:16: E9001 [cfn-lint] Resources.RetainedTable > DeletionPolicy\n" in result.stdout
    assert set(re.findall(r"^\S+:\d+: \S+ \[([\w-]+)\]", result.stdout, re.MULTILINE)) == {"cfn-lint"}
    assert result.stdout.endswith("  as written: 20 (cfn-lint: 20)\n")


def test_only_cfn_lint_on_a_clean_template_says_what_ran(capsys: pytest.CaptureFixture[str]) -> None:
    result = lint_in_process(capsys, CLEAN_TEMPLATE, "--only", "cfn-lint")
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert result.stdout == (
        f"\n{CLEAN_TEMPLATE}: clean (cfn-lint with rules/ found nothing unexplained; as written)\n"
    )


def test_rule_configuration_reaches_cfn_lint() -> None:
    template = FIXTURES / "bad" / "E9041_reserved_concurrency_budget.yaml"
    default = CfnLint().lint([template]).findings[template]
    raised = CfnLint(["E9041:budget=1900"]).lint([template]).findings[template]
    assert "E9041" in {finding.rule_id for finding in default}
    assert "E9041" not in {finding.rule_id for finding in raised}


def test_each_finding_links_the_page_about_its_property() -> None:
    template = FIXTURES / "bad" / "E9010_dynamodb_recovery_encryption.yaml"
    findings = CfnLint().lint([template]).findings[template]
    rendered = {
        finding.property_path: finding.render(Path("t.yaml"))
        for finding in findings
        if finding.rule_id == "E9010"
    }
    pitr = [text for path, text in rendered.items() if path.startswith("PointInTimeRecoverySpecification")]
    encryption = [text for path, text in rendered.items() if path.startswith("SSESpecification")]
    assert pitr
    assert encryption
    assert all("PointInTimeRecovery.html" in text and "EncryptionAtRest" not in text for text in pitr)
    assert all("EncryptionAtRest.html" in text and "PointInTimeRecovery" not in text for text in encryption)


def test_checkov_result_becomes_a_finding_with_property_and_skip_advice() -> None:
    check = json.loads(
        """{"check_id": "CKV_AWS_76", "check_name": "Ensure API Gateway has Access Logging enabled",
            "check_result": {"result": "FAILED",
                             "evaluated_keys": ["Properties/AccessLogSetting/DestinationArn"]},
            "file_line_range": [826, 883], "resource": "AWS::ApiGateway::Stage.ApiStage",
            "guideline": null}"""
    )
    finding = checkov.finding(check)
    assert (finding.line, finding.rule_id, finding.resource, finding.property_path) == (
        826,
        "CKV_AWS_76",
        "Resources.ApiStage",
        "AccessLogSetting.DestinationArn",
    )
    assert '"id": "CKV_AWS_76", "comment": "why"' in finding.advice


def test_make_template_and_the_pre_commit_hook_run_cfn_lint_as_tapstack_lint_does() -> None:
    """One cfn-lint code path, with the project's rules: no entry point runs cfn-lint's bare CLI."""
    makefile = (paths.REPOSITORY / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntemplate:", 1)[1].split("\n\n", 1)[0]
    assert "$(TAPSTACK) lint --only cfn-lint output/TapStack.json" in recipe
    configuration = yaml.safe_load((paths.REPOSITORY / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    entries = {hook["id"]: hook["entry"] for repo in configuration["repos"] for hook in repo["hooks"]}
    assert entries["cfn-lint"] == ".venv/bin/tapstack lint --only cfn-lint"
    assert not [command for command in [recipe, *entries.values()] if "bin/cfn-lint" in command]
