"""`tapstack local republish` on the stack deployed in the emulator: events delivered through the real
pipeline before, within and after a window, then re-published to one subscriber's queue."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.aws import DynamoTransactions
from handlers.core.fields import utc_iso
from handlers.core.model import Kind
from handlers.core.notifying import REPUBLISHED, publication
from handlers.core.windows import RECEIVED_DAY_SHARDS, Window
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.local.send import LocalRuntime, drain_published, stored_item
from tapstack.operate.republish import StackEvents
from templates.contract import RECEIVED_INDEX, TRANSACTIONS_TABLE_NAME
from tests.integration.conftest import on_emulator
from tests.support.lifecycles import stripe_payment


@dataclass(frozen=True)
class Queue:
    arn: str
    url: str


def _queue(stack: LocalRuntime, fifo: bool = False) -> Queue:
    """A subscriber's queue of its own (not subscribed: only `--to` can reach it)."""
    sqs = stack.clients("sqs")
    name = f"subscriber-{uuid.uuid4().hex[:12]}"
    attributes = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=f"{name}.fifo" if fifo else name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Queue(arn, url)


def _deliver(stack: LocalRuntime, body: bytes) -> str:
    delivery = stack.deliver(stack.sender().event("stripe", body))
    assert delivery.status == 202, delivery.body
    return str(delivery.body["transaction_id"])


@dataclass(frozen=True)
class Traffic:
    since: str
    until: str
    in_order: list[str]
    """The window's events (the quarantined one aside), in received order (ties by id)."""
    payments: list[str]
    """The window's `payment` events, in received order."""
    others: list[str]
    """The window's events of other kinds."""
    outside: list[str]
    originals: dict[str, dict[str, Any]]
    """The message the notifier published for each event, by transaction id."""


@pytest.fixture
def traffic(stack: LocalRuntime) -> Traffic:
    """One payment's five events: the first before the window, the last after it, three payment events
    and one refund within it; and a quarantined delivery within it."""
    stack.drain_published()
    events = stripe_payment(uuid.uuid4().hex[:12])
    before = _deliver(stack, events[0].body)
    since = utc_iso(datetime.now(UTC))
    within = [_deliver(stack, event.body) for event in events[1:4]]
    quarantined = _deliver(stack, events[1].body.replace(b'"usd"', b'"xts"').replace(b"evt_", b"evt_q"))
    until = utc_iso(datetime.now(UTC))
    after = _deliver(stack, events[4].body)
    table = stack.outputs[TRANSACTIONS_TABLE_NAME]
    items = {tid: stored_item(stack.clients("dynamodb"), table, tid) for tid in [*within, quarantined]}
    assert "quarantine_reason" in (items[quarantined] or {})
    ordered = sorted(within, key=lambda tid: (str((items[tid] or {})["received_at"]), tid))
    kinds = {tid: (items[tid] or {})["kind"] for tid in within}
    originals = {message["message"]["transaction_id"]: message for message in stack.drain_published()}
    return Traffic(
        since,
        until,
        ordered,
        [tid for tid in ordered if kinds[tid] == Kind.PAYMENT],
        [tid for tid in ordered if kinds[tid] != Kind.PAYMENT],
        [before, after, quarantined],
        originals,
    )


def _republish(stack: LocalRuntime, capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, Any]:
    port = str(stack.clients.endpoint_url).rsplit(":", 1)[1]
    capsys.readouterr()
    status = main(["local", "republish", *arguments, "--port", port, "--env", stack.environment])
    output = capsys.readouterr()
    return status, json.loads(output.out) if output.out else output.err


