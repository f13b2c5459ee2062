"""What destroy and deploy decide from a stack's description: where COMPLIANCE retention may hold
versions (the stack tag deploy keeps), and the warning a VPC-attached stack's slow delete deserves."""

from typing import Any

import pytest

from tapstack.operate.destroy import VPC_DELETE_WARNING, compliance_configured, warn_if_vpc_attached
from tapstack.operate.stacks import tags_recording_compliance
from templates.contract import AUDIT_OBJECT_LOCK_MODE, COMPLIANCE_RETENTION_TAG

TEMPLATE = {"Parameters": {AUDIT_OBJECT_LOCK_MODE: {"Default": "NONE"}}, "Resources": {}}
OTHER_TAG = {"Key": "team", "Value": "payments"}


def given(mode: str) -> list[dict[str, Any]]:
    return [{"ParameterKey": AUDIT_OBJECT_LOCK_MODE, "ParameterValue": mode}]


KEPT = [{"ParameterKey": AUDIT_OBJECT_LOCK_MODE, "UsePreviousValue": True}]


def stack(mode: str, *tags: dict[str, str]) -> dict[str, Any]:
    return {"Parameters": given(mode), "Tags": list(tags)}


@pytest.mark.parametrize(
    ("parameters", "existing", "tags"),
    [
        (given("COMPLIANCE"), None, [COMPLIANCE_RETENTION_TAG]),
        (given("COMPLIANCE"), stack("GOVERNANCE", OTHER_TAG), [OTHER_TAG, COMPLIANCE_RETENTION_TAG]),
        (KEPT, stack("COMPLIANCE"), [COMPLIANCE_RETENTION_TAG]),  # deployed before the tag existed
        (given("GOVERNANCE"), stack("COMPLIANCE", COMPLIANCE_RETENTION_TAG), None),  # kept as it is
        (given("GOVERNANCE"), stack("NONE"), None),
        ([], None, None),  # the template's default, NONE
    ],
)
def test_deploy_tags_a_stack_once_it_configures_compliance_and_never_untags_it(
    parameters: list[dict[str, Any]], existing: dict[str, Any] | None, tags: list[dict[str, str]] | None
) -> None:
    assert tags_recording_compliance(TEMPLATE, parameters, existing) == tags


@pytest.mark.parametrize(
    ("configuration", "tags", "configured"),
    [
        (
            {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}},
            [],
            True,
        ),
        (
            {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
            [],
            False,
        ),
        ({"ObjectLockEnabled": "Enabled"}, [COMPLIANCE_RETENTION_TAG], True),
        ({"ObjectLockEnabled": "Enabled"}, [OTHER_TAG], False),
        ({}, [], False),
    ],
)
def test_retention_is_looked_for_only_where_compliance_was_configured(
    configuration: dict[str, Any], tags: list[dict[str, str]], configured: bool
) -> None:
    assert compliance_configured(configuration, {"Tags": tags}) is configured


class FunctionConfigurations:
    """get_function_configuration of functions attached to the given subnets (none: no VpcConfig)."""

    def __init__(self, subnets: dict[str, list[str]]) -> None:
        self._subnets = subnets

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        subnets = self._subnets[FunctionName]
        return {"VpcConfig": {"SubnetIds": subnets, "SecurityGroupIds": []}} if subnets else {}


def test_a_vpc_attached_stack_is_told_its_delete_waits_for_interface_cleanup() -> None:
    lines: list[str] = []
    attached = FunctionConfigurations({"receiver": ["subnet-0b", "subnet-0a"], "processor": ["subnet-0a"]})
    warn_if_vpc_attached(attached, ["receiver", "processor"], lines.append)
    assert lines == [VPC_DELETE_WARNING.format(subnets="subnet-0a, subnet-0b")]
    assert "20 to 45 minutes" in lines[0]

    lines.clear()
    warn_if_vpc_attached(FunctionConfigurations({"receiver": []}), ["receiver"], lines.append)
    assert lines == []
