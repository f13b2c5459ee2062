"""Deploy, diff and destroy a stack: the same code for AWS and for the local emulator.

Real AWS: change sets (create or update; "no changes" is a no-op), the template uploaded to the
artifact bucket first (it exceeds the 51,200-byte TemplateBody limit), stack events streamed as they
happen, and the failing resources' reasons printed when a deploy fails.

The emulator (`emulator=True`), where moto cannot follow that path, takes the smallest detour:
moto executes change-set stacks without Outputs and without honouring DependsOn, reports change-set
updates complete without applying them, and lists only added and removed resources in change sets.
So a new stack is made with CreateStack, and an update with UpdateStack when the template or a
parameter value differs from what is deployed (compared here). moto's DeleteStack also leaves most
resources behind (buckets, table, queues, topics, functions, log groups, the REST API); destroy
deletes those itself there, as CloudFormation does for `DeletionPolicy: Delete`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tapstack import paths
from tapstack.operate.cloud import (
    TEMPLATE_PATH,
    Clients,
    deployed_template,
    describe_stack,
    stack_outputs,
)

Report = Callable[[str], None]
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
TEMPLATE_BODY_LIMIT = 51_200
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
ADVICE = {
    "ROLLBACK_COMPLETE": "its creation failed; delete it (`tapstack destroy` with its --env, which empties "
    "its buckets first) before deploying again",
    "ROLLBACK_FAILED": "the stack could not roll back; delete it (`tapstack destroy` with its --env), then "
    "deploy again",
    "UPDATE_ROLLBACK_COMPLETE": "the update was undone and the previous version runs; fix, deploy again",
    "UPDATE_ROLLBACK_FAILED": "the rollback stopped; fix the resource named above and run "
    "`aws cloudformation continue-update-rollback --stack-name <stack>`",
    "DELETE_FAILED": "some resources could not be deleted (listed above); fix them and destroy again",
}


class DeployError(RuntimeError):
    """A deploy, diff or destroy that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Timing:
    """How often to poll and for how long; the emulator answers at once, AWS takes minutes."""

    poll_seconds: float = 5.0
    timeout_seconds: float = 3600.0


EMULATOR_TIMING = Timing(poll_seconds=0.05, timeout_seconds=120.0)


