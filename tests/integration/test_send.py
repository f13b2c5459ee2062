"""End to end through `make send`'s code: signed request -> receiver -> processor -> notifier, in moto."""

import copy
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tapstack.local.send import LocalRuntime, send_event, stored_item
from tapstack.operate.artifacts import object_exists
from tapstack.operate.replay import replay_queue
from templates.contract import (
    AUDIT_BUCKET_NAME,
    PROCESSOR,
    TRANSACTIONS_TABLE_NAME,
    dead_letter_queue_url_output,
    function_name_output,
)

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*/*.*"))  # Braintree's is XML


def _queue_depth(stack: LocalRuntime, output_key: str) -> int:
    attributes = stack.clients("sqs").get_queue_attributes(
        QueueUrl=stack.outputs[output_key], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _internal_body(amount: str = "10.50") -> bytes:
    event = {
        "id": f"it-{uuid.uuid4().hex}",
        "type": "transaction.created",
        "occurred_at": "2026-11-23T10:00:00Z",
        "amount": amount,
        "currency": "EUR",
    }
    return json.dumps(event).encode()


def _item(stack: LocalRuntime, transaction_id: str) -> dict[str, str] | None:
    return stored_item(stack.clients("dynamodb"), stack.outputs[TRANSACTIONS_TABLE_NAME], transaction_id)


@pytest.mark.parametrize("event_path", EVENTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_each_sample_event_is_stored_archived_and_published(stack: LocalRuntime, event_path: Path) -> None:
    document = send_event(stack, event_path)

    assert document["ok"], document["failures"]
    assert document["response"]["statusCode"] in (200, 202)  # 200: Adyen's `[accepted]`
    transaction_ids = document["transaction_ids"]
    assert transaction_ids  # one per event: a batch has several
    assert [item["transaction_id"] for item in document["items"]] == transaction_ids
    for item in document["items"]:
        assert object_exists(stack.clients("s3"), stack.outputs[AUDIT_BUCKET_NAME], item["audit_object_key"])
    published = sorted(message["message"]["transaction_id"] for message in document["published"])
    assert published == sorted(transaction_ids)
    json.dumps(document)  # the CLI prints it: it must be JSON as it is


def test_amounts_are_stored_and_published_exactly(stack: LocalRuntime) -> None:
    # A JSON number with 29 significant digits: a float would keep 17 of them.
    body = (
        b'{"id":"it-exact-%s","type":"transaction.created","occurred_at":"2026-11-23T10:00:00Z",'
        % (uuid.uuid4().hex.encode())
        + b'"amount":12345678901234567890123456.789,"currency":"KWD"}'
    )

    delivery = stack.deliver(stack.sender().event("internal", body))

    transaction_id = delivery.body["transaction_id"]
    item = _item(stack, transaction_id)
    assert item is not None
    assert item["amount"] == "12345678901234567890123456.789"
    (published,) = [m for m in stack.drain_published() if m["message"]["transaction_id"] == transaction_id]
    assert published["message"]["amount"] == "12345678901234567890123456.789"


def test_a_duplicate_delivery_is_stored_and_published_once(stack: LocalRuntime) -> None:
    body = _internal_body()

    first = stack.deliver(stack.sender().event("internal", body))
    second = stack.deliver(stack.sender().event("internal", body))

    assert (first.status, second.status) == (202, 202)
    transaction_id = first.body["transaction_id"]
    assert second.body["transaction_id"] == transaction_id
    assert _item(stack, transaction_id) is not None
    count = stack.clients("dynamodb").scan(
        TableName=stack.outputs[TRANSACTIONS_TABLE_NAME],
        FilterExpression="transaction_id = :id",
        ExpressionAttributeValues={":id": {"S": transaction_id}},
    )["Count"]
    assert count == 1
    published = [m for m in stack.drain_published() if m["message"]["transaction_id"] == transaction_id]
    assert len(published) == 1


def test_a_forged_signature_is_rejected_and_nothing_is_stored(stack: LocalRuntime) -> None:
    body = _internal_body()
    event = stack.sender().event("internal", body)
    forged = body.replace(b"10.50", b"99.50")
    event["body"] = forged.decode()

    delivery = stack.deliver(event)

    assert delivery.status == 401
    assert delivery.outcomes == []
    transaction_id = f"internal#{json.loads(forged)['id']}"
    assert _item(stack, transaction_id) is None
    listed = stack.clients("s3").list_objects_v2(
        Bucket=stack.outputs[AUDIT_BUCKET_NAME], Prefix=f"raw/internal/2026/11/23/{json.loads(forged)['id']}/"
    )
    assert listed.get("KeyCount", 0) == 0


@contextmanager
def failing_put_item(runtime: LocalRuntime) -> Iterator[None]:
    """Every PutItem through the runtime's processor fails as a throttled write would."""

    def throttle(**_: Any) -> None:
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "injected by the test"}
        raise ClientError({"Error": error}, "PutItem")

    processor = runtime.clients_of(runtime.outputs[function_name_output(PROCESSOR)])
    events = processor("dynamodb").meta.events
    events.register("before-call.dynamodb.PutItem", throttle, unique_id="test-put-item-fault")
    try:
        yield
    finally:
        events.unregister("before-call.dynamodb.PutItem", unique_id="test-put-item-fault")


def _peek(stack: LocalRuntime, output_key: str) -> list[dict[str, Any]]:
    """Every message on the queue, left visible."""
    return list(
        stack.clients("sqs").receive_message(
            QueueUrl=stack.outputs[output_key],
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
        )["Messages"]
    )


def test_a_processor_fault_dead_letters_one_invocation_record_and_replay_stores_it(
    stack: LocalRuntime,
) -> None:
    stack.clients("sqs").purge_queue(QueueUrl=stack.outputs[dead_letter_queue_url_output(PROCESSOR)])
    with failing_put_item(stack):
        delivery = stack.deliver(stack.sender().event("internal", _internal_body("7.25")))

    assert delivery.status == 202  # accepted: the failure happens after the hand-off
    (processor,) = delivery.outcomes
    assert processor.attempts == 3  # the first try and Lambda's two retries
    transaction_id = delivery.body["transaction_id"]
    assert _item(stack, transaction_id) is None
    # The deployed template routes failures through the on-failure destination only: one record.
    (message,) = _peek(stack, dead_letter_queue_url_output(PROCESSOR))
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert (
        record["requestContext"]["functionArn"].split(":")[6]
        == stack.outputs[function_name_output(PROCESSOR)]
    )
    assert record["requestPayload"]["transaction"]["transaction_id"] == transaction_id

    sqs, queue = stack.clients("sqs"), stack.outputs[dead_letter_queue_url_output(PROCESSOR)]
    processor_name = stack.outputs[function_name_output(PROCESSOR)]
    log: list[str] = []
    dry_run = replay_queue(sqs, queue, processor_name, stack.async_lambda(), apply=False, report=log.append)
    assert len(dry_run.would_replay) == 1
    assert _queue_depth(stack, dead_letter_queue_url_output(PROCESSOR)) == 1  # a dry run changes nothing

    applied = replay_queue(sqs, queue, processor_name, stack.async_lambda(), apply=True, report=log.append)

    assert (len(applied.replayed), applied.failed) == (1, [])
    item = _item(stack, transaction_id)
    assert item is not None
    assert item["amount"] == "7.25"
    assert _queue_depth(stack, dead_letter_queue_url_output(PROCESSOR)) == 0
    assert [m["message"]["transaction_id"] for m in stack.drain_published()] == [transaction_id]


def test_with_a_dead_letter_config_back_one_fault_leaves_two_messages_and_replay_runs_it_once(
    stack: LocalRuntime,
) -> None:
    """What the stack did before: AWS documents destinations as usable in addition to a dead-letter
    queue, so both paths fire; the emulation does the same, which is what lets the test above fail."""
    template = copy.deepcopy(stack.template)
    processor_queue_arn = {"Fn::GetAtt": ["ProcessorDeadLetterQueue", "Arn"]}
    template["Resources"]["ProcessorFunction"]["Properties"]["DeadLetterConfig"] = {
        "TargetArn": processor_queue_arn
    }
    both_paths = LocalRuntime(stack.clients, stack.environment, template, stack.outputs)
    sqs, queue = stack.clients("sqs"), stack.outputs[dead_letter_queue_url_output(PROCESSOR)]
    with failing_put_item(both_paths):
        delivery = both_paths.deliver(both_paths.sender().event("internal", _internal_body("3.50")))

    # Two messages for one failure: the invocation record and the bare event (the record's requestPayload).
    peeked = _peek(stack, dead_letter_queue_url_output(PROCESSOR))
    (record_message,) = [m for m in peeked if "requestContext" in json.loads(m["Body"])]
    (bare,) = [m for m in peeked if m is not record_message]
    record = json.loads(record_message["Body"])
    assert json.loads(bare["Body"]) == record["requestPayload"]
    assert set(bare["MessageAttributes"]) == {"RequestID", "ErrorCode", "ErrorMessage"}

    log: list[str] = []
    processor_name = stack.outputs[function_name_output(PROCESSOR)]
    applied = replay_queue(
        sqs, queue, processor_name, both_paths.async_lambda(), apply=True, report=log.append
    )

    assert len(applied.replayed) == 1  # the record; the bare event is reported and kept
    assert [entry.split(":")[0] for entry in applied.failed] == [bare["MessageId"]]
    assert _item(stack, delivery.body["transaction_id"]) is not None
    kept = sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert sum(map(int, kept.values())) == 1  # the bare event, back in sight once replay's visibility ends
    # SQS allows one purge a minute (the test above purges); moto takes the earlier receipt handle.
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=bare["ReceiptHandle"])
    stack.drain_published()
