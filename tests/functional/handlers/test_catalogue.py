"""The catalogue's providers through the receiver's Lambda entry point (API Gateway proxy events), then the
processor and the notifier as deployed: each sample signed as its provider signs it, batches split into
events each stored, archived and published once under its own key, and a hand-off that fails part-way
answered 5xx so that the provider's redelivery completes the batch without duplicates."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handlers import receiver
from handlers.providers.catalogue import CATALOGUE
from tapstack.local.delivery import Route, api_gateway_event
from tapstack.local.local_lambda import FakeContext
from tests.support.pipeline import API, EVENTS, Pipeline, rotate, sample

SAMPLES = sorted(path for name in CATALOGUE for path in (EVENTS / name).glob("*.json"))
BATCH = "gocardless/payments.confirmed+refunds.created.json"
BATCH_IDS = ["gocardless#EV0123ABCDEFGH", "gocardless#EV0124ABCDEFGH"]


def deliver(pipeline: Pipeline, relative: str) -> tuple[int, dict[str, Any]]:
    provider, name = relative.split("/")
    event = pipeline.sender.event(provider, sample(relative), event_type=name.removesuffix(".json"))
    return pipeline.send(event)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_catalogue_sample_is_verified_stored_and_published(pipeline: Pipeline, path: Path) -> None:
    relative = f"{path.parent.name}/{path.name}"
    provider = path.parent.name
    reply = CATALOGUE[provider].reply
    event = pipeline.sender.event(provider, sample(relative), event_type=path.name.removesuffix(".json"))
    response = pipeline.runtime.call_api_function(event, pipeline.lambda_)
    items = pipeline.stack.items()
    assert items
    assert all("quarantine_reason" not in item for item in items)
    if reply is not None:  # Adyen: `[accepted]` once every item is handed off
        assert (response["statusCode"], response["body"]) == (reply.status, reply.body)
        assert len(items) == len(json.loads(sample(relative))["notificationItems"])
    else:
        answer = json.loads(response["body"])
        assert response["statusCode"] == 202, answer
        events = answer.get("events", [answer])
        assert {each["status"] for each in events} == {"accepted"}, answer
        stored = sorted(item["transaction_id"] for item in items)
        assert stored == sorted(each["transaction_id"] for each in events)
    assert {item["provider"] for item in items} == {path.parent.name}
    assert len(pipeline.stack.published()) == len(items)


def test_a_batch_is_split_into_events_each_stored_archived_and_published_once(pipeline: Pipeline) -> None:
    status, answer = deliver(pipeline, BATCH)
    assert status == 202
    assert [event["transaction_id"] for event in answer["events"]] == BATCH_IDS
    items = {item["transaction_id"]: item for item in pipeline.stack.items()}
    assert sorted(items) == BATCH_IDS
    payment, refund = (items[key] for key in BATCH_IDS)
    assert (payment["kind"], payment["object_id"], payment["related_object_id"]) == (
        "payment",
        "PM0012ABCDEFGH",
        "SB0003JJQ2MR06",
    )
    assert (refund["kind"], refund["object_id"], refund["related_object_id"]) == (
        "refund",
        "RF0004ABCDEFGH",
        "PM0012ABCDEFGH",
    )
    assert "amount" not in payment  # GoCardless events carry no amounts
    # Each event archived on its own key, each with the whole signed delivery as evidence.
    keys = [
        obj["Key"]
        for obj in pipeline.stack.clients["s3"].list_objects_v2(Bucket=pipeline.stack.bucket)["Contents"]
    ]
    assert len(keys) == 2
    assert {key.split("/")[5] for key in keys} == {"EV0123ABCDEFGH", "EV0124ABCDEFGH"}
    assert len(pipeline.stack.published()) == 2
    # The provider's redelivery changes nothing.
    assert deliver(pipeline, BATCH)[0] == 202
    assert sorted(item["transaction_id"] for item in pipeline.stack.items()) == BATCH_IDS
    assert pipeline.stack.published() == []


def test_a_hand_off_failing_mid_batch_is_a_5xx_and_the_redelivery_completes_it(pipeline: Pipeline) -> None:
    pipeline.lambda_.fail_invoke(2)  # the first event is handed off, the second is not
    status, answer = deliver(pipeline, BATCH)
    assert (status, answer["error"]["code"]) == (503, "temporarily_unavailable")
    assert [item["transaction_id"] for item in pipeline.stack.items()] == BATCH_IDS[:1]
    status, _ = deliver(pipeline, BATCH)  # the provider retries the whole delivery
    assert status == 202
    assert sorted(item["transaction_id"] for item in pipeline.stack.items()) == BATCH_IDS
    assert len(pipeline.stack.published()) == 2  # the first event once, not again
    duplicates = [
        o.response["duplicate"] for o in pipeline.lambda_.outcomes if o.function.endswith("processor")
    ]
    assert duplicates == [False, True, False]


def test_a_tampered_batch_is_refused_whole(pipeline: Pipeline) -> None:
    body = sample(BATCH)
    _, headers = pipeline.sender.signer.signed("gocardless", body)
    tampered = body.replace(b'"PM0012ABCDEFGH"', b'"PM9999ABCDEFGH"', 1)
    event = api_gateway_event(Route.of("gocardless"), tampered, headers, API)
    status, answer = pipeline.send(event)
    assert (status, answer["error"]["code"]) == (401, "signature_invalid")
    assert pipeline.stack.items() == []


def test_an_authentic_batch_that_cannot_be_read_is_quarantined_whole(pipeline: Pipeline) -> None:
    status, answer = pipeline.send(pipeline.sender.event("gocardless", b'{"events": "not a list"}'))
    assert (status, answer["status"], answer["reason"]) == (202, "quarantined", "invalid_event")
    (item,) = pipeline.stack.items()
    assert item["transaction_id"].startswith("gocardless#sha256:")


def test_one_unreadable_event_of_a_batch_is_quarantined_and_the_others_stored(pipeline: Pipeline) -> None:
    document = json.loads(sample(BATCH))
    document["events"][1]["created_at"] = "yesterday"
    status, answer = pipeline.send(pipeline.sender.event("gocardless", json.dumps(document).encode()))
    assert status == 202
    assert [event["status"] for event in answer["events"]] == ["accepted", "quarantined"]
    items = {item["transaction_id"]: item for item in pipeline.stack.items()}
    assert sorted(items) == BATCH_IDS
    assert items[BATCH_IDS[1]]["quarantine_reason"] == "invalid_event"


def test_money_is_stored_exactly_with_its_meaning(pipeline: Pipeline) -> None:
    assert deliver(pipeline, "checkout-com/payment_captured.json")[0] == 202
    (item,) = pipeline.stack.items()
    assert (item["amount"], item["currency"], item["kind"], item["direction"]) == (
        Decimal("56.95"),
        "GBP",
        "capture",
        "in",
    )
    assert (item["object_id"], item["related_object_id"]) == (
        "act_y3oqhf46pyzuxjbcn2giaqnb44",
        "pay_mbabizu24mvu3mela5njyhpit4",
    )


def test_a_provider_missing_from_the_secret_refuses_everything(pipeline: Pipeline) -> None:
    rotate(pipeline, square={"signing_keys": []})
    receiver.DEPENDENCIES.set(
        receiver.Dependencies(
            pipeline.receiver_clients,
            receiver.DEPENDENCIES.get().processor_function_name,
            pipeline.stack.secret_arn,
            0,
        )
    )
    response = receiver.handler(
        pipeline.sender.event("square", sample("square/refund.created.json")), FakeContext("receiver")
    )
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "provider_not_configured"


def test_a_provider_the_stack_does_not_accept_is_not_found(pipeline: Pipeline) -> None:
    deps = receiver.DEPENDENCIES.get()
    receiver.DEPENDENCIES.set(
        receiver.Dependencies(
            pipeline.receiver_clients,
            deps.processor_function_name,
            pipeline.stack.secret_arn,
            accepted_providers=("stripe", "square"),
        )
    )
    event = pipeline.sender.event("github", sample("github/push.json"), event_type="push")
    response = receiver.handler(event, FakeContext("receiver"))
    assert response["statusCode"] == 404
    message = json.loads(response["body"])["error"]["message"]
    assert (
        message == "No such route. The routes are POST /webhooks/square, /webhooks/stripe and /transactions."
    )
