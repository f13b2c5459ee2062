"""Small pieces every resource module uses."""

from __future__ import annotations

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


def checkov_skips(*skips: tuple[str, str]) -> dict[str, object]:
    """Resource Metadata that skips checkov checks, each with the reason it does not apply."""
    return {"checkov": {"skip": [{"id": check_id, "comment": reason} for check_id, reason in skips]}}


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