def test_a_window_reaches_only_the_named_queue_once_in_order_marked_republished(
    stack: LocalRuntime, traffic: Traffic, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(traffic.payments) == 2
    assert len(traffic.others) == 1  # the partial refund: a refund_total
    subscriber, bystander = _queue(stack), _queue(stack)
    window = ["--since", traffic.since, "--until", traffic.until]

    status, document = _republish(
        stack, capsys, *window, "--kind", "payment", "--to", subscriber.arn, "--apply"
    )

    assert status == ExitCode.OK, document
    assert [event["transaction_id"] for event in document["sent"]] == traffic.payments
    assert document["destination"] == {"queue": subscriber.arn}
    received = drain_published(stack.clients("sqs"), subscriber.url)
    assert [message["message"]["transaction_id"] for message in received] == traffic.payments
    for message in received:
        original = traffic.originals[message["message"]["transaction_id"]]
        assert message["message"] == original["message"] | {REPUBLISHED: "true"}
        assert message["attributes"] == original["attributes"] | {REPUBLISHED: "true"}
    assert drain_published(stack.clients("sqs"), bystander.url) == []
    assert stack.drain_published() == []  # nothing through the topic


def test_a_dry_run_lists_the_window_and_sends_nothing(
    stack: LocalRuntime, traffic: Traffic, capsys: pytest.CaptureFixture[str]
) -> None:
    subscriber = _queue(stack)

    status, document = _republish(stack, capsys, "--since", traffic.since, "--until", traffic.until)
    assert status == ExitCode.OK, document
    status, to_queue = _republish(
        stack, capsys, "--since", traffic.since, "--until", traffic.until, "--to", subscriber.arn
    )
    assert status == ExitCode.OK, to_queue

    # nothing outside the window, nothing quarantined
    assert [event["transaction_id"] for event in document["would_send"]] == traffic.in_order
    assert document["skipped"] == []
    assert document["applied"] is False
    for event in document["would_send"]:
        original = traffic.originals[event["transaction_id"]]["message"]
        assert event["message"] == original | {REPUBLISHED: "true"}
    assert to_queue["would_send"] == document["would_send"]
    assert drain_published(stack.clients("sqs"), subscriber.url) == []
    assert stack.drain_published() == []


def test_the_window_is_read_from_the_index_never_by_a_scan(stack: LocalRuntime, traffic: Traffic) -> None:
    calls: list[str] = []

    def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
        calls.append(f"{event_name.rsplit('.', 1)[1]} {params.get('IndexName', '')}".strip())

    dynamodb = stack.clients("dynamodb")
    dynamodb.meta.events.register("before-parameter-build.dynamodb", record)
    try:
        events = StackEvents.of_deployment(on_emulator(stack.clients, stack.environment))
        window = Window(datetime.fromisoformat(traffic.since), datetime.fromisoformat(traffic.until))
        result = events.republish(window, (), events.topics, apply=False)
    finally:
        dynamodb.meta.events.unregister("before-parameter-build.dynamodb", record)

    assert [event["transaction_id"] for event in result.events] == traffic.in_order
    # One Query per shard of the window's one or two days, then the items by key: nothing else.
    assert set(calls) == {f"Query {RECEIVED_INDEX}", "BatchGetItem"}
    assert calls.count(f"Query {RECEIVED_INDEX}") == RECEIVED_DAY_SHARDS * len(window.day_keys())


def test_items_stored_before_the_index_are_found_once_backfilled(
    stack: LocalRuntime, traffic: Traffic, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb, table = stack.clients("dynamodb"), stack.outputs[TRANSACTIONS_TABLE_NAME]
    older = traffic.in_order[1]
    before = stored_item(dynamodb, table, older)
    dynamodb.update_item(  # as the processor stored it before the index existed
        TableName=table,
        Key={"transaction_id": {"S": older}},
        UpdateExpression="REMOVE received_day, received_order",
    )
    window = ["--since", traffic.since, "--until", traffic.until]

    _, document = _republish(stack, capsys, *window)
    assert [event["transaction_id"] for event in document["would_send"]] == [
        tid for tid in traffic.in_order if tid != older
    ]
    status, listed = _republish(stack, capsys, *window, "--backfill")
    assert status == ExitCode.OK, listed
    assert [event["transaction_id"] for event in listed["would_key"]] == [older]  # not the quarantined one
    assert "received_order" not in (stored_item(dynamodb, table, older) or {})

    status, keyed = _republish(stack, capsys, *window, "--backfill", "--apply")
    assert status == ExitCode.OK, keyed
    assert [event["transaction_id"] for event in keyed["keyed"]] == [older]
    assert stored_item(dynamodb, table, older) == before  # the keys the processor writes, nothing else
    _, document = _republish(stack, capsys, *window)
    assert [event["transaction_id"] for event in document["would_send"]] == traffic.in_order
    _, again = _republish(stack, capsys, *window, "--backfill", "--apply")
    assert again["keyed"] == []


def test_to_the_topic_every_subscription_receives_the_window_marked_republished(
    stack: LocalRuntime, traffic: Traffic, capsys: pytest.CaptureFixture[str]
) -> None:
    bystander = _queue(stack)
    window = ["--since", traffic.since, "--until", traffic.until]

    status, document = _republish(stack, capsys, *window, "--kind", "refund_total", "--apply")

    assert status == ExitCode.OK, document
    assert set(document["destination"]) >= {"topic"}
    received = stack.drain_published()  # the stack's subscribed queue (raw delivery)
    assert [message["message"]["transaction_id"] for message in received] == traffic.others
    for message in received:
        original = traffic.originals[message["message"]["transaction_id"]]
        assert message["message"] == original["message"] | {REPUBLISHED: "true"}
        assert message["attributes"] == original["attributes"] | {REPUBLISHED: "true"}
    assert drain_published(stack.clients("sqs"), bystander.url) == []


def test_a_fifo_queue_gets_the_notifier_s_message_group_and_deduplication_id(
    stack: LocalRuntime, traffic: Traffic, capsys: pytest.CaptureFixture[str]
) -> None:
    subscriber = _queue(stack, fifo=True)
    window = ["--since", traffic.since, "--until", traffic.until]

    status, document = _republish(stack, capsys, *window, "--to", subscriber.arn, "--apply")

    assert status == ExitCode.OK, document
    sqs = stack.clients("sqs")
    received = sqs.receive_message(
        QueueUrl=subscriber.url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    store = DynamoTransactions(stack.clients("dynamodb"), stack.outputs[TRANSACTIONS_TABLE_NAME])
    groups: dict[str, list[str]] = {}
    for message in received:
        transaction_id = json.loads(message["Body"])["transaction_id"]
        item = store.get(transaction_id)
        assert item is not None
        expected = publication(item, republished=True)
        assert message["Body"] == expected.body
        assert message["Attributes"]["MessageGroupId"] == expected.group_id
        assert message["Attributes"]["MessageDeduplicationId"] == expected.deduplication_id
        groups.setdefault(expected.group_id, []).append(transaction_id)
    # FIFO orders each group: each group's events in received order, the window's all there
    assert sorted(tid for group in groups.values() for tid in group) == sorted(traffic.in_order)
    for group in groups.values():
        assert group == [tid for tid in traffic.in_order if tid in group]
