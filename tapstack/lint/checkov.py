"""checkov, from its own environment (.venv-checkov: it pins an older boto3 than the project's).

`checkov --framework cloudformation --skip-download -f TEMPLATE`, one template a run. A check that does
not fit the stack is skipped in the resource's Metadata with a reason:
`{"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "why"}]}}`; a finding's advice says what to set,
or how to skip it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

from tapstack import paths
from tapstack.lint.findings import CannotLintError, Finding, Report, parse_json, run_tool

NAME: Final = "checkov"

# What to do about the checkov checks that concern this stack, where checkov's own name only says
# what it wants (see docs in FIELD-NOTES); anything else points at checkov's policy index.
ADVICE = {
    "CKV_AWS_7": "set EnableKeyRotation: true on the KMS key",
    "CKV_AWS_18": "set LoggingConfiguration.DestinationBucketName to the access-log bucket",
    "CKV_AWS_21": "set VersioningConfiguration.Status: Enabled",
    "CKV_AWS_26": "set KmsMasterKeyId on the topic (Fn::GetAtt Key.Arn)",
    "CKV_AWS_27": "set KmsMasterKeyId on the queue; SqsManagedSseEnabled does not count",
    "CKV_AWS_28": "set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true",
    "CKV_AWS_59": "set ApiKeyRequired: true or an AuthorizationType other than NONE",
    "CKV_AWS_66": "set RetentionInDays on the log group",
    "CKV_AWS_73": "set TracingEnabled: true on the stage",
    "CKV_AWS_76": "set AccessLogSetting.DestinationArn (and Format) on the stage",
    "CKV_AWS_115": "set ReservedConcurrentExecutions, or skip: reservations are opt-in here (W9040)",
    "CKV_AWS_116": "skip with the reason: failures go to an EventInvokeConfig OnFailure destination (a "
    "DeadLetterConfig beside it doubles each failure, E9031), or the function is invoked synchronously",
    "CKV_AWS_117": "set VpcConfig, or skip with the reason the function needs no VPC",
    "CKV_AWS_119": "set SSESpecification.KMSMasterKeyId to the stack's key",
    "CKV_AWS_120": "set CacheClusterEnabled: true, or skip with the reason a cache does not fit",
    "CKV_AWS_158": "set KmsKeyId on the log group (Fn::GetAtt Key.Arn)",
    "CKV_AWS_173": "set KmsKeyArn on the function that has Environment variables",
}
POLICY_INDEX = "https://www.checkov.io/5.Policy%20Index/cloudformation.html"


class Checkov:
    """checkov's CloudFormation checks."""

    name: ClassVar[str] = NAME
    tools: ClassVar[tuple[str, ...]] = (NAME,)
    title: ClassVar[str] = NAME
    lints_resolved_copies: ClassVar[bool] = False

    def lint(self, files: Sequence[Path]) -> Report:
        return Report({file: sorted(_run(file)) for file in files})


def _run(template: Path) -> list[Finding]:
    if not paths.CHECKOV.exists():
        raise CannotLintError(f"{paths.CHECKOV} is missing: run `make lint` once (it installs .venv-checkov)")
    completed = run_tool(
        [
            paths.CHECKOV,
            "--framework",
            "cloudformation",
            "--skip-download",
            "--quiet",
            "--compact",
            "--output",
            "json",
            "--file",
            template.resolve(),
        ]
    )
    report = parse_json(NAME, completed)
    # One framework gives one report object; checkov prints a list when it ran several.
    reports = report if isinstance(report, list) else [report]
    parsing_errors = [
        error for part in reports for error in part.get("results", {}).get("parsing_errors", [])
    ]
    if parsing_errors:
        raise CannotLintError(f"checkov cannot parse {template}: {parsing_errors}")
    return [finding(check) for part in reports for check in part.get("results", {}).get("failed_checks", [])]


def finding(check: dict[str, Any]) -> Finding:
    """A check checkov failed, as a Finding: the fix, or how to skip it with a reason."""
    # checkov names resources "AWS::Type::Name.LogicalId" and the properties it looked at as
    # "Properties/Key/Subkey".
    resource_type, _, logical_id = str(check["resource"]).rpartition(".")
    evaluated = check.get("check_result", {}).get("evaluated_keys") or []
    properties = [key.removeprefix("Properties/").replace("/", ".") for key in evaluated]
    advice = ADVICE.get(check["check_id"], check.get("guideline") or f"see {POLICY_INDEX}")
    advice = advice if advice.startswith("see ") else f"fix: {advice}"
    skip = {"checkov": {"skip": [{"id": check["check_id"], "comment": "why"}]}}
    return Finding(
        line=int(check["file_line_range"][0]),
        tool=NAME,
        rule_id=check["check_id"],
        resource=f"Resources.{logical_id}" if logical_id else resource_type,
        property_path=", ".join(properties),
        message=f"{resource_type}: {check['check_name']}",
        advice=f"{advice}\n    or, where the check does not fit the stack, skip it with a reason in the "
        f"resource's Metadata: {json.dumps(skip)}",
    )
