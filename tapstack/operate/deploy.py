"""Deploy, diff and destroy a stack: the same code for AWS and for the local emulator.

Real AWS: change sets (create or update; "no changes" is a no-op), the template uploaded to the
artifact bucket first (it exceeds the 51,200-byte TemplateBody limit), stack events streamed as they
happen, and the failing resources' reasons printed when a deploy fails.

The emulator (`emulator=True`), where moto cannot follow that path, takes the smallest detour:
moto executes change-set stacks without Outputs and without honouring DependsOn, reports change-set
updates complete without applying them, and lists only added and removed resources in change sets.
So a new stack is made with CreateStack, and an update with UpdateStack when the template or a
parameter value differs from what is deployed (compared here). moto's DeleteStack also leaves most
resources behind (buckets, table, queues, topics, functions, log groups, the REST API), and an update
drops the log groups from the stack's resource list; destroy finds and deletes those itself there, as
CloudFormation does for `DeletionPolicy: Delete`.

Destroy stops intake before it empties anything: reserved concurrency 0 on each of the stack's
functions throttles every invocation, API Gateway's synchronous calls of the receiver and the queued
asynchronous events (and their retries) of the processor and the notifier alike, which Lambda then
keeps in its queue instead of running (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). Deleting the API
stage instead would stop only the API, not the asynchronous queue, and would change a resource the
stack still owns. An invocation already running when the throttle lands may still write, so destroy
waits the longest function timeout first, and a delete that still fails on a bucket that is not empty
is emptied and retried (DELETE_ATTEMPTS times in all).
"""

from __future__ import annotations

import base64
import hashlib
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tapstack import paths
from tapstack.cfn.model import Resolver
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
# A write racing the emptying fails one delete; a bucket refilled again twice means something still writes.
DELETE_ATTEMPTS = 3
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
    wait_for_running_invocations: bool = True
    """After the throttle, wait the longest function timeout (no Lambda runs the emulator's functions)."""


EMULATOR_TIMING = Timing(poll_seconds=0.05, timeout_seconds=120.0, wait_for_running_invocations=False)


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


@dataclass(frozen=True)
class ResourceFailure:
    """A resource CloudFormation could not create, update or delete, and why."""

    logical_id: str
    resource_type: str
    reason: str

    def __str__(self) -> str:
        return f"{self.logical_id} ({self.resource_type}): {self.reason}"

    @property
    def bucket_not_empty(self) -> bool:
        """S3's BucketNotEmpty ("The bucket you tried to delete is not empty"): an object arrived after
        the bucket was emptied."""
        return self.resource_type == "AWS::S3::Bucket" and (
            "BucketNotEmpty" in self.reason or "is not empty" in self.reason
        )


STACK_DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"})


@dataclass
class EventStream:
    """Prints a stack's new events oldest first, each with a progress count of finished resources."""

    cloudformation: Any
    stack_id: str
    total_resources: int
    report: Report
    seen: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    failures: list[ResourceFailure] = field(default_factory=list)

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
                self.failures.append(ResourceFailure(logical_id, event["ResourceType"], reason))
            # The stack's own completion means every resource finished, whether or not the endpoint
            # reported each one (the emulator reports only stack-level events).
            stack_done = event["ResourceType"] == "AWS::CloudFormation::Stack" and status in STACK_DONE
            done = self.total_resources if stack_done else len(self.finished)
            progress = f"[{done:3d}/{self.total_resources}]"
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


# ----------------------------------------------------------------------------- resources and buckets


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack: its logical id, type and physical id."""

    logical_id: str
    kind: str
    physical_id: str


def _resources(cloudformation: Any, stack_id: str) -> list[StackResource]:
    """The stack's resources that exist (have a physical id)."""
    paginator = cloudformation.get_paginator("list_stack_resources")
    return [
        StackResource(summary["LogicalResourceId"], summary["ResourceType"], summary["PhysicalResourceId"])
        for page in paginator.paginate(StackName=stack_id)
        for summary in page["StackResourceSummaries"]
        if summary.get("PhysicalResourceId")
    ]


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


def _of_kind(resources: list[StackResource], kind: str) -> list[str]:
    return [resource.physical_id for resource in resources if resource.kind == kind]


def empty_bucket(s3: Any, bucket: str, bypass_governance: bool = False) -> int:
    """Delete every object version and delete marker; return how many were deleted.

    `bypass_governance` deletes versions under GOVERNANCE Object Lock retention (the caller needs
    s3:BypassGovernanceRetention). Lists from the start again after each batch rather than paginating,
    so that nothing is skipped while the listing changes underneath.
    """
    bypass = {"BypassGovernanceRetention": True} if bypass_governance else {}
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
        errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}, **bypass).get(
            "Errors"
        )
        if errors:
            raise DeployError(f"could not empty {bucket}: {errors[0]}")
        deleted += len(batch)


