"""The AWS Control Tower proactive controls this stack meets only with some parameter values, or not at all.

Control Tower runs its proactive controls as CloudFormation hooks on each resource's resolved
properties; they cannot be suppressed, so a stack failing one does not deploy where it is enabled.
The stack meets every other control that applies to its resources whatever the parameters. For each of
these, the template's Metadata (`TapStack::ControlTower`) says which parameter values meet it
(params/landing-zone.json sets them all), or why the stack cannot; `tapstack lint` accepts a finding
only when this table explains it, and the report and docs/guardrails.md list the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from troposphere import AWSObject

from templates.parameters import StackParameters
from templates.storage import ACCESS_LOG_DESTINATION_DOC

# Control Tower's CT.CLOUDWATCH.PR.2: a year of retention.
YEAR_OF_LOG_RETENTION_DAYS = 365


@dataclass(frozen=True)
class ControlGap:
    """A control some of the stack's resources fail with some parameter values, and what to do."""

    control: str
    resources: tuple[AWSObject, ...]
    reason: str
    # The parameter values that meet it; None when no value does.
    met_by: str | None = None

    def metadata(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "Resources": sorted(resource.title for resource in self.resources),
            "Reason": self.reason,
        }
        if self.met_by is not None:
            entry["MetBy"] = self.met_by
        return entry


def control_tower_gaps(
    params: StackParameters,
    log_groups: Iterable[AWSObject],
    api_stage: AWSObject,
    functions: Iterable[AWSObject],
    access_log_bucket: AWSObject,
) -> list[ControlGap]:
    return [
        ControlGap(
            "CT.CLOUDWATCH.PR.2",
            tuple(log_groups),
            "Every log group keeps its logs for LogRetentionDays; a shorter retention (dev keeps 14 days) "
            "saves storage where a year of logs is not required.",
            met_by=f"{params.log_retention_days.title} of {YEAR_OF_LOG_RETENTION_DAYS} or more",
        ),
        ControlGap(
            "CT.APIGATEWAY.PR.1",
            (api_stage,),
            "Execution logging needs the account-level API Gateway CloudWatch role, which this stack "
            "never takes over, so it is off unless the parameter asks for it.",
            met_by=f"{params.api_execution_logging.title} ERROR or INFO",
        ),
        ControlGap(
            "CT.LAMBDA.PR.3",
            tuple(functions),
            "The functions call only AWS APIs; attaching them to a VPC needs the organisation's subnets, "
            "security groups and VPC endpoints, which only it can give.",
            met_by=f"{params.vpc_subnet_ids.title} and {params.vpc_security_group_ids.title}",
        ),
        ControlGap(
            "CT.S3.PR.2",
            (access_log_bucket,),
            "This bucket is where S3 delivers the audit bucket's server access logs; S3 advises against "
            "logging a destination bucket, since its own logs would need yet another bucket (or loop into "
            f"itself) ({ACCESS_LOG_DESTINATION_DOC}).",
        ),
        ControlGap(
            "CT.S3.PR.9",
            (access_log_bucket,),
            "S3 cannot deliver server access logs to a bucket with Object Lock enabled "
            f"({ACCESS_LOG_DESTINATION_DOC}); the audit bucket itself has Object Lock.",
        ),
        ControlGap(
            "CT.S3.PR.10",
            (access_log_bucket,),
            "S3 delivers server access logs only to a bucket whose default encryption is SSE-S3 (AES256), "
            f"not SSE-KMS ({ACCESS_LOG_DESTINATION_DOC}); the audit bucket itself uses the stack's key.",
        ),
    ]


def gaps_metadata(gaps: Iterable[ControlGap]) -> dict[str, dict[str, object]]:
    return {gap.control: gap.metadata() for gap in gaps}
