"""The rules' shared reading of intrinsic functions (tapstack.lint.rules.helpers), on values the fixtures
do not isolate."""

from __future__ import annotations

from typing import Any

import pytest

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    NumberRange,
    branches,
    includes_environment_suffix,
    number_range,
    referenced_names,
    string_forms,
)


class FakeTemplate:
    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template


TEMPLATE = FakeTemplate(
    {
        "Parameters": {
            "EnvironmentSuffix": {"Type": "String"},
            "Retries": {"Type": "Number", "MinValue": 0, "MaxValue": 2, "Default": 1},
            "Ages": {"Type": "Number", "AllowedValues": [60, "3600"]},
            "Open": {"Type": "Number", "Default": 5},
        },
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    }
)


@pytest.mark.parametrize(
    ("value", "forms"),
    [
        ("plain", ["plain"]),
        ({"Ref": "EnvironmentSuffix"}, ["${EnvironmentSuffix}"]),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, ["${Queue.Arn}"]),
        ({"Fn::GetAtt": "Queue.Arn"}, ["${Queue.Arn}"]),
        ({"Fn::Sub": "q-${EnvironmentSuffix}"}, ["q-${EnvironmentSuffix}"]),
        ({"Fn::Sub": ["q-${S}", {"S": {"Ref": "EnvironmentSuffix"}}]}, ["q-${EnvironmentSuffix}"]),
        ({"Fn::Sub": ["${!S}-${S}", {"S": "x"}]}, ["${!S}-x"]),
        ({"Fn::Sub": ["${S}-${S}", {"S": {"Fn::If": ["C", "a", "b"]}}]}, ["a-a", "b-b"]),
        ({"Fn::Join": ["-", ["q", {"Ref": "EnvironmentSuffix"}]]}, ["q-${EnvironmentSuffix}"]),
        ({"Fn::If": ["C", "a", {"Ref": "AWS::NoValue"}]}, ["a"]),
        ({"Fn::Join": ["", [{"Fn::If": ["C", "a", "b"]}, "-x"]]}, ["a-x", "b-x"]),
        ({"Fn::ImportValue": "shared"}, ["${Fn::ImportValue}"]),
    ],
)
def test_string_forms(value: Any, forms: list[str]) -> None:
    assert string_forms(value) == forms


def test_branches_follow_nested_if_and_mark_no_value() -> None:
    value = {"Fn::If": ["A", {"Fn::If": ["B", 1, 2]}, {"Ref": "AWS::NoValue"}]}
    assert [(branch.value, branch.path) for branch in branches(value, ("P",))] == [
        (1, ("P", "Fn::If", 1, "Fn::If", 1)),
        (2, ("P", "Fn::If", 1, "Fn::If", 2)),
        (NO_VALUE, ("P", "Fn::If", 2)),
    ]


@pytest.mark.parametrize(
    ("value", "expected_range"),
    [
        (2, NumberRange(2, 2)),
        ("2", NumberRange(2, 2)),
        ({"Ref": "Retries"}, NumberRange(0, 2)),
        ({"Ref": "Ages"}, NumberRange(60, 3600)),
        ({"Ref": "Open"}, NumberRange(None, None)),
        ("two", None),
        (True, None),
    ],
)
def test_number_range(value: Any, expected_range: NumberRange | None) -> None:
    assert number_range(value, TEMPLATE) == expected_range


def test_environment_suffix_through_every_form_or_a_stack_resource() -> None:
    suffixed = {"Fn::If": ["C", {"Fn::Sub": "a-${EnvironmentSuffix}"}, {"Fn::Sub": "${Queue.QueueName}-b"}]}
    assert includes_environment_suffix(suffixed, TEMPLATE, via_resources=True)
    assert not includes_environment_suffix(suffixed, TEMPLATE, via_resources=False)
    assert not includes_environment_suffix(
        {"Fn::If": ["C", "fixed", "x-${EnvironmentSuffix}"]}, TEMPLATE, via_resources=True
    )


def test_referenced_names_skip_pseudo_parameters() -> None:
    value = {"A": [{"Ref": "Queue"}, {"Fn::Sub": "${AWS::Region}-${Log.Arn}-${!Literal}"}]}
    assert referenced_names(value) == {"Queue", "Log"}