def load_parameter_file(path: Path) -> dict[str, str]:
    """A `--parameter-overrides` file of `aws cloudformation deploy`: a JSON list of "Key=Value"."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not all(isinstance(entry, str) and "=" in entry for entry in entries):
        raise DeployError(f'{path}: expected a JSON list of "Key=Value" strings')
    return dict(entry.split("=", 1) for entry in entries)


def template_parameters(
    template: dict[str, Any],
    overrides: dict[str, str],
    existing: dict[str, Any] | None,
    explicit_previous: bool = False,
) -> list[dict[str, Any]]:
    """CloudFormation Parameters: the overrides; on an update the stack's other values are kept.

    `explicit_previous` passes kept values as values rather than UsePreviousValue: moto's UpdateStack
    fails on UsePreviousValue for a parameter that was left at its default.
    """
    declared = template.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise DeployError(f"unknown parameters {unknown}; the template declares {sorted(declared)}")
    previous = {p["ParameterKey"]: p["ParameterValue"] for p in (existing or {}).get("Parameters", [])}
    parameters: list[dict[str, Any]] = []
    for key in sorted(declared):
        if key in overrides:
            parameters.append({"ParameterKey": key, "ParameterValue": overrides[key]})
        elif key in previous and explicit_previous:
            parameters.append({"ParameterKey": key, "ParameterValue": previous[key]})
        elif key in previous:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


def artifact_key(artifact: Path) -> str:
    """Content-addressed: the same code always has the same key, so an upload is done once."""
    return f"lambda-{hashlib.sha256(artifact.read_bytes()).hexdigest()}.zip"


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload_if_absent(s3: Any, bucket: str, key: str, body: bytes) -> bool:
    """Upload `body` (integrity-checked by S3) unless the key exists; True when uploaded."""
    if object_exists(s3, bucket, key):
        return False
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumSHA256=checksum)
    return True


def template_url(clients: Clients, bucket: str, key: str) -> str:
    if clients.endpoint_url is not None:  # moto understands path-style URLs on localhost only
        return f"{clients.endpoint_url}/{bucket}/{key}"
    return f"https://{bucket}.s3.{clients.region}.amazonaws.com/{key}"


def upload_template(clients: Clients, bucket: str, stack: str, text: str) -> str:
    body = text.encode()
    key = f"templates/{stack}-{hashlib.sha256(body).hexdigest()}.json"
    upload_if_absent(clients("s3"), bucket, key, body)
    return template_url(clients, bucket, key)


def artifact_bucket(cloudformation: Any, bootstrap_stack: str) -> str:
    bucket = stack_outputs(cloudformation, bootstrap_stack).get("ArtifactBucketName")
    if not bucket:
        raise DeployError(
            f"no artifact bucket: stack {bootstrap_stack} is missing; run `make bootstrap` "
            "once per account and region"
        )
    return bucket


# ---------------------------------------------------------------------------------------------- events


@dataclass
class EventStream:
    """Prints a stack's new events oldest first, each with a progress count of finished resources."""

    cloudformation: Any
    stack_id: str
    total_resources: int
    report: Report
    seen: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def _newest_first(self) -> Iterator[dict[str, Any]]:
        for page in self.cloudformation.get_paginator("describe_stack_events").paginate(
            StackName=self.stack_id
        ):
            for event in page["StackEvents"]:
                if event["EventId"] in self.seen:
                    return
                yield event

    def skip_existing(self) -> None:
        """Remember the events from before this operation, so only new ones are printed."""
        self.seen.update(event["EventId"] for event in self._newest_first())

    def poll(self) -> None:
        for event in reversed(list(self._newest_first())):
            self.seen.add(event["EventId"])
            status, logical_id = event["ResourceStatus"], event["LogicalResourceId"]
            reason = event.get("ResourceStatusReason") or ""
            if event["ResourceType"] != "AWS::CloudFormation::Stack" and status.endswith("_COMPLETE"):
                self.finished.add(logical_id)
            if status.endswith("_FAILED"):
                self.failures.append(f"{logical_id} ({event['ResourceType']}): {reason}")
            progress = f"[{len(self.finished):3d}/{self.total_resources}]"
            self.report(
                f"{progress} {event['Timestamp']:%H:%M:%S} {status:<28} {event['ResourceType']:<36} "
                f"{logical_id} {reason}".rstrip()
            )


def wait_for_stack(
    cloudformation: Any, stream: EventStream, timing: Timing, watched: str | None = None
) -> str:
    """Stream events until the stack leaves *_IN_PROGRESS; return its final status.

    `watched` is what to describe (default: the stream's stack id); a stack that no longer exists
    under that name has been deleted.
    """
    deadline = time.monotonic() + timing.timeout_seconds
    while True:
        stream.poll()
        stack = describe_stack(cloudformation, watched or stream.stack_id)
        status = "DELETE_COMPLETE" if stack is None else str(stack["StackStatus"])
        if not status.endswith("_IN_PROGRESS"):
            stream.poll()
            return status
        if time.monotonic() > deadline:
            raise DeployError(f"still {status} after {timing.timeout_seconds:.0f} s; watch it in the console")
        time.sleep(timing.poll_seconds)


def advice(stack: str, status: str) -> str:
    return ADVICE.get(status, "see the events above").replace("<stack>", stack)


