"""The deploy target of the local emulator: a moto server on loopback, and every detour moto needs.

Where moto cannot follow the AWS path (tapstack/operate/target.py's `AwsTarget`), `EmulatorTarget`
takes the smallest detour, each for a reason:
- moto executes change-set stacks without Outputs and without honouring DependsOn, reports change-set
  updates complete without applying them, and lists only added and removed resources in change sets:
  a new stack is made with CreateStack, and an update with UpdateStack when the template or a parameter
  value differs from what is deployed (compared here);
- moto's UpdateStack fails on UsePreviousValue for a parameter that was left at its default: kept
  values are passed as values;
- CloudFormation drops a list item whose `Fn::If` takes a `Ref: AWS::NoValue` branch; moto keeps a
  None there, so the template is deployed with those decided (`as_moto_reads_it`);
- moto's CloudFormation skips the types it does not model (tapstack/local/gaps.py, which says what makes
  up for each): the webhook secret and the API key are made beside the stack (tapstack/local/emulator.py's
  fill-ins) and removed after it, and the deploy's progress counts what the emulator made;
- moto's DeleteStack keeps a bucket that is not empty without failing and leaves most resources behind
  (buckets, table, queues, topics, functions, log groups, the REST API), and an update drops the log
  groups from the stack's resource list: they are found and deleted here, as CloudFormation does for
  `DeletionPolicy: Delete`, a bucket that is not empty failing the delete as it does there;
- moto understands path-style template URLs on `localhost` only;
- moto does not implement Lambda's GetAccountSettings, and Lambda cannot run code there: the functions
  run in this process (tapstack/local/send.py's `LocalRuntime`), nothing runs after the throttle.
The emulated account is also given what a configured real account has once: API Gateway's CloudWatch
role, and the bootstrap stack.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tapstack.cfn.model import Resolver, Template, intrinsic_name
from tapstack.local.emulator import ensure_fill_ins, remove_fill_ins
from tapstack.local.gaps import EMULATOR_GAPS
from tapstack.operate.artifacts import bootstrap
from tapstack.operate.cloud import Clients, Report, Timing, deployed_template, describe_stack
from tapstack.operate.deployment import Deployment
from tapstack.operate.destroy import LEFTOVER_PROBES, StackResource, listed_resources
from tapstack.operate.replay import Invoker
from tapstack.operate.stacks import (
    CAPABILITIES,
    EventStream,
    ResourceFailure,
    StackRequest,
    deployed_resources,
    tags_recording_compliance,
    template_parameters,
    wait_for_stack,
)
from tapstack.operate.target import DeployTarget
from templates.contract import SETTINGS_METADATA, SUFFIX_PARAMETER
from templates.naming import StackNames, names_of

# The emulator's account: fake credentials, one region, never a profile from ~/.aws.
EMULATOR_REGION = "us-east-1"
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
EMULATOR_TIMING = Timing(poll_seconds=0.05, timeout_seconds=120.0, wait_for_running_invocations=False)
# The account's, not any stack's: every stack in the emulated account logs through it.
APIGATEWAY_LOGS_ROLE = "local-apigateway-cloudwatch"

# How to delete what moto's DeleteStack leaves behind, by resource type.
Delete = Callable[[Clients, str], object]
LEFTOVER_DELETES: dict[str, Delete] = {
    "AWS::S3::Bucket": lambda c, name: c("s3").delete_bucket(Bucket=name),
    "AWS::DynamoDB::Table": lambda c, name: c("dynamodb").delete_table(TableName=name),
    "AWS::SQS::Queue": lambda c, url: c("sqs").delete_queue(QueueUrl=url),
    "AWS::SNS::Topic": lambda c, arn: c("sns").delete_topic(TopicArn=arn),
    "AWS::Lambda::Function": lambda c, name: c("lambda").delete_function(FunctionName=name),
    "AWS::Logs::LogGroup": lambda c, name: c("logs").delete_log_group(logGroupName=name),
    "AWS::ApiGateway::RestApi": lambda c, api_id: c("apigateway").delete_rest_api(restApiId=api_id),
}


def _give_api_gateway_logging_role(clients: Clients) -> None:
    """Give the emulated account API Gateway's CloudWatch role, a once-per-account setting."""
    iam = clients("iam")
    try:
        role_arn = iam.get_role(RoleName=APIGATEWAY_LOGS_ROLE)["Role"]["Arn"]
    except ClientError:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = iam.create_role(RoleName=APIGATEWAY_LOGS_ROLE, AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    clients("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
    )


_NO_VALUE = {"Ref": "AWS::NoValue"}


def as_moto_reads_it(document: dict[str, Any], parameter_values: Mapping[str, str]) -> dict[str, Any]:
    """`document` with each list item that is an `Fn::If` with a `Ref: AWS::NoValue` branch decided for
    these parameter values. CloudFormation drops the item when the branch taken is NoValue; moto keeps
    a None in its place, and an IAM role whose Policies hold one fails to create there."""
    resolver = Template(document).resolver(parameter_values)

    def decided(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: decided(item) for key, item in value.items()}
        if not isinstance(value, list):
            return value
        items = []
        for item in value:
            if intrinsic_name(item) == "Fn::If" and _NO_VALUE in item["Fn::If"][1:]:
                condition, when_true, when_false = item["Fn::If"]
                chosen = when_true if resolver.condition(condition) else when_false
                if chosen != _NO_VALUE:
                    items.append(decided(chosen))
            else:
                items.append(decided(item))
        return items

    return {key: decided(section) for key, section in document.items()}


def with_previous_values(
    parameters: list[dict[str, Any]], existing: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """UsePreviousValue replaced by the value itself (moto's UpdateStack fails on it for a default)."""
    previous = {p["ParameterKey"]: p["ParameterValue"] for p in (existing or {}).get("Parameters", [])}
    return [
        {"ParameterKey": p["ParameterKey"], "ParameterValue": previous[p["ParameterKey"]]}
        if p.get("UsePreviousValue")
        else p
        for p in parameters
    ]


def _unchanged(
    cloudformation: Any,
    name: str,
    template: dict[str, Any],
    existing: dict[str, Any],
    parameters: list[dict[str, Any]],
) -> bool:
    """The emulator's "no changes": the same template and parameter values as deployed (moto's change
    sets list added and removed resources only, so they cannot tell)."""
    current = {p["ParameterKey"]: p["ParameterValue"] for p in existing.get("Parameters", [])}
    wanted = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    return deployed_template(cloudformation, name) == template and all(
        current.get(key) == value for key, value in wanted.items()
    )


def _log_groups_moto_forgot(
    clients: Clients, stack: dict[str, Any], resources: list[StackResource]
) -> list[StackResource]:
    """The log groups of the template that moto dropped from the stack's resources when it updated the
    stack (they still exist), named as the template names them."""
    listed = {resource.logical_id for resource in resources}
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    account = clients("sts").get_caller_identity()["Account"]
    resolver = Resolver(
        parameters=parameters | {"AWS::Region": clients.region, "AWS::AccountId": account},
        physical_ids={resource.logical_id: resource.physical_id for resource in resources},
    )
    template = deployed_template(clients("cloudformation"), stack["StackName"])
    return [
        StackResource(logical_id, kind, str(resolver.resolve(resource["Properties"]["LogGroupName"])))
        for logical_id, resource in template["Resources"].items()
        if (kind := resource["Type"]) == "AWS::Logs::LogGroup" and logical_id not in listed
    ]


def emulator_clients(endpoint_url: str) -> Clients:
    """Clients of the moto server at `endpoint_url` (`http://localhost:PORT`)."""
    session = boto3.session.Session(region_name=EMULATOR_REGION, **EMULATOR_CREDENTIALS)
    return Clients(session, endpoint_url=endpoint_url)


@dataclass(frozen=True)
class EmulatorTarget:
    """The moto server at `clients.endpoint_url`, with the detours of the module docstring."""

    clients: Clients
    timing: Timing = field(default_factory=lambda: EMULATOR_TIMING)

    @classmethod
    def at(cls, endpoint_url: str) -> EmulatorTarget:
        return cls(emulator_clients(endpoint_url))

    def prepare_account(self, names: StackNames, report: Report) -> None:
        """What a real account has before its first deploy: the API Gateway role and the bootstrap stack."""
        _give_api_gateway_logging_role(self.clients)
        bootstrap(self, names, report)

    def deployable(
        self,
        template: dict[str, Any],
        overrides: dict[str, str],
        text: str,  # noqa: ARG002 (DeployTarget's signature)
    ) -> tuple[dict[str, Any], str]:
        template = as_moto_reads_it(template, overrides)
        return template, json.dumps(template, indent=2, sort_keys=True)

    def template_url(self, bucket: str, key: str) -> str:
        return f"{self.clients.endpoint_url}/{bucket}/{key}"

    def begin_change(
        self, request: StackRequest, existing: dict[str, Any] | None, report: Report
    ) -> EventStream | None:
        """CreateStack, or UpdateStack when something differs: moto's change sets cannot be trusted."""
        cloudformation = self.clients("cloudformation")
        parameters = with_previous_values(
            template_parameters(request.template, request.overrides, existing), existing
        )
        tags = tags_recording_compliance(request.template, parameters, existing)
        common = {
            "StackName": request.name,
            "Capabilities": CAPABILITIES,
            "Parameters": parameters,
            **({} if tags is None else {"Tags": tags}),
        }
        expected = deployed_resources(request.template, request.overrides)
        if existing is None:
            stack_id = cloudformation.create_stack(**common, **request.template_source)["StackId"]
            return EventStream(
                cloudformation,
                stack_id,
                len(expected),
                report,
                created_when_done=self._created(stack_id, expected),
            )
        if tags is None and _unchanged(cloudformation, request.name, request.template, existing, parameters):
            return None
        stream = EventStream(
            cloudformation, existing["StackId"], len(expected), report,
            created_when_done=self._created(existing["StackId"], expected),
        )  # fmt: skip
        stream.skip_existing()
        cloudformation.update_stack(**common, **request.template_source)
        return stream

    def _created(self, stack_id: str, expected: dict[str, str]) -> Callable[[], tuple[int, list[str]]]:
        """How many of the `expected` resources the emulator made, and lines naming those it skipped with
        what makes up for them (tapstack/local/gaps.py). moto lists a resource of a type it does not
        model without its logical id; one it made has its logical id, with or without a physical id."""

        def count() -> tuple[int, list[str]]:
            pages = (
                self.clients("cloudformation")
                .get_paginator("list_stack_resources")
                .paginate(StackName=stack_id)
            )
            listed = {item["LogicalResourceId"] for page in pages for item in page["StackResourceSummaries"]}
            skipped = Counter(kind for logical_id, kind in expected.items() if logical_id not in listed)
            created = len(expected) - sum(skipped.values())
            if not skipped:
                return created, []
            notes = [f"      the emulator created {created} of these {len(expected)}; it skipped:"]
            for gap in EMULATOR_GAPS:
                counted = [f"{kind} x{skipped.pop(kind)}" for kind in gap.types if kind in skipped]
                if counted:
                    notes.append(f"        {', '.join(counted)}: {gap.instead}")
            if skipped:
                unknown = ", ".join(f"{kind} x{n}" for kind, n in sorted(skipped.items()))
                notes.append(f"        {unknown}: not in tapstack/local/gaps.py, nothing makes up for it")
            return created, notes

        return count

    def stack_outputs(self, stack: str, environment: str, template: dict[str, Any]) -> dict[str, str]:  # noqa: ARG002 (DeployTarget's signature)
        """The stack's outputs and those of the fill-ins, made here (once)."""
        return ensure_fill_ins(self.clients, environment, template)

    def stack_resources(self, stack: dict[str, Any]) -> list[StackResource]:
        resources = listed_resources(self.clients("cloudformation"), stack["StackId"])
        return resources + _log_groups_moto_forgot(self.clients, stack, resources)

    def delete_stack(self, stack: str, resources: list[StackResource], stream: EventStream) -> str:
        """DeleteStack, then what moto left behind deleted as CloudFormation would; a bucket that is not
        empty fails the delete as it does there."""
        cloudformation = self.clients("cloudformation")
        stream.failures.clear()
        if describe_stack(cloudformation, stack) is not None:
            cloudformation.delete_stack(StackName=stream.stack_id)
            # moto fails to describe a deleted stack by id once it was updated: watch it by name
            final = wait_for_stack(cloudformation, stream, self.timing, stack)
            if final != "DELETE_COMPLETE":
                return final
        for resource in resources:
            if resource.kind not in LEFTOVER_DELETES:
                continue
            if not LEFTOVER_PROBES[resource.kind](self.clients, resource.physical_id):
                continue
            try:
                LEFTOVER_DELETES[resource.kind](self.clients, resource.physical_id)
            except ClientError as error:
                if error.response["Error"]["Code"] != "BucketNotEmpty":
                    raise
                stream.failures.append(ResourceFailure(resource.logical_id, resource.kind, str(error)))
        return "DELETE_FAILED" if stream.failures else "DELETE_COMPLETE"

    def leftover_cleanup(self, stack: str, environment: str) -> Callable[[], None]:
        """The fill-ins' removal: they are made from the deployed template, which goes with the stack."""
        template = deployed_template(self.clients("cloudformation"), stack)
        return lambda: remove_fill_ins(self.clients, environment, template)

    @contextmanager
    def invoker(self, stack: str, environment: str) -> Iterator[Invoker]:
        """The stack's functions run in this process: Lambda cannot run code in the emulator."""
        from tapstack.local.send import LocalRuntime  # noqa: PLC0415 (imports the handlers: only commands that run them load them)

        runtime = LocalRuntime.for_deployed_stack(self.clients, stack, environment)
        with runtime.activated():
            yield runtime.async_lambda()

    def lambda_account_limits(self) -> dict[str, Any] | None:
        """None: moto does not implement GetAccountSettings."""
        return None

    @property
    def supplies_verification_material(self) -> bool:
        """True: the deploy puts a local Stripe secret and PayPal webhook id in (`ensure_fill_ins`)."""
        return True


# Every status of a stack that still exists (ListStacks also lists deleted ones).
LIVE_STATUSES = [
    "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED", "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
]  # fmt: skip


def local_deployments(target: DeployTarget, template_path: Path) -> list[Deployment]:
    """Every TapStack stack on the emulator, whatever prefix or environment it was deployed with: those
    whose template records the generation settings (SETTINGS_METADATA, which only `tapstack generate`
    writes), each with the names and environment it was deployed under. The emulator is this
    checkout's (`local up` starts it from here), so these are the checkout's local stacks: an earlier
    prefix's stays running there until it is destroyed by name. Each carries its deployed template;
    `template_path` (only a deploy reads a deployment's file) is the command's own."""
    cloudformation = target.clients("cloudformation")
    deployments = []
    for page in cloudformation.get_paginator("list_stacks").paginate(StackStatusFilter=LIVE_STATUSES):
        for summary in page["StackSummaries"]:
            template = deployed_template(cloudformation, summary["StackName"])
            if SETTINGS_METADATA not in template.get("Metadata", {}):
                continue  # a bootstrap stack, or not TapStack's
            stack = describe_stack(cloudformation, summary["StackName"]) or {}
            parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
            environment = parameters.get(SUFFIX_PARAMETER)
            names = names_of(template)
            if environment is not None and names.stack.for_suffix(environment) == summary["StackName"]:
                deployments.append(Deployment(template_path, template, names, environment, target))
    return sorted(deployments, key=lambda deployment: deployment.stack)
