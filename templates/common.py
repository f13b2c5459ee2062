"""Small pieces every resource module uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from awacs.aws import Action, Bool, Condition, Deny, Principal, Statement
from troposphere import AWSHelperFn, AWSObject, Sub

StatefulResource = TypeVar("StatefulResource", bound=AWSObject)

POLICY_VERSION = "2012-10-17"
ACCOUNT_ROOT_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"


def destroyable(resource: StatefulResource) -> StatefulResource:
    """Say in the JSON that deleting or replacing the stack deletes this resource's data.

    The stack is meant to be torn down cleanly; backups come from PITR and versioning, not from
    resources left behind.
    """
    resource.DeletionPolicy = "Delete"
    resource.UpdateReplacePolicy = "Delete"
    return resource


# cdk-nag's packs, as its rule ids begin: `AwsSolutions-IAM5`, `NIST.800.53.R5-LambdaDLQ`.
AWS_SOLUTIONS = "AwsSolutions"
SERVERLESS = "Serverless"
NIST_800_53_R5 = "NIST.800.53.R5"
PCI_DSS_321 = "PCI.DSS.321"
HIPAA_SECURITY = "HIPAA.Security"
# What cdk-nag reports when a rule throws on a resource (typically on an intrinsic it cannot read).
NAG_VALIDATION_FAILURE = "CdkNagValidationFailure"
# Ends the reason of a suppression that answers only a misreading of `Fn::If`: the policy tests strip
# these suppressions and show that the template resolved with each parameter file passes the rule.
RULE_MISREADS_FN_IF = (
    "The rule reads the Fn::If, not its value; the template resolved with each parameter file passes it."
)


def nag_rules(rule: str, *packs: str) -> tuple[str, ...]:
    """The ids of one cdk-nag rule in each of `packs`: `nag_rules("LambdaDLQ", SERVERLESS, ...)`."""
    return tuple(f"{pack}-{rule}" for pack in packs)


@dataclass(frozen=True)
class Exemption:
    """Why some scanners' checks do not apply to a resource, with the ids it answers in each tool.

    A cdk-nag id may name one finding of a rule that reports several, as the listing shows it:
    `AwsSolutions-IAM5[Resource::*]`, or the findings a /regular expression/ matches (one name as
    written and as each parameter file resolves it); `CdkNagValidationFailure[<rule id>]` answers a
    rule that could not evaluate the resource.
    """

    reason: str
    checkov: tuple[str, ...] = ()
    cdk_nag: tuple[str, ...] = ()


def exemptions(*items: Exemption) -> dict[str, object]:
    """Resource Metadata that skips the checkov checks and suppresses the cdk-nag rules of `items`, each
    with its reason (checkov and cdk-nag read these keys themselves)."""
    metadata: dict[str, object] = {}
    checkov = [{"id": check, "comment": item.reason} for item in items for check in item.checkov]
    if checkov:
        metadata["checkov"] = {"skip": checkov}
    cdk_nag = list(_nag_suppressions(items))
    if cdk_nag:
        metadata["cdk_nag"] = {"rules_to_suppress": cdk_nag}
    return metadata


def _nag_suppressions(items: Iterable[Exemption]) -> Iterable[dict[str, object]]:
    for item in items:
        for rule in item.cdk_nag:
            rule_id, _, finding = rule.partition("[")
            suppression: dict[str, object] = {"id": rule_id, "reason": item.reason}
            if finding:
                finding = finding.removesuffix("]")
                suppression["applies_to"] = [{"regex": finding} if finding.startswith("/") else finding]
            yield suppression


def account_root() -> Sub:
    return Sub(ACCOUNT_ROOT_ARN)


def deny_insecure_transport(service_prefix: str, resource_arns: list[AWSHelperFn]) -> Statement:
    """A resource-policy statement refusing every request that does not use TLS."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[Action(service_prefix, "*")],
        Resource=resource_arns,
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )
