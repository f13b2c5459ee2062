"""Subscribers in other accounts (docs/consumers.md): the topic policy the SubscriberAccountIds parameter
gives each event topic, nothing when it is empty, nothing asked of the stack's key; and the page's
example subscriber stack and consumer, checked against what the notifier publishes."""

from __future__ import annotations

import fnmatch
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode.cfn_yaml import loads

from handlers.core.notifying import FILTER_ATTRIBUTES
from tapstack.cfn.model import Resolver, Template, references
from tapstack.parameter_files import parameter_problems
from templates.contract import SUFFIX_PARAMETER
from templates.messaging import SUBSCRIBER_PROTOCOL
from templates.parameters import ORDERED_DELIVERY_TOPIC, SUBSCRIBER_ACCOUNT_IDS
from tests.support.docs import CONSUMERS_PAGE as PAGE
from tests.support.docs import code_block

pytestmark = pytest.mark.settings

Document = dict[str, Any]
ACCOUNTS = ("111122223333", "444455556666")
ALARM_TOPIC = "AlarmTopic"


def _resolver(template: Document, **parameters: str) -> Resolver:
    model = Template(template)
    return model.resolver(
        {
            SUFFIX_PARAMETER: "test",
            "CodeS3Bucket": "code",
            "CodeS3Key": "code.zip",
            "AWS::Region": "eu-west-1",
        }
        | parameters,
        physical_ids={
            logical_id: f"arn:aws:sns:eu-west-1:123456789012:{logical_id}" for logical_id in model.resources
        },
    )


def _topic_policies(template: Document, resolver: Resolver) -> dict[str, Document]:
    """The topic policies that exist for these parameters, by the topic each covers."""
    policies = {}
    for resource in Template(template).resources_of_type("AWS::SNS::TopicPolicy"):
        condition = resource.definition.get("Condition")
        if condition is None or resolver.condition(condition):
            (topic,) = references(resource.properties["Topics"])
            policies[topic] = resource.properties["PolicyDocument"]
    return policies


def _event_topics(template: Document, resolver: Resolver) -> list[str]:
    return [
        resource.logical_id
        for resource in Template(template).resources_of_type("AWS::SNS::Topic")
        if resource.logical_id != ALARM_TOPIC
        and ("Condition" not in resource.definition or resolver.condition(resource.definition["Condition"]))
    ]


