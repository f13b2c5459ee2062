"""Ordering on the emulator: the objects table's conditional write between racing processors, and a
payment's events delivered backwards through the three entry points (docs/webhooks.md, "Ordering")."""

import json
from typing import Any

import pytest

from handlers import notifier
from handlers.aws import DynamoObjectStates, DynamoTransactions, S3Archive, from_attributes
from handlers.core.model import Item
from handlers.core.processing import process
from tests.support.lifecycles import LifecycleEvent, stripe_payment
from tests.support.pipeline import Pipeline, Stack


def ports(stack: Stack) -> tuple[DynamoTransactions, S3Archive, DynamoObjectStates]:
    dynamodb = stack.clients["dynamodb"]
    return (
        DynamoTransactions(dynamodb, stack.table),
        S3Archive(stack.clients["s3"], stack.bucket),
        DynamoObjectStates(dynamodb, stack.objects_table),
    )


def object_state(stack: Stack, key: str) -> Item:
    response = stack.clients["dynamodb"].get_item(
        TableName=stack.objects_table, Key={"object_key": {"S": key}}, ConsistentRead=True
    )
    return from_attributes(response["Item"])


class InterruptedStates(DynamoObjectStates):
    """This processor's state write, held until another processor has applied `rival` in full."""

    def __init__(self, stack: Stack, rival: LifecycleEvent) -> None:
        super().__init__(stack.clients["dynamodb"], stack.objects_table)
        self.stack, self.rival = stack, rival
        self.interrupted = False

    def put_if_unchanged(self, state: Item, applied_transaction_id: str | None) -> bool:
        if not self.interrupted:
            self.interrupted = True
            process(self.rival.handoff(), *ports(self.stack), "2026-11-23T11:00:00.000Z")
        return super().put_if_unchanged(state, applied_transaction_id)


@pytest.mark.parametrize(("mine", "rival"), [(2, 1), (1, 2), (4, 3), (3, 4)])
def test_two_processors_racing_on_one_object_leave_the_later_event(
    pipeline: Pipeline, mine: int, rival: int
) -> None:
    stack = pipeline.stack
    events = stripe_payment()
    store, archive, _ = ports(stack)
    states = InterruptedStates(stack, events[rival])
    processed = process(events[mine].handoff(), store, archive, states, "2026-11-23T11:00:01.000Z")
    later = events[max(mine, rival)].transaction.transaction_id
    assert object_state(stack, "stripe#pi_1")["transaction_id"] == later
    assert processed.transaction["stale"] == ("true" if rival > mine else "false")
    rivals_item = stack.item(events[rival].transaction.transaction_id)
    assert rivals_item is not None
    assert rivals_item["stale"] == "false"  # it was applied first: it was the latest on arrival


def test_a_payment_delivered_backwards_ends_refunded_with_every_earlier_event_stale(
    pipeline: Pipeline,
) -> None:
    events = stripe_payment()
    for event in reversed(events):
        status, answer = pipeline.send(pipeline.sender.event("stripe", event.body))
        assert status == 202, answer
    state = object_state(pipeline.stack, "stripe#pi_1")
    assert (state["event_type"], state["amount"]) == ("charge.refunded", events[-1].transaction.amount)
    latest = events[-1].transaction.transaction_id
    for event in events[:-1]:
        item: dict[str, Any] | None = pipeline.stack.item(event.transaction.transaction_id)
        assert item is not None
        assert (item["stale"], item["superseded_by"]) == ("true", latest)
    published = {m["body"]["transaction_id"]: m for m in pipeline.stack.published()}
    assert len(published) == len(events)
    for transaction_id, message in published.items():
        stale = "false" if transaction_id == latest else "true"
        assert message["attributes"]["stale"]["StringValue"] == message["body"]["stale"] == stale


def test_the_fifo_topic_delivers_one_objects_messages_in_order_to_an_sqs_fifo_subscriber(
    pipeline: Pipeline,
) -> None:
    stack, sns, sqs = pipeline.stack, pipeline.stack.clients["sns"], pipeline.stack.clients["sqs"]
    name = stack.table.replace("transactions-", "events-")
    topic_arn = sns.create_topic(
        Name=f"{name}.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"}
    )["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    notifier.DEPENDENCIES.set(
        notifier.Dependencies(pipeline.notifier_clients, stack.table, stack.topic_arn, topic_arn)
    )
    created, action, succeeded, partial, full = stripe_payment()
    arrivals = [succeeded, created, full, action, partial]
    for event in arrivals:
        status, answer = pipeline.send(pipeline.sender.event("stripe", event.body))
        assert status == 202, answer

    received = []
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
    ).get("Messages", []):
        for message in messages:
            received.append((message["Attributes"]["MessageGroupId"], json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert [body["transaction_id"] for _, body in received] == [
        e.transaction.transaction_id for e in arrivals
    ]
    assert {group for group, _ in received} == {"stripe#pi_1"}
    assert [body["stale"] for _, body in received] == ["false", "true", "false", "true", "true"]