# ----------------------------------------------------------------------------------------- object lock


def object_lock_enabled(s3: Any, bucket: str) -> bool:
    try:
        configuration = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ObjectLockConfigurationNotFoundError", "NoSuchBucket"):
            return False
        raise
    return bool(configuration.get("ObjectLockEnabled") == "Enabled")


def compliance_retained_until(s3: Any, bucket: str, now: datetime) -> datetime | None:
    """The latest retain-until date still ahead among the bucket's versions under COMPLIANCE retention.

    HeadObject reports each version's mode and date (to a caller with s3:GetObjectRetention); the
    bucket's default rule would miss versions whose retention was set or extended one by one.
    """
    latest: datetime | None = None
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            head = s3.head_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
            until = head.get("ObjectLockRetainUntilDate")
            if head.get("ObjectLockMode") == "COMPLIANCE" and until is not None and until > now:
                latest = until if latest is None else max(latest, until)
    return latest


def refuse_compliance_locked(s3: Any, stack: str, locked_buckets: list[str]) -> None:
    """DeployError, in one line naming the date it becomes deletable, while a bucket of the stack holds
    versions under COMPLIANCE retention: no one can delete them or shorten it, not even the root user
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html)."""
    now = datetime.now(UTC)
    dates = {bucket: compliance_retained_until(s3, bucket, now) for bucket in locked_buckets}
    retained = {bucket: until for bucket, until in dates.items() if until is not None}
    if retained:
        bucket, until = max(retained.items(), key=lambda item: item[1])
        raise DeployError(
            f"stack {stack} cannot be deleted before {until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC: "
            f"{bucket} holds object versions under COMPLIANCE Object Lock retention until then, which no one "
            "can shorten or bypass"
        )


# ------------------------------------------------------------------------------------------ leftovers


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


def log_groups_named(logs: Any, prefix: str) -> list[str]:
    """The log groups whose names start with `prefix`."""
    return [
        group["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
        for group in page["logGroups"]
    ]


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
        lambda c, name: name in log_groups_named(c("logs"), name),
        lambda c, name: c("logs").delete_log_group(logGroupName=name),
    ),
    "AWS::ApiGateway::RestApi": (
        lambda c, api_id: _found(lambda: c("apigateway").get_rest_api(restApiId=api_id)),
        lambda c, api_id: c("apigateway").delete_rest_api(restApiId=api_id),
    ),
}


def execution_log_group_prefix(rest_api_id: str) -> str:
    """API Gateway's execution-log groups, `API-Gateway-Execution-Logs_<rest api id>/<stage>`, which it
    makes itself when the stack does not declare them
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html)."""
    return f"API-Gateway-Execution-Logs_{rest_api_id}/"


def waf_log_group_prefix(stack: str) -> str:
    """A web ACL of the stack logs to `aws-waf-logs-<stack>...`: WAF requires the aws-waf-logs- prefix
    (https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html)."""
    return f"aws-waf-logs-{stack}"


def unowned_log_groups(clients: Clients, stack: str, resources: list[StackResource]) -> list[str]:
    """Log groups of the stack that it does not own by name (AWS services create them on first use), so
    deleting the stack leaves them."""
    logs = clients("logs")
    owned = set(_of_kind(resources, "AWS::Logs::LogGroup"))
    execution = [
        name
        for api_id in _of_kind(resources, "AWS::ApiGateway::RestApi")
        for name in log_groups_named(logs, execution_log_group_prefix(api_id))
    ]
    waf_prefix = waf_log_group_prefix(stack)
    waf = [
        name
        for name in log_groups_named(logs, waf_prefix)
        if name == waf_prefix or name.startswith(f"{waf_prefix}-")  # not those of a stack <stack>x
    ]
    return sorted(set(execution + waf) - owned)


def leftovers(clients: Clients, stack: str, resources: list[StackResource]) -> list[str]:
    """What is still there after the stack was deleted: the stack, its exports, its checkable resources,
    and log groups AWS services made for it."""
    found = [f"stack {stack}"] if describe_stack(clients("cloudformation"), stack) else []
    exports = clients("cloudformation").list_exports().get("Exports", [])
    found += [f"export {export['Name']}" for export in exports if export["Name"].startswith(f"{stack}-")]
    found += [
        f"{resource.kind} {resource.physical_id}"
        for resource in resources
        if resource.kind in LEFTOVER_CHECKS
        and LEFTOVER_CHECKS[resource.kind][0](clients, resource.physical_id)
    ]
    found += [
        f"log group {name} (not the stack's own)" for name in unowned_log_groups(clients, stack, resources)
    ]
    return found


# -------------------------------------------------------------------------------------------- destroy


