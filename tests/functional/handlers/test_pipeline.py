"""End to end through moto: receiver -> processor -> notifier, with Lambda's async semantics emulated.

Also the seed regressions (floats to DynamoDB, Decimals to json.dumps) and fault injection at every
step, checked against one invariant: every accepted event is stored once and published at least
once, or sits in a dead-letter queue.
"""

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest

from handlers import processor
from tapstack.local.faults import fail_operation
from tapstack.operate.replay import replay_queue
from tests.support.pipeline import MALFORMED_BODIES, NOTIFIER, PROCESSOR, Pipeline, sample
from tests.support.telemetry import emitted

SAMPLES = [
    ("stripe", "stripe/payment_intent.succeeded.json", "20.00", "USD"),
    ("stripe", "stripe/refund.created.json", "5.00", "USD"),
    ("stripe", "stripe/customer.created.json", None, None),
    ("stripe", "stripe/payment_intent.succeeded.jpy.json", "1500", "JPY"),
    ("stripe", "stripe/payment_intent.succeeded.bhd.json", "12.340", "BHD"),
    ("paypal", "paypal/PAYMENT.CAPTURE.COMPLETED.json", "10.99", "USD"),
    ("paypal", "paypal/PAYMENT.CAPTURE.REFUNDED.json", "5.00", "USD"),
    ("paypal", "paypal/BILLING.SUBSCRIPTION.ACTIVATED.json", None, None),
    ("paypal", "paypal/PAYMENT.CAPTURE.COMPLETED.jpy.json", "1500", "JPY"),
    ("generic", "generic/payment.succeeded.json", "12.34", "EUR"),
    ("generic", "generic/account.updated.json", None, None),
    ("internal", "internal/transaction.created.json", "12345678901234567890123456.789", "KWD"),
]


def accept(pipeline: Pipeline, provider: str, body: bytes) -> str:
    status, answer = pipeline.send(pipeline.sender.event(provider, body))
    assert status == 202, answer
    return str(answer["transaction_id"])


