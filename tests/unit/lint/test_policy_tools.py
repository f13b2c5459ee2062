"""The policy tools' harness in process: resolving a template with a parameter file (tapstack/lint/resolve.py)
and reading the tools' reports into findings and explanations (tapstack/lint/policy_tools.py)."""

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
