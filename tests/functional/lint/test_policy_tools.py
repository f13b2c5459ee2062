"""The policy-as-code harness (tapstack/lint/policy_tools.py, policy/check.js): resolving a template with a
parameter file, reading the tools' reports into findings, and the suppressions in the Metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from tapstack import paths
from tapstack.cfn.model import UnresolvableError, intrinsic_name, read_template, walk
from tapstack.lint import policy_tools, resolve
from tapstack.lint.findings import CannotLintError, Finding
from tapstack.parameter_files import load_parameter_file
from templates.common import RULE_MISREADS_FN_IF

CONDITIONS = {
    "HasReserved": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Reserved"}, 0]}]},
    "HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]},
}
PARAMETERS = {
    "Retention": {"Type": "Number", "Default": 14},
    "Reserved": {"Type": "Number", "Default": 0},
    "Email": {"Type": "String", "Default": ""},
    "Suffix": {"Type": "String"},
}


def resolved(resources: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, Any]:
    document = {"Parameters": PARAMETERS, "Conditions": CONDITIONS, "Resources": resources}
    return resolve.resolve(document, overrides or {})[0]


def test_a_false_condition_leaves_the_resource_out_and_a_true_one_loses_its_condition() -> None:
    resources = {"Subscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasEmail"}}
    assert resolved(resources)["Resources"] == {}
    assert resolved(resources, {"Email": "ops@example.com"})["Resources"] == {
        "Subscription": {"Type": "AWS::SNS::Subscription"}
    }


def test_fn_if_becomes_its_branch_and_no_value_removes_the_property() -> None:
    reserved = {"Fn::If": ["HasReserved", {"Ref": "Reserved"}, {"Ref": "AWS::NoValue"}]}
    resources = {"Function": {"Type": "AWS::Lambda::Function", "Properties": {"Reserved": reserved}}}
    assert resolved(resources)["Resources"]["Function"]["Properties"] == {}
    assert resolved(resources, {"Reserved": "5"})["Resources"]["Function"]["Properties"] == {"Reserved": 5}


def test_parameters_become_their_values_typed_and_in_sub_texts() -> None:
    properties = {
        "RetentionInDays": {"Ref": "Retention"},
        "Name": {"Fn::Sub": "logs-${Retention}-${!Literal}"},
        "Arn": {"Fn::Sub": "arn:${AWS::Partition}:logs:::${Retention}/${Bucket}"},
    }
    resources = {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": properties}}
    assert resolved(resources, {"Retention": "365"})["Resources"]["Logs"]["Properties"] == {
        "RetentionInDays": 365,
        "Name": "logs-365-${Literal}",
        # The partition is the hook's (aws); the bucket's name is not known (no BucketName).
        "Arn": {"Fn::Sub": "arn:aws:logs:::365/${Bucket}"},
    }


def test_references_to_resources_and_parameters_nothing_gives_stay() -> None:
    properties = {
        "Bucket": {"Ref": "Bucket"},
        "Arn": {"Fn::GetAtt": ["Bucket", "Arn"]},
        "Name": {"Fn::Sub": "tapstack-${Suffix}"},
    }
    document = {"Parameters": PARAMETERS, "Resources": {"Policy": {"Type": "T", "Properties": properties}}}
    template, unresolved = resolve.resolve(document, {})
    assert template["Resources"]["Policy"]["Properties"] == properties
    assert unresolved == ["Suffix"]
    assert template["Parameters"] == {"Suffix": PARAMETERS["Suffix"]}
    assert "Conditions" not in template


def test_pseudo_parameters_and_bucket_names_are_what_a_hook_sees() -> None:
    bucket_name = {"Fn::Sub": "audit-${EnvironmentSuffix}"}
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket_name}}
    properties = {
        "Account": {"Ref": "AWS::AccountId"},
        "Objects": {"Fn::Sub": "${Bucket.Arn}/*"},
        "Name": {"Ref": "Bucket"},
        "Topic": {"Ref": "Topic"},
    }
    document = {
        "Parameters": {"EnvironmentSuffix": {"Type": "String"}},
        "Resources": {"Bucket": bucket, "Policy": {"Type": "T", "Properties": properties}},
    }
    # The deploy gives EnvironmentSuffix; lint takes the parameter file's name.
    template, unresolved = resolve.resolve(document, {}, environment_suffix="dev")
    assert unresolved == []
    assert template["Resources"]["Policy"]["Properties"] == {
        "Account": resolve.HOOK_PSEUDO_PARAMETERS["AWS::AccountId"],
        "Objects": "arn:aws:s3:::audit-dev/*",
        "Name": "audit-dev",
        "Topic": {"Ref": "Topic"},  # no physical name to know
    }


def test_suppressions_of_a_misread_fn_if_are_dropped_from_the_resolved_copy() -> None:
    kept = {"id": "AwsSolutions-SQS3", "reason": "This queue is a dead-letter queue."}
    misread = {"id": "AwsSolutions-APIG1", "reason": f"Behind Fn::If. {RULE_MISREADS_FN_IF}"}
    metadata = {"cdk_nag": {"rules_to_suppress": [kept, misread]}, "checkov": {"skip": []}}
    document = {"Resources": {"Stage": {"Type": "T", "Metadata": metadata}}}
    template, _ = resolve.resolve(document, {})
    assert template["Resources"]["Stage"]["Metadata"]["cdk_nag"] == {"rules_to_suppress": [kept]}
    assert document["Resources"]["Stage"]["Metadata"] == metadata  # the template as written keeps it


def test_a_condition_needing_a_value_nothing_gives_cannot_resolve() -> None:
    document = {
        "Parameters": PARAMETERS,
        "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Suffix"}, "dev"]}},
        "Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Condition": "IsDev"}},
    }
    with pytest.raises(UnresolvableError, match="Suffix"):
        resolve.resolve(document, {})


@pytest.mark.parametrize(
    ("parameter_file", "logging_level", "retention_days", "reserved", "lock_mode"),
    [("dev.json", "OFF", 14, None, None), ("prod.json", "ERROR", 365, 50, "GOVERNANCE")],
)
def test_the_stack_as_each_parameter_file_resolves_it(
    parameter_file: str, logging_level: str, retention_days: int, reserved: int | None, lock_mode: str | None
) -> None:
    document = read_template(paths.TEMPLATE)
    template, unresolved = resolve.resolve(
        document, load_parameter_file(paths.PARAMS / parameter_file, document)
    )
    resources = template["Resources"]
    assert resources["ApiStage"]["Properties"]["MethodSettings"][0]["LoggingLevel"] == logging_level
    assert resources["ReceiverLogGroup"]["Properties"]["RetentionInDays"] == retention_days
    assert resources["ReceiverFunction"]["Properties"].get("ReservedConcurrentExecutions") == reserved
    lock = resources["AuditBucket"]["Properties"]["ObjectLockConfiguration"]
    assert lock.get("Rule", {}).get("DefaultRetention", {}).get("Mode") == lock_mode
    assert "AlarmEmailSubscription" not in resources  # no AlarmEmail in either file
    assert not [node for node in walk(template) if intrinsic_name(node) == "Fn::If"]
    assert unresolved == ["CodeS3Bucket", "CodeS3Key", "EnvironmentSuffix"]  # what the deploy supplies


def test_write_resolved_writes_the_copy_under_build_and_refuses_a_foreign_parameter_file(
    tmp_path: Path,
) -> None:
    document = read_template(paths.TEMPLATE)
    copy = resolve.write_resolved(paths.TEMPLATE, document, paths.PARAMS / "dev.json")
    assert copy.path == paths.BUILD / "policy" / "TapStack.dev.json"
    written = json.loads(copy.path.read_text())
    assert written["Resources"]["ReceiverLogGroup"]["Properties"]["RetentionInDays"] == 14
    foreign = tmp_path / "other.json"
    foreign.write_text('["Unknown=1"]')
    with pytest.raises(CannotLintError, match="sets Unknown, which the template does not declare"):
        resolve.write_resolved(paths.TEMPLATE, document, foreign)


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


# ---- Reading the reports: shapes as the tools print them ----------------------------------------

STACK_TEXT = """{
  "Resources": {
    "Key": {
      "Type": "AWS::KMS::Key",
      "Properties": {
        "KeyPolicy": {
          "Statement": [
            {"Effect": "Allow"},
            {"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"]}
          ]
        }
      }
    },
    "Role": {"Type": "AWS::IAM::Role"}
  }
}
"""


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, dict[Path, Any], dict[Path, Path]]:
    template = tmp_path / "Stack.json"
    template.write_text(STACK_TEXT)
    return template, {template: decode(str(template))[0]}, {template.resolve(): template}


def violation(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "\n  [CT.KMS.PR.3]: Require a KMS key policy to have a statement limiting grants\n  ",
        "fix": "Configure a KMS key policy statement\n that denies kms:CreateGrant.",
        "ruleName": "kms_create_grant_aws_service_check",
        "violatingResources": list(resources),
    }


def test_a_control_tower_violation_becomes_one_finding_per_resource_with_its_properties(
    stack: tuple[Path, dict[Path, Any], dict[Path, Path]],
) -> None:
    template, decoded, by_path = stack
    located = {
        "resourceLogicalId": "Key",
        "templatePath": str(template),
        "locations": [
            "/Resources/Key/Properties/KeyPolicy/Statement/1",
            "/Resources/Key/Properties/KeyPolicy/Statement/1/Principal",
            "/Resources/Key/Properties/KeyPolicy/Statement/1/Principal",
        ],
    }
    # The validator leaves some clauses unattributed: they belong to the resource it named.
    unattributed = {"templatePath": str(template), "locations": ["", ""]}
    report = {"violations": [violation(located, unattributed)]}
    ((path, finding),) = policy_tools.control_tower_findings(report, decoded, by_path)
    assert path == template
    assert finding == Finding(
        line=9,
        tool="control-tower",
        rule_id="CT.KMS.PR.3",
        resource="Resources.Key",
        property_path="KeyPolicy.Statement.1.Principal",
        message="Require a KMS key policy to have a statement limiting grants "
        "(cfn-guard rule kms_create_grant_aws_service_check)",
        advice="fix: Configure a KMS key policy statement that denies kms:CreateGrant.\n"
        "    a Control Tower control runs as a CloudFormation hook: it cannot be suppressed",
    )


def test_many_properties_read_as_their_common_parent_and_an_unattributed_violation_stays(
    stack: tuple[Path, dict[Path, Any], dict[Path, Path]],
) -> None:
    template, decoded, by_path = stack
    prefix = "/Resources/Key/Properties/KeyPolicy/Statement"
    many = [f"{prefix}/0/Effect", f"{prefix}/1/Effect", f"{prefix}/1/Principal", f"{prefix}/1/Action/1"]
    located = {"resourceLogicalId": "Key", "templatePath": str(template), "locations": many}
    alone = {"templatePath": str(template), "locations": [""]}
    (named,) = policy_tools.control_tower_findings({"violations": [violation(located)]}, decoded, by_path)
    assert named[1].property_path == "KeyPolicy.Statement"
    assert named[1].line == 7
    ((_, unattributed),) = policy_tools.control_tower_findings(
        {"violations": [violation(alone)]}, decoded, by_path
    )
    assert (unattributed.resource, unattributed.line) == ("(template)", 1)


def nag_event(event: str, **fields: str) -> dict[str, str]:
    return {
        "event": event,
        "template": "",
        "resource": "Role",
        "rule_id": "AwsSolutions-IAM5",
        "level": "Error",
        "info": "The IAM entity contains wildcard permissions.",
        "explanation": "Least privilege.",
        **fields,
    }


def test_cdk_nag_events_become_findings_with_the_suppression_that_would_answer_them(
    stack: tuple[Path, dict[Path, Any], dict[Path, Path]],
) -> None:
    template, decoded, by_path = stack
    events = [
        nag_event("non-compliance", template=str(template), finding_id="Resource::*"),
        nag_event(
            "suppressed", template=str(template), finding_id="Action::s3:*", reason="Scoped by prefix."
        ),
    ]
    ((path, finding),) = policy_tools.cdk_nag_findings(events, decoded, by_path)
    assert path == template
    assert (finding.line, finding.tool, finding.rule_id, finding.resource) == (
        14,
        "cdk-nag",
        "AwsSolutions-IAM5[Resource::*]",
        "Resources.Role",
    )
    assert finding.message == "The IAM entity contains wildcard permissions. (Error)"
    suppression = json.loads(finding.advice.split("Metadata: ", 1)[1])
    assert suppression == {
        "cdk_nag": {
            "rules_to_suppress": [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "why (10 characters or more)",
                    "applies_to": ["Resource::*"],
                }
            ]
        }
    }


def _control_finding(control: str, resource: str) -> Finding:
    return Finding(
        1, policy_tools.CONTROL_TOWER, control, f"Resources.{resource}", "", "text", "fix: something"
    )


def test_control_tower_findings_are_explained_by_the_metadata_or_by_the_resolved_copies() -> None:
    gaps = {
        "CT.LAMBDA.PR.3": {"Resources": ["Function"], "Reason": "why", "MetBy": "VpcSubnetIds"},
        "CT.S3.PR.10": {"Resources": ["LogBucket"], "Reason": "S3 cannot"},
    }
    document = {"Metadata": {"TapStack::ControlTower": gaps}}
    raw, dev = Path("TapStack.json"), Path("TapStack.dev.json")
    by_template = {
        raw: [_control_finding("CT.S3.PR.8", "Policy"), _control_finding("CT.S3.PR.10", "LogBucket")],
        dev: [
            _control_finding("CT.LAMBDA.PR.3", "Function"),
            _control_finding("CT.S3.PR.10", "LogBucket"),
            _control_finding("CT.S3.PR.10", "AuditBucket"),  # not in the Metadata: a finding
        ],
    }

    left, explained = policy_tools.explain_control_tower(document, raw, by_template)
    assert left == {raw: [], dev: [by_template[dev][2]]}
    assert [item.explanation for item in explained[raw]] == [
        policy_tools.PASSES_RESOLVED,
        "cannot be met: S3 cannot",
    ]
    assert [item.explanation for item in explained[dev]] == [
        "met by VpcSubnetIds",
        "cannot be met: S3 cannot",
    ]

    # Where the controls are enforced, a control a parameter would meet is a finding of that file.
    left, explained = policy_tools.explain_control_tower(document, raw, by_template, enforced=True)
    assert [finding.rule_id for finding in left[dev]] == ["CT.LAMBDA.PR.3", "CT.S3.PR.10"]
    assert left[dev][0].advice.endswith("the template meets it with VpcSubnetIds")
    assert [item.explanation for item in explained[dev]] == ["cannot be met: S3 cannot"]
    assert len(explained[raw]) == 2  # the template as written is never deployed as it is
