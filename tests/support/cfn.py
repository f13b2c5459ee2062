"""What the template tests ask of a rendered template beyond `tapstack.cfn.model`: a name's Fn::Sub
pattern, and the statements of the function roles' inline policies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tapstack.cfn.model import Template, sub_parts

BUCKET_NOT_EMPTY = (
    'Resource handler returned message: "The bucket you tried to delete is not empty (Service: S3, '
    'Status Code: 409, Request ID: R)" (RequestToken: T, HandlerErrorCode: GeneralServiceException)'
)
"""How CloudFormation's S3 bucket handler reports, in a stack event, a bucket that is not empty."""


def sub_text(value: object) -> str:
    """The pattern of a Fn::Sub value (or a plain string), for name checks."""
    if isinstance(value, str):
        return value
    assert isinstance(value, dict), value
    assert "Fn::Sub" in value, value
    parts = sub_parts(value["Fn::Sub"])
    assert parts is not None, value
    return parts[0]


def policy_statements(document: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role logical id, statement) for every statement of every function role's inline policies,
    those of a policy behind Fn::If included."""
    for logical_id, properties in Template(document).properties_of_type("AWS::IAM::Role").items():
        for entry in properties.get("Policies", []):
            branches = entry["Fn::If"][1:] if "Fn::If" in entry else [entry]
            for policy in branches:
                if policy != {"Ref": "AWS::NoValue"}:
                    for statement in policy["PolicyDocument"]["Statement"]:
                        yield logical_id, statement