def stop_intake(lambda_client: Any, functions: list[str], report: Report, timing: Timing) -> None:
    """Throttle each function to zero (see the module docstring), then let running invocations end."""
    if not functions:
        return
    for name in functions:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    report(f"intake stopped: reserved concurrency 0 on {', '.join(functions)}")
    if timing.wait_for_running_invocations:
        longest = max(
            int(lambda_client.get_function_configuration(FunctionName=name)["Timeout"]) for name in functions
        )
        report(f"waiting {longest} s, the longest function timeout, for running invocations to end")
        time.sleep(longest)


def _resume_hint(functions: list[str]) -> str:
    commands = "; ".join(
        f"aws lambda delete-function-concurrency --function-name {name}" for name in functions
    )
    return f"the stack's functions stay throttled; to take deliveries again without destroying: {commands}"


def _delete_once(
    clients: Clients, stack: str, resources: list[StackResource], stream: EventStream, timing: Timing
) -> str:
    """One DeleteStack and the wait for it: the final status, with the failures in the stream.

    On the emulator, moto's DeleteStack keeps a bucket that is not empty without failing and leaves most
    resources behind; they are deleted here as CloudFormation would, and a bucket that is not empty
    fails the delete as it does there.
    """
    cloudformation = clients("cloudformation")
    stream.failures.clear()
    if describe_stack(cloudformation, stack) is not None:
        cloudformation.delete_stack(StackName=stream.stack_id)
        # moto fails to describe a deleted stack by id once it was updated: watch it by name there
        final = wait_for_stack(cloudformation, stream, timing, stack if clients.is_emulator else None)
        if final != "DELETE_COMPLETE" or not clients.is_emulator:
            return final
    for resource in resources:
        if resource.kind not in LEFTOVER_CHECKS:
            continue
        probe, delete = LEFTOVER_CHECKS[resource.kind]
        if not probe(clients, resource.physical_id):
            continue
        try:
            delete(clients, resource.physical_id)
        except ClientError as error:
            if error.response["Error"]["Code"] != "BucketNotEmpty":
                raise
            stream.failures.append(ResourceFailure(resource.logical_id, resource.kind, str(error)))
    return "DELETE_FAILED" if stream.failures else "DELETE_COMPLETE"


def _empty_and_delete(
    clients: Clients,
    stack: str,
    resources: list[StackResource],
    locked_buckets: list[str],
    stream: EventStream,
    report: Report,
    timing: Timing,
) -> None:
    s3 = clients("s3")
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        for bucket in _of_kind(resources, "AWS::S3::Bucket"):
            deleted = empty_bucket(s3, bucket, bypass_governance=bucket in locked_buckets)
            report(f"emptied {bucket}: {deleted} object versions and delete markers")
        final = _delete_once(clients, stack, resources, stream, timing)
        if final == "DELETE_COMPLETE":
            return
        refilled = [
            failure for failure in stream.failures if failure.resource_type != "AWS::CloudFormation::Stack"
        ]
        if attempt == DELETE_ATTEMPTS or not refilled or not all(f.bucket_not_empty for f in refilled):
            raise DeployError(failure_message(stack, final, stream))
        report(
            f"{', '.join(f.logical_id for f in refilled)} got objects after it was emptied: emptying and "
            f"deleting again (attempt {attempt + 1} of {DELETE_ATTEMPTS})"
        )


def destroy_stack(clients: Clients, stack: str, report: Report, timing: Timing) -> list[str]:
    """Refuse a compliance-locked stack, stop intake, empty the buckets, delete the stack (again while a
    bucket got new objects), and return the leftovers (empty when all is gone)."""
    cloudformation, s3 = clients("cloudformation"), clients("s3")
    existing = describe_stack(cloudformation, stack)
    if existing is None:
        report(f"stack {stack} does not exist")
        return []
    resources = _resources(cloudformation, existing["StackId"])
    if clients.is_emulator:
        resources += _log_groups_moto_forgot(clients, existing, resources)
    locked = [bucket for bucket in _of_kind(resources, "AWS::S3::Bucket") if object_lock_enabled(s3, bucket)]
    refuse_compliance_locked(s3, stack, locked)  # before anything is stopped or deleted
    functions = _of_kind(resources, "AWS::Lambda::Function")
    stop_intake(clients("lambda"), functions, report, timing)
    stream = EventStream(cloudformation, existing["StackId"], len(resources), report)
    stream.skip_existing()
    try:
        refuse_compliance_locked(s3, stack, locked)  # a delivery stored while intake was being stopped
        _empty_and_delete(clients, stack, resources, locked, stream, report, timing)
    except DeployError as error:
        raise DeployError(f"{error}\n  {_resume_hint(functions)}" if functions else str(error)) from error
    remaining = leftovers(clients, stack, resources)
    report(f"stack {stack} deleted; " + ("nothing left behind" if not remaining else f"left: {remaining}"))
    return remaining
