"""Destroy a stack: stop intake, refuse while COMPLIANCE retention holds (intake then resumed), empty its
buckets, delete it (again while a bucket was refilled), and find what is left behind.

Destroy stops intake before it empties anything: reserved concurrency 0 on each of the stack's
functions throttles every invocation, API Gateway's synchronous calls of the receiver and the queued
asynchronous events (and their retries) of the processor and the notifier alike, which Lambda then
keeps in its queue instead of running (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). Deleting the API
stage instead would stop only the API, not the asynchronous queue, and would change a resource the
stack still owns. An invocation already running when the throttle lands may still write, so destroy
waits the longest function timeout first, and a delete that still fails on a bucket that is not empty
is emptied and retried (DELETE_ATTEMPTS times in all).

Only COMPLIANCE retention can keep a version from being deleted (GOVERNANCE yields to
s3:BypassGovernanceRetention), and finding it means a HEAD per object version: hours on a years-long
archive. So destroy looks only in a bucket whose default retention is COMPLIANCE or whose stack carries
COMPLIANCE_RETENTION_TAG (deploy adds it once the mode was COMPLIANCE, and keeps it), once, after intake
stopped (nothing can add a version then). A refusal resumes intake as it was.

How the stack itself is deleted and which resources it has are the deploy target's
(tapstack/operate/target.py): the emulator deletes what moto's DeleteStack leaves behind itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from tapstack.operate.cloud import Clients, DeployError, Report, Timing, describe_stack
from tapstack.operate.stacks import EventStream, failure_message, wait_for_stack
from templates.contract import COMPLIANCE_RETENTION_TAG

DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
# A write racing the emptying fails one delete; a bucket refilled again twice means something still writes.
DELETE_ATTEMPTS = 3


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack: its logical id, type and physical id."""

    logical_id: str
    kind: str
    physical_id: str