def _arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: each of the six colon-separated parts matched on its own, `*` and `?` wildcards."""
    return all(
        fnmatch.fnmatchcase(part, wanted)
        for part, wanted in zip(arn.split(":", 5), pattern.split(":", 5), strict=True)
    )


@pytest.mark.parametrize("ordered", ["true", "false"])
def test_no_topic_policy_while_no_other_account_is_listed(template: Document, ordered: str) -> None:
    default = template["Parameters"][SUBSCRIBER_ACCOUNT_IDS]["Default"]
    assert default == ""
    assert _topic_policies(template, _resolver(template, **{ORDERED_DELIVERY_TOPIC: ordered})) == {}


@pytest.mark.parametrize("ordered", ["true", "false"])
def test_listed_accounts_may_subscribe_their_own_queues_to_each_event_topic_and_nothing_else(
    template: Document, ordered: str
) -> None:
    resolver = _resolver(
        template, **{SUBSCRIBER_ACCOUNT_IDS: ",".join(ACCOUNTS), ORDERED_DELIVERY_TOPIC: ordered}
    )
    policies = _topic_policies(template, resolver)
    topics = _event_topics(template, resolver)
    assert sorted(policies) == sorted(topics)
    assert len(topics) == (2 if ordered == "true" else 1)
    for topic, document in policies.items():
        statements = resolver.resolve(document)["Statement"]
        (allowed,) = [s for s in statements if s["Effect"] == "Allow"]
        assert allowed["Principal"] == {"AWS": list(ACCOUNTS)}
        assert allowed["Action"] == ["sns:Subscribe"]
        assert allowed["Resource"] == [resolver.resolve({"Ref": topic})]
        condition = allowed["Condition"]
        assert condition["StringEquals"] == {"sns:Protocol": SUBSCRIBER_PROTOCOL}
        endpoints = condition["ArnLike"]["sns:Endpoint"]
        for account in ACCOUNTS:
            assert any(_arn_like(p, f"arn:aws:sqs:eu-west-1:{account}:payments") for p in endpoints)
            assert any(_arn_like(p, f"arn:aws:sqs:us-east-2:{account}:payments") for p in endpoints)
        assert not any(_arn_like(p, "arn:aws:sqs:eu-west-1:999999999999:payments") for p in endpoints)
        assert not any(_arn_like(p, f"arn:aws:lambda:eu-west-1:{ACCOUNTS[0]}:function:f") for p in endpoints)
        # The rest only refuses: requests without TLS.
        (denied,) = [s for s in statements if s["Effect"] == "Deny"]
        assert denied["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("", True), ("111122223333", True), ("11112222333", False), ("1111222233334", False),
     ("arn:aws:iam::111122223333:root", False), ("abcdefghijkl", False), (" 111122223333", False)],
)  # fmt: skip
def test_each_listed_account_is_a_twelve_digit_id(template: Document, value: str, accepted: bool) -> None:
    parameter = template["Parameters"][SUBSCRIBER_ACCOUNT_IDS]
    assert parameter["Type"] == "CommaDelimitedList"
    assert bool(re.search(parameter["AllowedPattern"], value)) == accepted


def test_the_page_s_parameter_file_entry_is_one_the_stack_accepts(template: Document) -> None:
    (entry,) = re.findall(r'"(' + SUBSCRIBER_ACCOUNT_IDS + r'=[^"]*)"', code_block(PAGE, "console"))
    key, value = entry.split("=", 1)
    assert parameter_problems({key: value}, template["Parameters"]) == []
    assert len(value.split(",")) > 1  # the page shows how to list several


def test_the_stack_key_grants_subscribers_nothing(template: Document) -> None:
    """SNS decrypts each message before delivering it: a subscriber never uses the topic's key."""
    model = Template(template)
    (key,) = model.resources_of_type("AWS::KMS::Key")
    assert SUBSCRIBER_ACCOUNT_IDS not in references(key.properties["KeyPolicy"])
    for topic in _event_topics(template, _resolver(template, **{ORDERED_DELIVERY_TOPIC: "true"})):
        assert references(model.resources[topic].properties["KmsMasterKeyId"]) == {key.logical_id}


# --- docs/consumers.md ---------------------------------------------------------------------------------


def test_the_page_names_exactly_the_attributes_the_notifier_publishes() -> None:
    section = PAGE.read_text().split("## Filtering", 1)[1].split("\n## ", 1)[0]
    sentence = section.split("message attributes, each a `String`:", 1)[1].split(".", 1)[0]
    named = re.sub(r"\(.*?\)", "", sentence)  # an attribute's values, in brackets, are no attributes
    assert tuple(re.findall(r"`([a-z_]+)`", named)) == FILTER_ATTRIBUTES


def test_the_example_subscriber_stack_is_valid_and_asks_for_what_sns_needs() -> None:
    text = code_block(PAGE, "yaml")
    assert lint(text, config=ManualArgs(regions=["us-east-1"], include_checks=["I"])) == []
    resources = loads(text)["Resources"]
    topic = {"Ref": "PaymentEventsTopicArn"}
    (subscription,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert (subscription["TopicArn"], subscription["Protocol"]) == (topic, SUBSCRIBER_PROTOCOL)
    assert subscription["RawMessageDelivery"] is True
    assert set(subscription["FilterPolicy"]) <= set(FILTER_ATTRIBUTES)
    # SNS writes to the queue, and encrypts with the queue's key, for this topic only.
    statements = [
        statement
        for resource in resources.values()
        for document in (
            resource["Properties"].get("PolicyDocument"),
            resource["Properties"].get("KeyPolicy"),
        )
        if document
        for statement in document["Statement"]
        if statement["Principal"] == {"Service": "sns.amazonaws.com"}
    ]
    actions = {json.dumps(s["Action"]) for s in statements}
    assert actions == {json.dumps("sqs:SendMessage"), json.dumps(["kms:GenerateDataKey*", "kms:Decrypt"])}
    assert all(s["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}} for s in statements)


def test_the_example_consumer_reads_amounts_as_exact_decimals() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(code_block(PAGE, "python"), str(PAGE), "exec"), namespace)  # noqa: S102 (the page's own example)
    event = namespace["parse"](
        '{"version":3,"amount":"0.10","currency":"EUR","transaction_id":"stripe#evt_1"}'
    )
    assert event["amount"] == Decimal("0.10")
    assert str(event["amount"]) == "0.10"
    assert event["version"] == 3