@pytest.mark.parametrize(("provider", "file", "amount", "currency"), SAMPLES)
def test_every_sample_is_archived_stored_and_published_exactly(
    pipeline: Pipeline, provider: str, file: str, amount: str | None, currency: str | None
) -> None:
    body = sample(file)
    transaction_id = accept(pipeline, provider, body)
    item = pipeline.stack.item(transaction_id)
    assert item is not None
    assert item.get("amount") == (None if amount is None else Decimal(amount))
    assert item.get("currency") == currency
    assert item["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert "published_at" in item
    archived = pipeline.stack.clients["s3"].get_object(
        Bucket=pipeline.stack.bucket, Key=item["audit_object_key"]
    )
    assert archived["Body"].read() == body
    (published,) = pipeline.stack.published()
    assert published["body"].get("amount") == amount
    assert published["body"]["transaction_id"] == transaction_id
    expected_attributes = {
        "provider": provider,
        "event_type": item["event_type"],
        "stale": "false",
        "ingested_via": "webhook",
    } | ({"currency": currency} if currency else {})
    assert {
        name: value["StringValue"] for name, value in published["attributes"].items()
    } == expected_attributes


@pytest.mark.parametrize("text", ["0.1", "99.99", "1e-2", "12345678901234567890123456.78", "-0.00"])
def test_seed_float_to_dynamodb_amounts_are_decimals_built_from_text(pipeline: Pipeline, text: str) -> None:
    """Seed: `TypeError: Float types are not supported`, or a float's inexact Decimal."""
    body = json.dumps(
        {"id": "seed-float", "type": "t", "occurred_at": "2026-11-23T10:00:00Z", "currency": "USD"}
    )
    body = body[:-1] + f', "amount": {text}}}'
    transaction_id = accept(pipeline, "generic", body.encode())
    item = pipeline.stack.item(transaction_id)
    assert item is not None
    assert isinstance(item["amount"], Decimal)
    assert item["amount"] == Decimal(text)
    raw = pipeline.stack.clients["dynamodb"].get_item(
        TableName=pipeline.stack.table, Key={"transaction_id": {"S": transaction_id}}
    )["Item"]["amount"]
    assert Decimal(raw["N"]) == Decimal(text)
    assert Decimal(raw["N"]) != Decimal(float(text)) or Decimal(text) == Decimal(float(text))


def test_seed_decimal_to_json_dumps_processor_result_and_message_are_exact_json(pipeline: Pipeline) -> None:
    """Seed: `Object of type Decimal is not JSON serializable` from the return value or the SNS message."""
    accept(pipeline, "internal", sample("internal/transaction.created.json"))
    processed, notified = pipeline.lambda_.outcomes
    assert (processed.error, notified.error) == (None, None)  # the emulator json.dumps'd both results
    assert processed.response["transaction"]["amount"] == "12345678901234567890123456.789"
    (published,) = pipeline.stack.published()
    assert published["body"]["amount"] == "12345678901234567890123456.789"


def test_redelivery_by_the_provider_stores_and_publishes_once(pipeline: Pipeline) -> None:
    body = sample("stripe/payment_intent.succeeded.json")
    first = accept(pipeline, "stripe", body)
    second = accept(pipeline, "stripe", body)
    assert first == second
    assert [o.response["duplicate"] for o in pipeline.lambda_.outcomes if o.function == PROCESSOR] == [
        False,
        True,
    ]
    assert [o.response["published"] for o in pipeline.lambda_.outcomes if o.function == NOTIFIER] == [
        True,
        False,
    ]
    assert len(pipeline.stack.items()) == 1
    assert len(pipeline.stack.published()) == 1


def test_the_async_queue_delivering_twice_publishes_once(pipeline: Pipeline) -> None:
    deferred = pipeline.deferred()
    event = deferred.sender.event("paypal", sample("paypal/PAYMENT.CAPTURE.COMPLETED.json"))
    assert deferred.send(event)[0] == 202
    name, payload = deferred.lambda_._pending[0]
    deferred.lambda_._pending.append((name, payload))  # Lambda's at-least-once queue
    deferred.lambda_.run_pending()
    assert len(deferred.stack.items()) == 1
    assert len(deferred.stack.published()) == 1


def test_a_different_body_under_a_reused_event_id_changes_nothing(pipeline: Pipeline) -> None:
    first = b'{"id":"gen-9","type":"t","occurred_at":"2026-11-23T10:00:00Z","amount":"1.00","currency":"EUR"}'
    second = first.replace(b"1.00", b"2.00")
    transaction_id = accept(pipeline, "generic", first)
    accept(pipeline, "generic", second)
    item = pipeline.stack.item(transaction_id)
    assert item is not None
    assert item["amount"] == Decimal("1.00")
    keys = pipeline.stack.clients["s3"].list_objects_v2(Bucket=pipeline.stack.bucket)["Contents"]
    assert len(keys) == 2  # both bodies kept as evidence, neither overwritten


def test_each_outcome_is_logged_and_counted_under_the_name_the_dashboards_use(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    body = sample("stripe/payment_intent.succeeded.json")
    unreadable, _ = MALFORMED_BODIES[0]  # signed but not normalisable: quarantined on a provider route
    with emitted(processor.FUNCTION.logger, capsys) as (logs, metrics):
        accept(pipeline, "stripe", body)
        accept(pipeline, "stripe", body)
        accept(pipeline, "generic", unreadable)
        fail_operation(pipeline.processor_clients("s3"), "PutObject", None)
        accept(pipeline, "stripe", sample("stripe/refund.created.json"))

    # In order: the processor and notifier run inside the receiver's invoke, as this emulator runs them.
    failed = "processing failed; Lambda retries, then dead-letters it"
    assert [log["message"] for log in logs] == [
        *("stored", "published", "accepted"),
        *("duplicate", "alreadypublished", "accepted"),
        *(processor.QUARANTINED.lower(), "quarantinenotpublished", "accepted into quarantine"),
        *(failed, failed, failed, "accepted"),
    ]
    assert [name for name in metrics if name not in ("Received", "Accepted", "QuarantinedOnReceipt")] == [
        "Stored",
        "Published",
        "Duplicate",
        "AlreadyPublished",
        processor.QUARANTINED,
        "QuarantineNotPublished",
        "Failed",
        "Failed",
        "Failed",
    ]


# --- fault injection ----------------------------------------------------------------------------


def assert_nothing_dropped(pipeline: Pipeline, transaction_ids: list[str]) -> dict[str, list[Any]]:
    """Each accepted event is stored once and published at least once, or is dead-lettered."""
    published = [m["body"]["transaction_id"] for m in pipeline.stack.published()]
    dead = {
        "processor": pipeline.stack.dead_letters(pipeline.stack.processor_dlq_url),
        "notifier": pipeline.stack.dead_letters(pipeline.stack.notifier_dlq_url),
    }
    dead_ids = {r["requestPayload"]["transaction"]["transaction_id"] for r in dead["processor"]} | {
        r["requestPayload"]["responsePayload"]["transaction"]["transaction_id"] for r in dead["notifier"]
    }
    stored = [item["transaction_id"] for item in pipeline.stack.items()]
    assert len(stored) == len(set(stored))
    for transaction_id in transaction_ids:
        assert (transaction_id in stored and transaction_id in published) or transaction_id in dead_ids
    return dead


FAULTS = [
    # (function, service, operation, times, after, expect dead letters in)
    ("processor", "s3", "PutObject", 1, False, None),
    ("processor", "s3", "PutObject", None, False, "processor"),
    ("processor", "dynamodb", "PutItem", 2, False, None),
    ("processor", "dynamodb", "PutItem", None, False, "processor"),
    ("processor", "dynamodb", "PutItem", 1, True, None),  # stored, then crashed before returning
    ("processor", "dynamodb", "GetItem", None, True, "processor"),
    ("notifier", "dynamodb", "GetItem", 1, False, None),
    ("notifier", "sns", "Publish", 2, False, None),
    ("notifier", "sns", "Publish", None, False, "notifier"),
    ("notifier", "dynamodb", "UpdateItem", None, False, "notifier"),  # published, not recorded
    ("notifier", "sns", "Publish", 1, True, None),  # published, then crashed: published twice
]


@pytest.mark.parametrize(("function", "service", "operation", "times", "after", "dead_in"), FAULTS)
def test_faults_never_drop_an_accepted_event(
    pipeline: Pipeline,
    function: str,
    service: str,
    operation: str,
    times: int | None,
    after: bool,
    dead_in: str | None,
) -> None:
    clients = pipeline.processor_clients if function == "processor" else pipeline.notifier_clients
    fail_operation(clients(service), operation, times, after=after)
    if (function, operation) == ("processor", "GetItem"):
        # A duplicate whose stored item cannot be read: deliver the event a second time.
        accept(pipeline, "stripe", sample("stripe/refund.created.json"))
    transaction_id = accept(pipeline, "stripe", sample("stripe/refund.created.json"))
    dead = assert_nothing_dropped(pipeline, [transaction_id])
    assert {name for name, records in dead.items() if records} == ({dead_in} if dead_in else set())
    for records in dead.values():
        for record in records:
            assert record["requestContext"]["condition"] == "RetriesExhausted"
            assert record["requestContext"]["approximateInvokeCount"] == 3
            assert record["responseContext"]["functionError"] == "Unhandled"
            assert record["responsePayload"]["errorType"] == "ClientError"


def test_one_failure_leaves_one_invocation_record_that_replay_redrives(pipeline: Pipeline) -> None:
    failing = fail_operation(pipeline.processor_clients("dynamodb"), "PutItem", 3)
    transaction_id = accept(pipeline, "paypal", sample("paypal/PAYMENT.CAPTURE.REFUNDED.json"))
    assert failing() == 3
    sqs, queue_url = pipeline.stack.clients["sqs"], pipeline.stack.processor_dlq_url
    (message,) = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
    )["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["functionArn"].split(":")[6] == PROCESSOR
    assert record["requestPayload"]["transaction"]["transaction_id"] == transaction_id
    assert record["responsePayload"]["errorType"] == "ClientError"
    assert "MessageAttributes" not in message  # a DeadLetterConfig message would carry RequestID etc.

    log: list[str] = []
    summary = replay_queue(sqs, queue_url, PROCESSOR, pipeline.lambda_, apply=True, report=log.append)

    assert (len(summary.replayed), summary.failed) == (1, [])
    assert assert_nothing_dropped(pipeline, [transaction_id]) == {"processor": [], "notifier": []}
    assert pipeline.stack.item(transaction_id) is not None
