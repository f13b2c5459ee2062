"""Helpers for reading a rendered CloudFormation template (a plain dict) in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tapstack.build.report import references, walk

__all__ = ["policy_statements", "properties_of_type", "references", "resources_of_type", "sub_text", "walk"]

Template = dict[str, Any]


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def properties_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources_of_type(template, resource_type).items()
    }


def sub_text(value: object) -> str:
    """The pattern of a Fn::Sub value (or a plain string), for name checks."""
    if isinstance(value, str):
        return value
    assert isinstance(value, dict), value
    assert "Fn::Sub" in value, value
    sub = value["Fn::Sub"]
    return sub if isinstance(sub, str) else str(sub[0])


def policy_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role logical id, statement) for every statement of every function role's inline policies."""
    for logical_id, properties in properties_of_type(template, "AWS::IAM::Role").items():
        for policy in properties.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical_id, statement
