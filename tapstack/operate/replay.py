"""Re-drive a function's dead-letter queue into the function, deleting each message only once accepted.

Failed events reach the queue one way: the function's on-failure destination (EventInvokeConfig), whose
message is an invocation record
  `{"version", "timestamp", "requestContext": {"functionArn", "condition": "RetriesExhausted", ...},
  "requestPayload": <the original event>, "responseContext": ..., "responsePayload": ...}`
-> the original event is `requestPayload`, re-invoked asynchronously (`InvocationType="Event"`); only a
202 (Lambda queued it) deletes the message. Any other message is kept and reported, not replayed: a bare
event from the DeadLetterConfig the functions once had beside their destination always has its
invocation record in the same queue, and replaying both would run the event twice.
Dry run by default. The invoker is injectable: boto3's Lambda client on AWS, the in-process runtime's
on the emulator (same `invoke` interface).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from tapstack.operate.cloud import Report
from templates.contract import ASYNCHRONOUS_ROLES, dead_letter_queue_url_output, function_name_output

RECEIVE_BATCH = 10
VISIBILITY_SECONDS = 60  # longer than one re-invoke; a message not deleted comes back after it
# The DLQ and the function each --function name refers to, by stack output.
TARGETS = {
    role: (dead_letter_queue_url_output(role), function_name_output(role)) for role in ASYNCHRONOUS_ROLES
}


class Invoker(Protocol):
    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> Any:  # noqa: N803 (boto3's names)
        ...


@dataclass(frozen=True)
class InvocationRecord:
    """What replay needs of an on-failure invocation record."""

    failed_function: str | None
    """The function the record names (None when its ARN cannot be read)."""
    condition: str
    request_payload: bytes


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    record: InvocationRecord | None
    """None when the body is not an invocation record: such a message is kept, not replayed."""


def parse_dead_letter(message: dict[str, Any]) -> DeadLetter:
    try:
        document = json.loads(message["Body"])
    except json.JSONDecodeError:
        document = None
    context = document.get("requestContext") if isinstance(document, dict) else None
    record = None
    if isinstance(document, dict) and isinstance(context, dict) and "requestPayload" in document:
        arn = str(context.get("functionArn", ""))
        # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
        name = arn.split(":")[6] if arn.count(":") >= 6 else None
        payload = json.dumps(document["requestPayload"], separators=(",", ":")).encode()
        record = InvocationRecord(name, str(context.get("condition")), payload)
    return DeadLetter(message["MessageId"], message["ReceiptHandle"], record)


@dataclass
class ReplaySummary:
    queue_url: str
    function: str
    replayed: list[str] = field(default_factory=list)
    would_replay: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _replay_one(
    letter: DeadLetter, sqs: Any, queue_url: str, invoker: Invoker, apply: bool, summary: ReplaySummary
) -> None:
    record = letter.record
    if record is None:
        summary.failed.append(
            f"{letter.message_id}: not an on-failure invocation record (a bare event from a former "
            "DeadLetterConfig is replayed through its invocation record); kept"
        )
        return
    label = f"{letter.message_id} ({record.condition}, {len(record.request_payload)} bytes)"
    if record.failed_function not in (None, summary.function):
        summary.failed.append(f"{label}: failed in {record.failed_function}, not {summary.function}; kept")
        return
    if not apply:
        summary.would_replay.append(label)
        return
    try:
        response = invoker.invoke(
            FunctionName=summary.function, InvocationType="Event", Payload=record.request_payload
        )
    except ClientError as error:
        summary.failed.append(f"{label}: invoke failed: {error}; kept")
        return
    if response.get("StatusCode") != 202:
        summary.failed.append(f"{label}: invoke answered {response.get('StatusCode')}; kept")
        return
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=letter.receipt_handle)
    summary.replayed.append(label)


def replay_queue(
    sqs: Any, queue_url: str, function_name: str, invoker: Invoker, apply: bool, report: Report
) -> ReplaySummary:
    """Replay the messages present when it starts (a replay that fails again adds a new one: not retaken)."""
    summary = ReplaySummary(queue_url, function_name)
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    present = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    received: dict[str, DeadLetter] = {}
    while len(received) < present:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(RECEIVE_BATCH, present - len(received)),
            VisibilityTimeout=VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not batch:
            break
        for letter in map(parse_dead_letter, batch):
            if letter.message_id not in received:
                received[letter.message_id] = letter
                _replay_one(letter, sqs, queue_url, invoker, apply, summary)
    if not apply:  # a dry run leaves the queue as it found it
        for letter in received.values():
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
            )
    for label in summary.replayed:
        report(f"replayed {label} -> {function_name}")
    for label in summary.would_replay:
        report(f"would replay {label} -> {function_name} (dry run; APPLY=1 to act)")
    for label in summary.failed:
        report(f"not replayed {label}")
    return summary
