"""The policy tools themselves (policy/check.js on Node): cdk-nag's suppressions in the Metadata, Control
Tower's controls that cannot be suppressed, and the resolved copy passing what the template as written
cannot show (tests/unit/lint/test_policy_tools.py reads the reports in process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tapstack.lint import policy_tools, resolve
from tapstack.lint.findings import CannotLintError, Finding

# ---- The tools on a small stack: one node run for the tests below --------------------------------

SMALL_STACK = {
    "Parameters": {
        "Retention": {"Type": "Number", "Default": 14},
        "Reserved": {"Type": "Number", "Default": 0},
    },
    "Conditions": {"HasReserved": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Reserved"}, 0]}]}},
    "Resources": {
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            # A Control Tower control cannot be suppressed, even where a cdk-nag suppression names it.
            "Metadata": {
                "cdk_nag": {"rules_to_suppress": [{"id": "CT.CLOUDWATCH.PR.2", "reason": "tried, in vain"}]}
            },
            "Properties": {"RetentionInDays": {"Ref": "Retention"}},
        },
        "DeadLetters": {
            "Type": "AWS::SQS::Queue",
            "Metadata": {
                "cdk_nag": {
                    "rules_to_suppress": [{"id": "AwsSolutions-SQS3", "reason": "It is a dead-letter queue."}]
                }
            },
        },
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {"ZipFile": "def handler(event, context): pass"},
                "Handler": "index.handler",
                "Runtime": "python3.12",
                "Role": "arn:aws:iam::123456789012:role/function",
                "ReservedConcurrentExecutions": {
                    "Fn::If": ["HasReserved", {"Ref": "Reserved"}, {"Ref": "AWS::NoValue"}]
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def small_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, list[Finding]]]:
    """The small stack as written ("raw") and resolved with Retention=365, Reserved=5 ("resolved"): the
    report of policy/check.js and its findings."""
    directory = tmp_path_factory.mktemp("policy")
    raw = directory / "Small.json"
    raw.write_text(json.dumps(SMALL_STACK, indent=2))
    parameter_file = directory / "resolved.json"
    parameter_file.write_text('["Retention=365", "Reserved=5"]')
    copy = resolve.write_resolved(raw, SMALL_STACK, parameter_file)
    report = policy_tools.run([raw, copy.path])
    findings = policy_tools.findings(report, [raw, copy.path])
    return report, {"raw": findings[raw], "resolved": findings[copy.path]}


def found(findings: list[Finding], tool: str) -> set[tuple[str, str]]:
    return {(finding.rule_id, finding.resource) for finding in findings if finding.tool == tool}


def test_a_cdk_nag_suppression_in_the_metadata_answers_that_rule_on_that_resource(
    small_stack: tuple[Any, dict[str, list[Finding]]],
) -> None:
    report, findings = small_stack
    for variant in ("raw", "resolved"):
        nag = found(findings[variant], policy_tools.CDK_NAG)
        assert ("AwsSolutions-SQS3", "Resources.Queue") in nag
        assert ("AwsSolutions-SQS3", "Resources.DeadLetters") not in nag
    suppressed = [event for event in report["cdk_nag"] if event["event"] == "suppressed"]
    assert {(event["rule_id"], event["resource"], event["reason"]) for event in suppressed} == {
        ("AwsSolutions-SQS3", "DeadLetters", "It is a dead-letter queue.")
    }
    assert len(policy_tools.suppressed(report)) == 2  # once in each template


def test_a_control_tower_control_cannot_be_suppressed_and_passes_when_resolved(
    small_stack: tuple[Any, dict[str, list[Finding]]],
) -> None:
    _, findings = small_stack
    (retention,) = [finding for finding in findings["raw"] if finding.rule_id == "CT.CLOUDWATCH.PR.2"]
    assert (retention.tool, retention.resource, retention.property_path) == (
        policy_tools.CONTROL_TOWER,
        "Resources.Logs",
        "RetentionInDays",
    )
    lines = json.dumps(SMALL_STACK, indent=2).splitlines()
    assert retention.line == lines.index('        "RetentionInDays": {') + 1
    assert "cloudwatch_log_group_retention_period_check" in retention.message
    assert "RetentionInDays" in retention.advice
    assert "cannot be suppressed" in retention.advice
    # Resolved with Retention=365, the hook would see a year's retention: the control passes.
    assert ("CT.CLOUDWATCH.PR.2", "Resources.Logs") not in found(
        findings["resolved"], policy_tools.CONTROL_TOWER
    )


def test_a_rule_that_cannot_read_fn_if_is_a_finding_and_the_resolved_template_passes(
    small_stack: tuple[Any, dict[str, list[Finding]]],
) -> None:
    _, findings = small_stack
    (concurrency,) = [
        finding for finding in findings["raw"] if finding.rule_id == "NIST.800.53.R5-LambdaConcurrency"
    ]
    assert concurrency.message.startswith("the rule could not evaluate the resource")
    assert '"id": "CdkNagValidationFailure"' in concurrency.advice
    assert '"applies_to": ["NIST.800.53.R5-LambdaConcurrency"]' in concurrency.advice
    assert ("NIST.800.53.R5-LambdaConcurrency", "Resources.Function") not in found(
        findings["resolved"], policy_tools.CDK_NAG
    )


def test_a_suppression_without_a_long_enough_reason_stops_the_lint(tmp_path: Path) -> None:
    template = tmp_path / "short.json"
    suppression = {"id": "AwsSolutions-SQS3", "reason": "no"}
    queue = {"Type": "AWS::SQS::Queue", "Metadata": {"cdk_nag": {"rules_to_suppress": [suppression]}}}
    template.write_text(json.dumps({"Resources": {"Queue": queue}}))
    with pytest.raises(CannotLintError, match="10 characters or more"):
        policy_tools.run([template])
