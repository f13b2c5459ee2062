"""A stack that ran execution logging before the template declared its log group: API Gateway made the
group, and the next update must adopt it, not fail with "already exists" (tapstack/operate/adoption.py).

The emulator deploys the older template, holds the group API Gateway would have made, and answers the
detection, preflight and the import template below. It has no import change sets (moto creates a new stack
for any type but UPDATE), so the import itself is what CloudFormation documents: an IMPORT change set of
the deployed template plus the resource, each imported resource with a DeletionPolicy, identified by its
primary identifier (LogGroupName)
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html).
"""

import json
from pathlib import Path
from typing import Any

from tapstack.operate.actions import preflight_environment
from tapstack.operate.adoption import (
    EXECUTION_LOG_GROUP,
    deployed_template,
    import_template,
    unowned_execution_log_group,
)
from tapstack.operate.cloud import TEMPLATE_PATH, Clients, describe_stack
from tapstack.operate.preflight import Status
from templates.contract import API_ID
from tests.integration.conftest import (
    LOCAL_PARAMETERS,
    NAMES,
    deploy,
    on_emulator,
    tiny_artifact,
)


def _without_execution_log_group(directory: Path) -> Path:
    """The template as it was before it declared the group."""
    template: dict[str, Any] = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    del template["Resources"][EXECUTION_LOG_GROUP]
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, list) and EXECUTION_LOG_GROUP in depends:
            resource["DependsOn"] = [name for name in depends if name != EXECUTION_LOG_GROUP] or None
            if resource["DependsOn"] is None:
                del resource["DependsOn"]
    older = directory / "older.json"
    older.write_text(json.dumps(template), encoding="utf-8")
    return older


def test_a_group_api_gateway_made_is_found_and_its_import_is_prepared(
    own_emulator: Clients, tmp_path: Path
) -> None:
    older = deploy(own_emulator, "adopt", tmp_path, template_path=_without_execution_log_group(tmp_path))
    stage = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))["Resources"]["ApiStage"]["Properties"]
    group = f"API-Gateway-Execution-Logs_{older.outputs[API_ID]}/{stage['StageName']}"
    logs, cloudformation = own_emulator("logs"), own_emulator("cloudformation")
    logs.create_log_group(logGroupName=group)  # what API Gateway does on the first logged request

    results = preflight_environment(
        on_emulator(own_emulator, "adopt"), LOCAL_PARAMETERS, tiny_artifact(tmp_path)
    )

    (found,) = [result for result in results if result.check == "execution log group"]
    assert found.status is Status.WARN
    assert group in found.detail
    assert "imports it" in found.detail
    existing = describe_stack(cloudformation, NAMES.stack.for_suffix("adopt"))
    current = on_emulator(own_emulator, "adopt").template
    adoption = unowned_execution_log_group(cloudformation, logs, existing, current)
    assert adoption is not None
    assert adoption.resources_to_import() == [
        {
            "ResourceType": "AWS::Logs::LogGroup",
            "LogicalResourceId": EXECUTION_LOG_GROUP,
            "ResourceIdentifier": {"LogGroupName": group},
        }
    ]
    deployed = deployed_template(cloudformation, NAMES.stack.for_suffix("adopt"))
    combined = import_template(deployed, current, adoption)
    # Nothing but the adopted resource changes, as an import requires; it keeps its DeletionPolicy.
    assert set(combined["Resources"]) - set(deployed["Resources"]) == {EXECUTION_LOG_GROUP}
    assert {k: v for k, v in combined["Resources"].items() if k != EXECUTION_LOG_GROUP} == deployed[
        "Resources"
    ]
    assert combined["Resources"][EXECUTION_LOG_GROUP]["DeletionPolicy"] == "Delete"


def test_nothing_is_adopted_when_the_stack_owns_the_group_or_none_exists(
    own_emulator: Clients, tmp_path: Path
) -> None:
    current = deploy(own_emulator, "owned", tmp_path)
    cloudformation, logs = own_emulator("cloudformation"), own_emulator("logs")
    existing = describe_stack(cloudformation, NAMES.stack.for_suffix("owned"))
    assert unowned_execution_log_group(cloudformation, logs, existing, current.deployment.template) is None
    assert unowned_execution_log_group(cloudformation, logs, None, current.deployment.template) is None