def failure_message(stack: str, status: str, stream: EventStream) -> str:
    lines = [f"stack {stack} ended in {status}"]
    lines += [f"  failed: {failure}" for failure in stream.failures] or ["  (no resource reported a reason)"]
    lines.append(f"  what to do: {advice(stack, status)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- change sets


def _change_set_failure_is_empty(description: dict[str, Any]) -> bool:
    reason = str(description.get("StatusReason") or "")
    return any(text in reason for text in NO_CHANGES)


def create_change_set(
    cloudformation: Any,
    stack: str,
    source: dict[str, str],
    parameters: list[dict[str, Any]],
    change_set_type: str,
    timing: Timing,
) -> dict[str, Any] | None:
    """Create a change set and wait for it; None when it would change nothing (it is then deleted)."""
    created = cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=f"{stack}-{time.strftime('%Y%m%d%H%M%S')}",
        ChangeSetType=change_set_type,
        Capabilities=CAPABILITIES,
        Parameters=parameters,
        **source,
    )
    deadline = time.monotonic() + timing.timeout_seconds
    while True:
        description = dict(cloudformation.describe_change_set(ChangeSetName=created["Id"], StackName=stack))
        if description["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        if time.monotonic() > deadline:
            raise DeployError(f"change set {created['Id']} still {description['Status']}")
        time.sleep(timing.poll_seconds)
    if description["Status"] == "FAILED":
        if _change_set_failure_is_empty(description):
            cloudformation.delete_change_set(ChangeSetName=created["Id"], StackName=stack)
            return None
        raise DeployError(f"change set for {stack} failed: {description.get('StatusReason')}")
    return description


def change_lines(description: dict[str, Any]) -> list[str]:
    """One line per resource change: action, logical id, type, replacement."""
    lines = [f"  {'action':<8} {'resource':<40} {'type':<36} replacement"]
    for change in description.get("Changes", []):
        resource = change["ResourceChange"]
        lines.append(
            f"  {resource['Action']:<8} {resource['LogicalResourceId']:<40} {resource['ResourceType']:<36} "
            f"{resource.get('Replacement', '-')}"
        )
    return lines


# --------------------------------------------------------------------------------------------- deploy


@dataclass(frozen=True)
class StackRequest:
    """One stack to create or update: its name, template and parameter overrides."""

    name: str
    template: dict[str, Any]
    template_source: dict[str, str]
    """{"TemplateURL": ...} or, for small templates, {"TemplateBody": ...}."""
    overrides: dict[str, str]


def _unchanged(
    cloudformation: Any,
    name: str,
    template: dict[str, Any],
    existing: dict[str, Any] | None,
    parameters: list[dict[str, Any]],
) -> bool:
    """The emulator's "no changes": the same template and parameter values as deployed (moto's change
    sets list added and removed resources only, so they cannot tell)."""
    current = {p["ParameterKey"]: p["ParameterValue"] for p in (existing or {}).get("Parameters", [])}
    wanted = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    return deployed_template(cloudformation, name) == template and all(
        current.get(key) == value for key, value in wanted.items()
    )


def deploy_stack(
    cloudformation: Any, request: StackRequest, report: Report, timing: Timing, emulator: bool = False
) -> str:
    """Create or update the stack: "created", "updated" or "unchanged"; DeployError when it fails."""
    existing = describe_stack(cloudformation, request.name)
    status = existing["StackStatus"] if existing else None
    if status is not None and (status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"):
        raise DeployError(f"stack {request.name} is {status}: wait until it finishes, then deploy again")
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(f"stack {request.name} is {status}: {advice(request.name, status)}")
    updating = status not in (None, "REVIEW_IN_PROGRESS")
    parameters = template_parameters(
        request.template, request.overrides, existing if updating else None, explicit_previous=emulator
    )
    common = {"StackName": request.name, "Capabilities": CAPABILITIES, "Parameters": parameters}
    total = len(request.template["Resources"])
    if emulator:  # CreateStack/UpdateStack: see the module docstring
        if updating and _unchanged(cloudformation, request.name, request.template, existing, parameters):
            report(f"stack {request.name}: no changes to deploy")
            return "unchanged"
        stream = EventStream(cloudformation, existing["StackId"] if existing else "", total, report)
        if updating:
            stream.skip_existing()
            cloudformation.update_stack(**common, **request.template_source)
        else:
            stream.stack_id = cloudformation.create_stack(**common, **request.template_source)["StackId"]
    else:
        change_set = create_change_set(
            cloudformation,
            request.name,
            request.template_source,
            parameters,
            "UPDATE" if updating else "CREATE",
            timing,
        )
        if change_set is None:
            report(f"stack {request.name}: no changes to deploy")
            return "unchanged"
        report(f"stack {request.name}: changes")
        for line in change_lines(change_set):
            report(line)
        stream = EventStream(cloudformation, change_set["StackId"], total, report)
        stream.skip_existing()
        cloudformation.execute_change_set(ChangeSetName=change_set["ChangeSetId"], StackName=request.name)
    final = wait_for_stack(cloudformation, stream, timing)
    if final not in SUCCEEDED:
        raise DeployError(failure_message(request.name, final, stream))
    return "updated" if updating else "created"


def diff_stack(cloudformation: Any, request: StackRequest, timing: Timing) -> list[str]:
    """What deploying would change, as printable lines; the change set is deleted afterwards."""
    existing = describe_stack(cloudformation, request.name)
    if existing is None:
        count = len(request.template["Resources"])
        return [f"stack {request.name} does not exist: deploying creates all {count} resources"]
    parameters = template_parameters(request.template, request.overrides, existing)
    change_set = create_change_set(
        cloudformation, request.name, request.template_source, parameters, "UPDATE", timing
    )
    if change_set is None:
        return [f"stack {request.name}: no changes"]
    cloudformation.delete_change_set(ChangeSetName=change_set["ChangeSetId"], StackName=request.name)
    return [f"stack {request.name}: {len(change_set.get('Changes', []))} changes", *change_lines(change_set)]


def cli_equivalent(
    stack: str,
    bucket: str,
    overrides: dict[str, str],
    region: str | None,
    template_path: Path = TEMPLATE_PATH,
) -> str:
    """The same deploy with the AWS CLI, for those who prefer it."""
    shown = (
        template_path.relative_to(paths.REPOSITORY)
        if template_path.is_relative_to(paths.REPOSITORY)
        else template_path
    )
    words = [
        "aws", "cloudformation", "deploy",
        "--stack-name", stack,
        "--template-file", str(shown),
        "--s3-bucket", bucket, "--s3-prefix", "templates",
        "--capabilities", *CAPABILITIES,
        "--no-fail-on-empty-changeset",
        *(["--region", region] if region else []),
        "--parameter-overrides", *(f"{key}={value}" for key, value in sorted(overrides.items())),
    ]  # fmt: skip
    return " ".join(shlex.quote(word) for word in words)


# -------------------------------------------------------------------------------------------- destroy


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; return how many were deleted.

    Lists from the start again after each batch rather than paginating, so that nothing is skipped
    while the listing changes underneath.
    """
    deleted = 0
    while True:
        try:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=DELETE_BATCH)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucket":
                return deleted
            raise
        batch = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ][:DELETE_BATCH]
        if not batch:
            return deleted
        errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}).get("Errors")
        if errors:
            raise DeployError(f"could not empty {bucket}: {errors[0]}")
        deleted += len(batch)


def _resources(cloudformation: Any, stack_id: str) -> list[dict[str, Any]]:
    paginator = cloudformation.get_paginator("list_stack_resources")
    return [
        summary
        for page in paginator.paginate(StackName=stack_id)
        for summary in page["StackResourceSummaries"]
    ]


NOT_FOUND = {
    "404", "NoSuchBucket", "NotFound", "NotFoundException", "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
}  # fmt: skip


def _found(probe: Callable[[], object]) -> bool:
    try:
        probe()
    except ClientError as error:
        if error.response["Error"]["Code"] in NOT_FOUND:
            return False
        raise
    return True


def bucket_exists(s3: Any, bucket: str) -> bool:
    return _found(lambda: s3.head_bucket(Bucket=bucket))


# How to tell that a deleted stack's resource is gone, and (emulator only) how to delete it.
Probe = Callable[[Clients, str], bool]
Delete = Callable[[Clients, str], object]
LEFTOVER_CHECKS: dict[str, tuple[Probe, Delete]] = {
    "AWS::S3::Bucket": (
        lambda c, name: bucket_exists(c("s3"), name),
        lambda c, name: c("s3").delete_bucket(Bucket=name),
    ),
    "AWS::DynamoDB::Table": (
        lambda c, name: _found(lambda: c("dynamodb").describe_table(TableName=name)),
        lambda c, name: c("dynamodb").delete_table(TableName=name),
    ),
    "AWS::SQS::Queue": (
        lambda c, url: _found(lambda: c("sqs").get_queue_url(QueueName=url.rsplit("/", 1)[-1])),
        lambda c, url: c("sqs").delete_queue(QueueUrl=url),
    ),
    "AWS::SNS::Topic": (
        lambda c, arn: _found(lambda: c("sns").get_topic_attributes(TopicArn=arn)),
        lambda c, arn: c("sns").delete_topic(TopicArn=arn),
    ),
    "AWS::Lambda::Function": (
        lambda c, name: _found(lambda: c("lambda").get_function(FunctionName=name)),
        lambda c, name: c("lambda").delete_function(FunctionName=name),
    ),
    "AWS::Logs::LogGroup": (
        lambda c, name: any(
            group["logGroupName"] == name
            for group in c("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        ),
        lambda c, name: c("logs").delete_log_group(logGroupName=name),
    ),
    "AWS::ApiGateway::RestApi": (
        lambda c, api_id: _found(lambda: c("apigateway").get_rest_api(restApiId=api_id)),
        lambda c, api_id: c("apigateway").delete_rest_api(restApiId=api_id),
    ),
}


def leftovers(clients: Clients, stack: str, resources: list[tuple[str, str]]) -> list[str]:
    """What is still there after the stack was deleted: the stack, its exports, its checkable resources."""
    found = [f"stack {stack}"] if describe_stack(clients("cloudformation"), stack) else []
    exports = clients("cloudformation").list_exports().get("Exports", [])
    found += [f"export {export['Name']}" for export in exports if export["Name"].startswith(f"{stack}-")]
    found += [
        f"{kind} {physical_id}"
        for kind, physical_id in resources
        if LEFTOVER_CHECKS[kind][0](clients, physical_id)
    ]
    return found


def destroy_stack(clients: Clients, stack: str, report: Report, timing: Timing) -> list[str]:
    """Empty the stack's buckets, delete it, wait, and return the leftovers (empty when all is gone)."""
    cloudformation, s3 = clients("cloudformation"), clients("s3")
    existing = describe_stack(cloudformation, stack)
    if existing is None:
        report(f"stack {stack} does not exist")
        return []
    summaries = _resources(cloudformation, existing["StackId"])
    resources = [
        (r["ResourceType"], r["PhysicalResourceId"])
        for r in summaries
        if r["ResourceType"] in LEFTOVER_CHECKS and r.get("PhysicalResourceId")
    ]
    for kind, bucket in resources:
        if kind == "AWS::S3::Bucket":
            report(f"emptied {bucket}: {empty_bucket(s3, bucket)} object versions and delete markers")
    stream = EventStream(cloudformation, existing["StackId"], len(summaries), report)
    stream.skip_existing()
    cloudformation.delete_stack(StackName=existing["StackId"])
    # moto fails to describe a deleted stack by id once it was updated: watch it by name there
    final = wait_for_stack(cloudformation, stream, timing, stack if clients.is_emulator else None)
    if final != "DELETE_COMPLETE":
        raise DeployError(failure_message(stack, final, stream))
    if clients.is_emulator:  # moto's DeleteStack leaves most resources behind; CloudFormation would not
        for kind, physical_id in resources:
            probe, delete = LEFTOVER_CHECKS[kind]
            if probe(clients, physical_id):
                delete(clients, physical_id)
    remaining = leftovers(clients, stack, resources)
    report(f"stack {stack} deleted; " + ("nothing left behind" if not remaining else f"left: {remaining}"))
    return remaining