def listed_resources(cloudformation: Any, stack_id: str) -> list[StackResource]:
    """The stack's resources that exist (have a physical id)."""
    paginator = cloudformation.get_paginator("list_stack_resources")
    return [
        StackResource(summary["LogicalResourceId"], summary["ResourceType"], summary["PhysicalResourceId"])
        for page in paginator.paginate(StackName=stack_id)
        for summary in page["StackResourceSummaries"]
        if summary.get("PhysicalResourceId")
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


def object_lock_configuration(s3: Any, bucket: str) -> dict[str, Any]:
    """The bucket's Object Lock configuration; empty when it has none."""
    try:
        return dict(s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"])
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ObjectLockConfigurationNotFoundError", "NoSuchBucket"):
            return {}
        raise


def compliance_configured(configuration: dict[str, Any], stack: dict[str, Any]) -> bool:
    """Whether COMPLIANCE retention may hold versions: the default retention is COMPLIANCE now, or the
    stack's tag says it was."""
    mode = configuration.get("Rule", {}).get("DefaultRetention", {}).get("Mode")
    return mode == "COMPLIANCE" or COMPLIANCE_RETENTION_TAG in stack.get("Tags", [])


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


# How to tell that a deleted stack's resource is gone.
Probe = Callable[[Clients, str], bool]
LEFTOVER_PROBES: dict[str, Probe] = {
    "AWS::S3::Bucket": lambda c, name: bucket_exists(c("s3"), name),
    "AWS::DynamoDB::Table": lambda c, name: _found(lambda: c("dynamodb").describe_table(TableName=name)),
    "AWS::SQS::Queue": lambda c, url: _found(
        lambda: c("sqs").get_queue_url(QueueName=url.rsplit("/", 1)[-1])
    ),
    "AWS::SNS::Topic": lambda c, arn: _found(lambda: c("sns").get_topic_attributes(TopicArn=arn)),
    "AWS::Lambda::Function": lambda c, name: _found(lambda: c("lambda").get_function(FunctionName=name)),
    "AWS::Logs::LogGroup": lambda c, name: name in log_groups_named(c("logs"), name),
    "AWS::ApiGateway::RestApi": lambda c, api_id: _found(
        lambda: c("apigateway").get_rest_api(restApiId=api_id)
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
        if resource.kind in LEFTOVER_PROBES and LEFTOVER_PROBES[resource.kind](clients, resource.physical_id)
    ]
    found += [
        f"log group {name} (not the stack's own)" for name in unowned_log_groups(clients, stack, resources)
    ]
    return found


# -------------------------------------------------------------------------------------------- destroy


class StackDeletion(Protocol):
    """What destroying needs of a deploy target (tapstack/operate/target.py)."""

    @property
    def clients(self) -> Clients: ...

    @property
    def timing(self) -> Timing: ...

    def stack_resources(self, stack: dict[str, Any]) -> list[StackResource]:
        """The resources of the described stack that exist."""
        ...

    def delete_stack(self, stack: str, resources: list[StackResource], stream: EventStream) -> str:
        """One DeleteStack and the wait for it: the final status, with the failures in the stream."""
        ...


def delete_and_wait(cloudformation: Any, stack: str, stream: EventStream, timing: Timing) -> str:
    """One DeleteStack of a stack that exists (else DELETE_COMPLETE) and the wait for it."""
    stream.failures.clear()
    if describe_stack(cloudformation, stack) is None:
        return "DELETE_COMPLETE"
    cloudformation.delete_stack(StackName=stream.stack_id)
    return wait_for_stack(cloudformation, stream, timing)


def stop_intake(
    lambda_client: Any, functions: list[str], report: Report, timing: Timing
) -> dict[str, int | None]:
    """Throttle each function to zero (see the module docstring), then let running invocations end; return
    each function's reserved concurrency before, for resume_intake."""
    if not functions:
        return {}
    before = {
        name: lambda_client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        for name in functions
    }
    for name in functions:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    report(f"intake stopped: reserved concurrency 0 on {', '.join(functions)}")
    if timing.wait_for_running_invocations:
        longest = max(
            int(lambda_client.get_function_configuration(FunctionName=name)["Timeout"]) for name in functions
        )
        report(f"waiting {longest} s, the longest function timeout, for running invocations to end")
        time.sleep(longest)
    return before


def resume_intake(lambda_client: Any, before: dict[str, int | None], report: Report) -> None:
    """Give each function back the reserved concurrency it had before stop_intake."""
    for name, reserved in before.items():
        if reserved is None:
            lambda_client.delete_function_concurrency(FunctionName=name)
        else:
            lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    if before:
        report(f"intake resumed: reserved concurrency as before on {', '.join(before)}")


VPC_DELETE_WARNING = (
    "the functions are attached to VPC subnets ({subnets}): CloudFormation waits while Lambda releases "
    "their network interfaces, often 20 to 45 minutes, before the stack is gone; this is not a hang "
    "(https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html)"
)


def warn_if_vpc_attached(lambda_client: Any, functions: list[str], report: Report) -> None:
    subnets = sorted(
        {
            subnet
            for name in functions
            for subnet in (
                lambda_client.get_function_configuration(FunctionName=name).get("VpcConfig") or {}
            ).get("SubnetIds", [])
        }
    )
    if subnets:
        report(VPC_DELETE_WARNING.format(subnets=", ".join(subnets)))


def _resume_hint(functions: list[str]) -> str:
    commands = "; ".join(
        f"aws lambda delete-function-concurrency --function-name {name}" for name in functions
    )
    return f"the stack's functions stay throttled; to take deliveries again without destroying: {commands}"


def _empty_and_delete(
    target: StackDeletion,
    stack: str,
    resources: list[StackResource],
    locked_buckets: list[str],
    stream: EventStream,
    report: Report,
) -> None:
    s3 = target.clients("s3")
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        for bucket in _of_kind(resources, "AWS::S3::Bucket"):
            deleted = empty_bucket(s3, bucket, bypass_governance=bucket in locked_buckets)
            report(f"emptied {bucket}: {deleted} object versions and delete markers")
        final = target.delete_stack(stack, resources, stream)
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


def destroy_stack(target: StackDeletion, stack: str, report: Report) -> list[str]:
    """Stop intake, refuse a compliance-locked stack (resuming intake), empty the buckets, delete the stack
    (again while a bucket got new objects), and return the leftovers (empty when all is gone)."""
    clients = target.clients
    cloudformation, s3, lambda_client = clients("cloudformation"), clients("s3"), clients("lambda")
    existing = describe_stack(cloudformation, stack)
    if existing is None:
        report(f"stack {stack} does not exist")
        return []
    resources = target.stack_resources(existing)
    functions = _of_kind(resources, "AWS::Lambda::Function")
    before = stop_intake(lambda_client, functions, report, target.timing)
    locks = {
        bucket: object_lock_configuration(s3, bucket) for bucket in _of_kind(resources, "AWS::S3::Bucket")
    }
    locked = [bucket for bucket, lock in locks.items() if lock.get("ObjectLockEnabled") == "Enabled"]
    try:
        refuse_compliance_locked(s3, stack, [b for b in locked if compliance_configured(locks[b], existing)])
    except DeployError:
        resume_intake(lambda_client, before, report)
        raise
    warn_if_vpc_attached(lambda_client, functions, report)
    stream = EventStream(cloudformation, existing["StackId"], len(resources), report)
    stream.skip_existing()
    try:
        _empty_and_delete(target, stack, resources, locked, stream, report)
    except DeployError as error:
        raise DeployError(f"{error}\n  {_resume_hint(functions)}" if functions else str(error)) from error
    remaining = leftovers(clients, stack, resources)
    report(f"stack {stack} deleted; " + ("nothing left behind" if not remaining else f"left: {remaining}"))
    return remaining
