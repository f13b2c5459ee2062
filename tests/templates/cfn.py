"""Helpers for reading a rendered CloudFormation template (a plain dict) in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


def walk(node: object) -> Iterator[object]:
    """Every dict, list and scalar inside node, node included."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def references(node: object) -> set[str]:
    """Logical ids node refers to through Ref, Fn::GetAtt or ${...} in Fn::Sub."""
    found: set[str] = set()
    for item in walk(node):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("Ref"), str):
            found.add(item["Ref"])
        if "Fn::GetAtt" in item:
            found.add(item["Fn::GetAtt"][0])
        if "Fn::Sub" in item:
            sub = item["Fn::Sub"]
            text, local_names = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
            for part in text.split("${")[1:]:
                name = part.split("}")[0].split(".")[0]
                if name not in local_names:
                    found.add(name)
    return found


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
