"""A subscriber's queue on the emulator (docs/consumers.md): subscribed to the events topic with each
filter policy the page shows and raw delivery, it receives exactly the messages the notifier publishes
that match, each once, and the page's consumer reads their amounts exactly."""

import json
from decimal import Decimal
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import loads

from tests.support.docs import CONSUMERS_PAGE, code_block
from tests.support.lifecycles import stripe_payment
from tests.support.pipeline import Pipeline, sample


def _example_subscription() -> dict[str, Any]:
    """The properties of the subscription in the page's example subscriber stack."""
    resources = loads(code_block(CONSUMERS_PAGE, "yaml"))["Resources"]
    (subscription,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    return dict(subscription)


def _page_filter_policies() -> list[dict[str, Any]]:
    """The filter policies the page shows: its example stack's, and each line of its JSON examples."""
    examples = [json.loads(line) for line in code_block(CONSUMERS_PAGE, "json").splitlines() if line]
    return [_example_subscription()["FilterPolicy"], *examples]


def _accepts(rule: object, value: str) -> bool:
    """One entry of a filter policy's list, as SNS documents it: an exact string, a `prefix`, or
    `anything-but` a list of strings."""
    if isinstance(rule, str):
        return value == rule
    assert isinstance(rule, dict), rule
    ((operator, operand),) = rule.items()
    if operator == "prefix":
        return value.startswith(operand)
    assert operator == "anything-but", f"the test does not evaluate {operator}"
    return value not in operand


def _matches(policy: dict[str, list[Any]], attributes: dict[str, Any]) -> bool:
    """SNS's verdict: every key of the policy present, its value accepted by one of the key's entries."""
    return all(
        name in attributes and any(_accepts(rule, attributes[name]["StringValue"]) for rule in rules)
        for name, rules in policy.items()
    )


@pytest.mark.parametrize("policy", _page_filter_policies(), ids=json.dumps)
def test_a_filtered_raw_subscription_receives_exactly_the_matching_messages_once(
    pipeline: Pipeline, policy: dict[str, list[Any]]
) -> None:
    stack, sns, sqs = pipeline.stack, pipeline.stack.clients["sns"], pipeline.stack.clients["sqs"]
    example = _example_subscription()
    queue_url = sqs.create_queue(QueueName=stack.table.replace("transactions-", "subscriber-"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(
        TopicArn=stack.topic_arn,
        Protocol=example["Protocol"],
        Endpoint=queue_arn["QueueArn"],
        Attributes={
            "RawMessageDelivery": str(example["RawMessageDelivery"]).lower(),
            "FilterPolicyScope": example["FilterPolicyScope"],
            "FilterPolicy": json.dumps(policy),
        },
    )
    # A Stripe payment delivered backwards (only its last event is current, the others stale), and
    # deliveries of two other providers.
    deliveries = [("stripe", event.body) for event in reversed(stripe_payment())]
    deliveries += [
        ("paypal", sample("paypal/PAYMENT.CAPTURE.COMPLETED.json")),
        ("generic", sample("generic/payment.succeeded.json")),
    ]
    for provider, body in deliveries:
        status, answer = pipeline.send(pipeline.sender.event(provider, body))
        assert status == 202, answer

    # Every publication, as the stack's own unfiltered subscription received them.
    published = stack.published()
    assert len(published) == len(deliveries)
    expected = sorted(m["body"]["transaction_id"] for m in published if _matches(policy, m["attributes"]))
    assert 0 < len(expected) < len(published), "each example filter keeps some messages and drops others"

    consumer: dict[str, Any] = {}
    exec(compile(code_block(CONSUMERS_PAGE, "python"), str(CONSUMERS_PAGE), "exec"), consumer)  # noqa: S102
    received = []
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        for message in messages:
            event = consumer["parse"](message["Body"])  # raw: the body is the message itself
            assert {name: a["StringValue"] for name, a in message["MessageAttributes"].items()} == {
                name: event[name] for name in message["MessageAttributes"]
            }
            received.append(event)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(event["transaction_id"] for event in received) == expected
    for event in received:
        item = stack.item(event["transaction_id"])
        assert item is not None
        assert isinstance(event["amount"], Decimal)
        assert event["amount"] == item["amount"]
