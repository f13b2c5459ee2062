"""Mutation tests: the failure-path and logging mistakes the stack has been rid of, put back into the
generated template, are each reported by the rule meant for them (E9031, E9023, E9024), with its id;
and the rules accept what the parameters cannot turn into the mistake.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from templates.contract import ROLES
from tests.guardrails.test_seed_mutations import Template, mutated, resources, rule_ids

ASYNC_FUNCTIONS = ("ProcessorFunction", "NotifierFunction")


def test_a_dead_letter_config_beside_the_on_failure_destination(tmp_path: Path) -> None:
    """The old template: each asynchronous function also had its queue as DeadLetterConfig."""

    def both_paths(template: Template) -> None:
        for logical_id in ASYNC_FUNCTIONS:
            queue = logical_id.replace("Function", "DeadLetterQueue")
            properties = template["Resources"][logical_id]["Properties"]
            properties["DeadLetterConfig"] = {"TargetArn": {"Fn::GetAtt": [queue, "Arn"]}}

    assert rule_ids(mutated(both_paths), tmp_path) == Counter({"E9031": 2})


def test_a_dead_letter_config_on_one_fn_if_side(tmp_path: Path) -> None:
    def conditional(template: Template) -> None:
        queue_arn = {"Fn::GetAtt": ["ProcessorDeadLetterQueue", "Arn"]}
        template["Resources"]["ProcessorFunction"]["Properties"]["DeadLetterConfig"] = {
            "Fn::If": ["HasAlarmEmail", {"TargetArn": queue_arn}, {"Ref": "AWS::NoValue"}]
        }

    assert rule_ids(mutated(conditional), tmp_path) == Counter({"E9031": 1})


def test_execution_logs_left_to_api_gateway(tmp_path: Path) -> None:
    """The old template: no API-Gateway-Execution-Logs_ group, so API Gateway made its own."""

    def undeclared(template: Template) -> None:
        del template["Resources"]["ApiExecutionLogGroup"]
        del template["Resources"]["ApiStage"]["DependsOn"]

    assert rule_ids(mutated(undeclared), tmp_path) == Counter({"E9023": 1})


def test_an_execution_log_group_the_stage_does_not_wait_for(tmp_path: Path) -> None:
    def unordered(template: Template) -> None:
        del template["Resources"]["ApiStage"]["DependsOn"]

    assert rule_ids(mutated(unordered), tmp_path) == Counter({"E9023": 1})


def test_an_execution_log_group_named_for_another_stage(tmp_path: Path) -> None:
    def misnamed(template: Template) -> None:
        group = template["Resources"]["ApiExecutionLogGroup"]["Properties"]
        group["LogGroupName"] = {"Fn::Sub": "API-Gateway-Execution-Logs_${Api}/other"}

    assert rule_ids(mutated(misnamed), tmp_path) == Counter({"E9023": 1})


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        (lambda group: group["Properties"].pop("KmsKeyId"), {"E9022": 1}),
        (lambda group: group["Properties"].pop("RetentionInDays"), {"E9022": 1}),
        (lambda group: group.update(DeletionPolicy="Retain"), {"E9001": 1}),
    ],
    ids=["unencrypted", "never-expiring", "retained"],
)
def test_a_declared_execution_log_group_must_still_be_encrypted_expiring_and_deleted(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], reported: dict[str, int]
) -> None:
    """E9023 finds the group; the rules for every log group and resource judge what it is."""

    def weaken(template: Template) -> None:
        change(template["Resources"]["ApiExecutionLogGroup"])

    assert rule_ids(mutated(weaken), tmp_path) == Counter(reported)


def test_no_execution_log_group_is_needed_when_the_parameter_cannot_turn_logging_on(tmp_path: Path) -> None:
    """The rule reads the LoggingLevel's parameter: with OFF its only allowed value, nothing is logged."""

    def logging_off_only(template: Template) -> None:
        template["Parameters"]["ApiExecutionLogging"]["AllowedValues"] = ["OFF"]
        del template["Resources"]["ApiExecutionLogGroup"]
        del template["Resources"]["ApiStage"]["DependsOn"]

    assert rule_ids(mutated(logging_off_only), tmp_path) == Counter()


def test_system_log_level_warn_drops_start_and_report(tmp_path: Path) -> None:
    """The old template: SystemLogLevel WARN on every function."""

    def warn(template: Template) -> None:
        for function in resources(template, "AWS::Lambda::Function"):
            function["Properties"]["LoggingConfig"]["SystemLogLevel"] = "WARN"

    assert rule_ids(mutated(warn), tmp_path) == Counter({"E9024": len(ROLES)})
