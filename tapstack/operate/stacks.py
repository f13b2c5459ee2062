"""Stacks and change sets: create or update through a change set, stream events, wait, diff.

Real AWS: change sets (create or update; "no changes" is a no-op), the template uploaded to the
artifact bucket first (it exceeds the 51,200-byte TemplateBody limit), stack events streamed as they
happen, and the failing resources' reasons printed when a deploy fails. How a change is begun is the
deploy target's (tapstack/operate/target.py): AWS begins it with a change set (`begin_change_set`), the
emulator its own way (tapstack/local/target.py).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tapstack import paths
from tapstack.cfn.model import Template
from tapstack.operate.cloud import TEMPLATE_PATH, Clients, DeployError, Report, Timing, describe_stack
from templates.contract import AUDIT_OBJECT_LOCK_MODE, COMPLIANCE_RETENTION_TAG

CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")

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


def template_parameters(
    template: dict[str, Any], overrides: dict[str, str], existing: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """CloudFormation Parameters: the overrides; on an update the stack's other values are kept."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise DeployError(f"unknown parameters {unknown}; the template declares {sorted(declared)}")
    previous = {p["ParameterKey"] for p in (existing or {}).get("Parameters", [])}
    parameters: list[dict[str, Any]] = []
    for key in sorted(declared):
        if key in overrides:
            parameters.append({"ParameterKey": key, "ParameterValue": overrides[key]})
        elif key in previous:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


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


def deployed_resources(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """`{logical id: type}` of the resources a deploy with these parameters creates."""
    return Template(template).created_with(overrides)


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
    created_when_done: Callable[[], tuple[int, list[str]]] | None = None
    """Where the endpoint does not report each resource (the emulator): how many it made once the stack
    is done, and lines naming what it left out."""

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
            done, notes = len(self.finished), list[str]()
            if stack_done:
                done, notes = (
                    self.created_when_done() if self.created_when_done else (self.total_resources, [])
                )
            progress = f"[{done:3d}/{self.total_resources}]"
            self.report(
                f"{progress} {event['Timestamp']:%H:%M:%S} {status:<28} {event['ResourceType']:<36} "
                f"{logical_id} {reason}".rstrip()
            )
            for note in notes:
                self.report(note)


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
    tags: list[dict[str, str]] | None = None,
    resources_to_import: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Create a change set and wait for it; None when it would change nothing (it is then deleted).

    `tags` replace the stack's tags; None keeps them. `resources_to_import` for an IMPORT change set."""
    created = cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=f"{stack}-{time.strftime('%Y%m%d%H%M%S')}",
        ChangeSetType=change_set_type,
        Capabilities=CAPABILITIES,
        Parameters=parameters,
        **source,
        **({} if tags is None else {"Tags": tags}),
        **({} if resources_to_import is None else {"ResourcesToImport": resources_to_import}),
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


def parameter_value(
    template: dict[str, Any], parameters: list[dict[str, Any]], existing: dict[str, Any] | None, key: str
) -> str | None:
    """What `key` will be after a change with `parameters`: given, kept from `existing`, or the default."""
    for parameter in parameters:
        if parameter["ParameterKey"] == key:
            if parameter.get("UsePreviousValue"):
                kept = {
                    p["ParameterKey"]: p["ParameterValue"] for p in (existing or {}).get("Parameters", [])
                }
                return kept.get(key)
            return str(parameter["ParameterValue"])
    default = template.get("Parameters", {}).get(key, {}).get("Default")
    return None if default is None else str(default)


def tags_recording_compliance(
    template: dict[str, Any], parameters: list[dict[str, Any]], existing: dict[str, Any] | None
) -> list[dict[str, str]] | None:
    """The stack's tags with COMPLIANCE_RETENTION_TAG when this change sets COMPLIANCE retention and the
    stack lacks the tag; None (tags kept as they are) otherwise. The tag is never removed."""
    tags = list((existing or {}).get("Tags", []))
    if COMPLIANCE_RETENTION_TAG in tags:
        return None
    if parameter_value(template, parameters, existing, AUDIT_OBJECT_LOCK_MODE) != "COMPLIANCE":
        return None
    return [*tags, COMPLIANCE_RETENTION_TAG]


@dataclass(frozen=True)
class StackRequest:
    """One stack to create or update: its name, template and parameter overrides."""

    name: str
    template: dict[str, Any]
    template_source: dict[str, str]
    """{"TemplateURL": ...} or, for small templates, {"TemplateBody": ...}."""
    overrides: dict[str, str]


class StackChanges(Protocol):
    """What deploying needs of a deploy target (tapstack/operate/target.py)."""

    @property
    def clients(self) -> Clients: ...

    @property
    def timing(self) -> Timing: ...

    def begin_change(
        self, request: StackRequest, existing: dict[str, Any] | None, report: Report
    ) -> EventStream | None:
        """Start creating (`existing` None) or updating the stack; the stream of its events, or None
        when there is nothing to change."""
        ...


def begin_change_set(
    cloudformation: Any,
    request: StackRequest,
    existing: dict[str, Any] | None,
    report: Report,
    timing: Timing,
) -> EventStream | None:
    """Create a change set, print its changes and execute it; None when it would change nothing."""
    parameters = template_parameters(request.template, request.overrides, existing)
    change_set = create_change_set(
        cloudformation,
        request.name,
        request.template_source,
        parameters,
        "CREATE" if existing is None else "UPDATE",
        timing,
        tags_recording_compliance(request.template, parameters, existing),
    )
    if change_set is None:
        return None
    report(f"stack {request.name}: changes")
    for line in change_lines(change_set):
        report(line)
    total = len(deployed_resources(request.template, request.overrides))
    stream = EventStream(cloudformation, change_set["StackId"], total, report)
    stream.skip_existing()
    cloudformation.execute_change_set(ChangeSetName=change_set["ChangeSetId"], StackName=request.name)
    return stream


def deploy_stack(target: StackChanges, request: StackRequest, report: Report) -> str:
    """Create or update the stack: "created", "updated" or "unchanged"; DeployError when it fails."""
    cloudformation = target.clients("cloudformation")
    existing = describe_stack(cloudformation, request.name)
    status = existing["StackStatus"] if existing else None
    if status is not None and (status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"):
        raise DeployError(f"stack {request.name} is {status}: wait until it finishes, then deploy again")
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(f"stack {request.name} is {status}: {advice(request.name, status)}")
    updating = status not in (None, "REVIEW_IN_PROGRESS")
    stream = target.begin_change(request, existing if updating else None, report)
    if stream is None:
        report(f"stack {request.name}: no changes to deploy")
        return "unchanged"
    final = wait_for_stack(cloudformation, stream, target.timing)
    if final not in SUCCEEDED:
        raise DeployError(failure_message(request.name, final, stream))
    return "updated" if updating else "created"


def diff_stack(cloudformation: Any, request: StackRequest, timing: Timing) -> list[str]:
    """What deploying would change, as printable lines; the change set is deleted afterwards."""
    existing = describe_stack(cloudformation, request.name)
    if existing is None:
        count = len(deployed_resources(request.template, request.overrides))
        return [
            f"stack {request.name} does not exist: deploying creates {count} resources (those whose "
            "Condition holds with these parameters)"
        ]
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
