"""`tapstack lint`: exit status, one listing for every linter, JSON and YAML input."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.lint import checkov
from tapstack.lint.cfn_lint import CfnLint
from tests.support.rules import FIXTURES, ROOT

LINT = [str(Path(sys.executable).parent / "tapstack"), "lint"]
needs_checkov = pytest.mark.skipif(
    not paths.CHECKOV.exists(), reason=".venv-checkov is not installed (`make lint` installs it)"
)

# Control Tower's CT.KMS.PR.3 wants a key policy that limits grants to AWS services.
CLEAN_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: "kms:*"
            Resource: "*"
          - Effect: Deny
            Principal: {AWS: "*"}
            Action: kms:CreateGrant
            Resource: "*"
            Condition:
              BoolIfExists:
                kms:GrantIsForAWSResource: "false"
                aws:PrincipalIsAWSService: "false"
"""


def run_lint(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """The console script, as `make lint` runs it."""
    return subprocess.run(
        [*LINT, *map(str, arguments)], capture_output=True, text=True, check=False, cwd=ROOT
    )


@functools.cache
def lint_raw_only(template: Path) -> subprocess.CompletedProcess[str]:
    """`tapstack lint TEMPLATE --raw-only`, run once per template and test process: several tests read
    the same listing, and each run starts every linter."""
    return run_lint(template, "--raw-only")


def lint_in_process(
    capsys: pytest.CaptureFixture[str], *arguments: str | Path
) -> subprocess.CompletedProcess[str]:
    """The command through its entry point in this process: for the usage errors, which end before any
    linter starts, without a process's start-up."""
    capsys.readouterr()
    status = main(["lint", *map(str, arguments)])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(["tapstack", "lint"], status, captured.out, captured.err)


def test_missing_template_exits_2(tmp_path: Path) -> None:
    result = run_lint(tmp_path / "absent.json")
    assert result.returncode == ExitCode.USAGE
    assert "no such template file" in result.stderr


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


@needs_checkov
def test_clean_template_exits_0(tmp_path: Path) -> None:
    template = tmp_path / "clean.yaml"
    template.write_text(CLEAN_TEMPLATE)
    result = run_lint(template, "--raw-only")
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


def test_rule_configuration_reaches_cfn_lint() -> None:
    template = FIXTURES / "bad" / "E9041_reserved_concurrency_budget.yaml"
    default = CfnLint().lint([template]).findings[template]
    raised = CfnLint(["E9041:budget=1900"]).lint([template]).findings[template]
    assert "E9041" in {finding.rule_id for finding in default}
    assert "E9041" not in {finding.rule_id for finding in raised}


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


def test_a_template_the_parameter_files_are_not_for_exits_2_naming_raw_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "clean.yaml"
    template.write_text(CLEAN_TEMPLATE)
    result = lint_in_process(capsys, template)
    assert result.returncode == ExitCode.USAGE
    assert "which the template does not declare" in result.stderr
    assert "lint it with --raw-only" in result.stderr
