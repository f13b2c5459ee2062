"""Adopting the execution-log group API Gateway made before the stack declared it.

With execution logging on, API Gateway creates `API-Gateway-Execution-Logs_<rest api id>/<stage>` itself
when the stack does not declare it (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
A stack that ran so and is updated to a template declaring the group fails ("already exists") and rolls
back. Deleting the group first races live traffic: the next logged request makes it again. Instead, deploy
imports the live group into the stack first, with an import change set of the deployed template plus
that one resource (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html),
then updates as usual: the group is never absent, so nothing races.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from tapstack.cfn.model import Template
from tapstack.operate.cloud import DeployError, Report, Timing
from tapstack.operate.destroy import listed_resources, log_groups_named
from tapstack.operate.stacks import (
    SUCCEEDED,
    EventStream,
    create_change_set,
    failure_message,
    wait_for_stack,
)

EXECUTION_LOG_GROUP = "ApiExecutionLogGroup"
REST_API = "Api"


@dataclass(frozen=True)
class Adoption:
    """A live log group the template declares and the stack does not own yet."""

    logical_id: str
    log_group_name: str

    def resources_to_import(self) -> list[dict[str, Any]]:
        return [
            {
                "ResourceType": "AWS::Logs::LogGroup",
                "LogicalResourceId": self.logical_id,
                "ResourceIdentifier": {"LogGroupName": self.log_group_name},
            }
        ]


def unowned_execution_log_group(
    cloudformation: Any, logs: Any, existing: dict[str, Any] | None, template: dict[str, Any]
) -> Adoption | None:
    """The execution-log group to adopt before updating `existing` to `template`, if there is one."""
    if existing is None or EXECUTION_LOG_GROUP not in template.get("Resources", {}):
        return None
    owned = {
        resource.logical_id: resource.physical_id
        for resource in listed_resources(cloudformation, existing["StackId"])
    }
    if EXECUTION_LOG_GROUP in owned or REST_API not in owned:
        return None
    declared = template["Resources"][EXECUTION_LOG_GROUP]["Properties"]["LogGroupName"]
    name = Template(template).resolver(physical_ids={REST_API: owned[REST_API]}).resolve(declared)
    return Adoption(EXECUTION_LOG_GROUP, name) if name in log_groups_named(logs, name) else None


def import_template(deployed: dict[str, Any], template: dict[str, Any], adoption: Adoption) -> dict[str, Any]:
    """The deployed template with the adopted resource added and nothing else changed, as an import
    change set requires; the resource keeps its DeletionPolicy (required for an import)."""
    adopted = copy.deepcopy(template["Resources"][adoption.logical_id])
    if "DeletionPolicy" not in adopted:
        raise DeployError(f"{adoption.logical_id} has no DeletionPolicy, which an import requires")
    combined = copy.deepcopy(deployed)
    combined["Resources"][adoption.logical_id] = adopted
    return combined


def deployed_template(cloudformation: Any, stack: str) -> dict[str, Any]:
    body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    return dict(json.loads(body) if isinstance(body, str) else body)


def adopt(
    cloudformation: Any,
    existing: dict[str, Any],
    adoption: Adoption,
    template_url: str,
    report: Report,
    timing: Timing,
) -> None:
    """Import the live group into the stack (its parameters kept) and wait for it."""
    stack = existing["StackName"]
    report(
        f"stack {stack}: importing {adoption.log_group_name} (made by API Gateway) as {adoption.logical_id}"
    )
    change_set = create_change_set(
        cloudformation,
        stack,
        {"TemplateURL": template_url},
        [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in existing.get("Parameters", [])
        ],
        "IMPORT",
        timing,
        resources_to_import=adoption.resources_to_import(),
    )
    if change_set is None:
        raise DeployError(f"the import change set for {adoption.log_group_name} changed nothing")
    stream = EventStream(cloudformation, existing["StackId"], 1, report)
    stream.skip_existing()
    cloudformation.execute_change_set(ChangeSetName=change_set["ChangeSetId"], StackName=stack)
    final = wait_for_stack(cloudformation, stream, timing)
    if final not in SUCCEEDED:
        raise DeployError(failure_message(stack, final, stream))
