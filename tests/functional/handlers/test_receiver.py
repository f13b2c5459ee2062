"""The receiver's entry point on API Gateway REST proxy events: every answer it can give."""

import io
import json
import logging
import time
from typing import Any

import pytest

from handlers import receiver
from handlers.aws import AwsClients
from handlers.core.receiving import MAX_BODY_BYTES
from handlers.providers import stripe
from tapstack.local.delivery import Route, Sender, api_gateway_event
from tapstack.local.faults import fail_operation
from tapstack.local.local_lambda import FakeContext
from templates.config import KNOWN_PROVIDERS
from tests.support.pipeline import (
    API,
    INTERNAL_KEY,
    MALFORMED_BODIES,
    PROCESSOR,
    STRIPE_SECRET,
    Pipeline,
    rotate,
    sample,
    signer_for,
)

STRIPE_BODY = sample("stripe/payment_intent.succeeded.json")


def error_code(pipeline: Pipeline, event: dict[str, Any], status: int) -> str:
    answer, body = pipeline.send(event)
    assert answer == status, body
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "reference"}
    assert body["error"]["reference"] == event["requestContext"]["requestId"]
    return str(body["error"]["code"])


@pytest.mark.parametrize(
    ("provider", "file"),
    [
        ("stripe", "stripe/payment_intent.succeeded.json"),
        ("paypal", "paypal/PAYMENT.CAPTURE.COMPLETED.json"),
        ("generic", "generic/payment.succeeded.json"),
        ("internal", "internal/transaction.created.json"),
    ],
)
def test_each_route_accepts_a_signed_event_with_202(pipeline: Pipeline, provider: str, file: str) -> None:
    status, body = pipeline.send(pipeline.sender.event(provider, sample(file)))
    assert status == 202, body
    assert body["status"] == "accepted"
    assert body["transaction_id"] == f"{provider}#{body['event_id']}"
    assert pipeline.lambda_.outcomes[0].function == "tapstack-processor"


def test_base64_bodies_and_any_header_case_are_accepted(pipeline: Pipeline) -> None:
    headers = {
        name.upper(): value for name, value in pipeline.sender.signer.headers("stripe", STRIPE_BODY).items()
    }
    event = api_gateway_event(Route.of("stripe"), STRIPE_BODY, headers, API, base64_body=True)
    status, body = pipeline.send(event)
    assert status == 202, body


@pytest.mark.parametrize(
    ("route", "method", "status", "code"),
    [
        (Route.of("worldpay"), "POST", 404, "not_found"),
        (Route("/elsewhere"), "POST", 404, "not_found"),
        (Route.of("stripe"), "GET", 405, "method_not_allowed"),
        (Route.of("internal"), "PUT", 405, "method_not_allowed"),
    ],
)
def test_routes_and_methods(pipeline: Pipeline, route: Route, method: str, status: int, code: str) -> None:
    event = api_gateway_event(route, b"{}", {"Content-Type": "application/json"}, API, method=method)
    assert error_code(pipeline, event, status) == code


def test_an_unknown_provider_is_told_the_routes_that_exist(pipeline: Pipeline) -> None:
    event = api_gateway_event(Route.of("worldpay"), b"{}", {"Content-Type": "application/json"}, API)
    response = receiver.handler(event, FakeContext("receiver"))
    assert response["statusCode"] == 404
    message = json.loads(response["body"])["error"]["message"]
    routes = ", ".join(f"/webhooks/{name}" for name in sorted(KNOWN_PROVIDERS))
    assert message == f"No such route. The routes are POST {routes} and /transactions."
    assert "worldpay" not in message


def test_wrong_method_names_the_allowed_one(pipeline: Pipeline) -> None:
    event = api_gateway_event(Route.of("stripe"), b"{}", {}, API, method="GET")
    response = receiver.handler(event, FakeContext("receiver"))
    assert response["headers"]["Allow"] == "POST"


def test_too_large_bodies_are_413(pipeline: Pipeline) -> None:
    body = json.dumps({"id": "x", "pad": "a" * MAX_BODY_BYTES}).encode()
    assert error_code(pipeline, pipeline.sender.event("stripe", body), 413) == "payload_too_large"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_content_types_are_415(pipeline: Pipeline, content_type: str | None) -> None:
    headers = pipeline.sender.signer.headers("stripe", STRIPE_BODY)
    del headers["Content-Type"]
    if content_type:
        headers["Content-Type"] = content_type
    event = api_gateway_event(Route.of("stripe"), STRIPE_BODY, headers, API)
    assert error_code(pipeline, event, 415) == "unsupported_media_type"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Stripe-Signature": None}, "signature_missing"),
        ({"Stripe-Signature": "t=1,v1=00"}, "signature_invalid"),
        ("expired", "signature_expired"),
        ("future", "signature_expired"),
    ],
)
def test_bad_or_missing_signatures_are_401(pipeline: Pipeline, change: Any, code: str) -> None:
    headers = {"Content-Type": "application/json"}
    if change == "expired":
        headers["Stripe-Signature"] = stripe.sign(STRIPE_BODY, STRIPE_SECRET, int(time.time()) - 301)
    elif change == "future":
        headers["Stripe-Signature"] = stripe.sign(STRIPE_BODY, STRIPE_SECRET, int(time.time()) + 301)
    elif change["Stripe-Signature"]:
        headers["Stripe-Signature"] = change["Stripe-Signature"]
    assert error_code(pipeline, api_gateway_event(Route.of("stripe"), STRIPE_BODY, headers, API), 401) == code
    assert pipeline.lambda_.outcomes == []


@pytest.mark.parametrize(("body", "code"), MALFORMED_BODIES)
def test_malformed_signed_bodies_from_internal_clients_are_400(
    pipeline: Pipeline, body: bytes, code: str
) -> None:
    assert error_code(pipeline, pipeline.sender.event("internal", body), 400) == code
    assert pipeline.lambda_.outcomes == []


def test_error_answers_never_echo_the_payload(pipeline: Pipeline) -> None:
    body = (
        b'{"id":"gen-1","type":"t","occurred_at":"2026-11-23T10:00:00Z","amount":"SECRET-9","currency":"EUR"}'
    )
    answer, response = pipeline.send(pipeline.sender.event("internal", body))
    assert answer == 400
    assert "SECRET" not in json.dumps(response)


def test_an_unconfigured_provider_refuses_even_signed_requests(pipeline: Pipeline) -> None:
    rotate(pipeline, stripe_signing_secrets=[])
    receiver.DEPENDENCIES.set(
        receiver.Dependencies(pipeline.receiver_clients, PROCESSOR, pipeline.stack.secret_arn)
    )
    assert (
        error_code(pipeline, pipeline.sender.event("stripe", STRIPE_BODY), 401) == "provider_not_configured"
    )


def test_rotation_takes_effect_after_the_cache_ttl(pipeline: Pipeline) -> None:
    deps = receiver.Dependencies(pipeline.receiver_clients, PROCESSOR, pipeline.stack.secret_arn, 300)
    receiver.DEPENDENCIES.set(deps)
    body = sample("generic/payment.succeeded.json")
    assert pipeline.send(pipeline.sender.event("generic", body))[0] == 202
    rotate(pipeline, internal_hmac_key="n" * 64, internal_hmac_previous_keys=[INTERNAL_KEY])
    new_key = Sender(signer_for(pipeline.sender.signer.paypal, internal_hmac_key="n" * 64), API)
    with_new_key = new_key.event("generic", body)
    assert error_code(pipeline, with_new_key, 401) == "signature_invalid"  # cached: old material
    deps_short = receiver.Dependencies(pipeline.receiver_clients, PROCESSOR, pipeline.stack.secret_arn, 0)
    receiver.DEPENDENCIES.set(deps_short)
    assert pipeline.send(new_key.event("generic", body))[0] == 202
    assert pipeline.send(pipeline.sender.event("generic", body))[0] == 202  # previous key still accepted


def test_a_failed_hand_off_is_503_and_nothing_is_accepted(pipeline: Pipeline) -> None:
    broken = AwsClients(pipeline.stack.endpoint)  # the real boto3 Lambda client: no such function in moto
    receiver.DEPENDENCIES.set(receiver.Dependencies(broken, PROCESSOR, pipeline.stack.secret_arn))
    assert (
        error_code(pipeline, pipeline.sender.event("stripe", STRIPE_BODY), 503) == "temporarily_unavailable"
    )
    assert pipeline.stack.items() == []


def test_an_unreachable_secret_is_503(pipeline: Pipeline) -> None:
    fail_operation(pipeline.receiver_clients("secretsmanager"), "GetSecretValue")
    assert (
        error_code(pipeline, pipeline.sender.event("stripe", STRIPE_BODY), 503) == "temporarily_unavailable"
    )


def test_unexpected_errors_are_opaque_500s(pipeline: Pipeline) -> None:
    deps = receiver.DEPENDENCIES.get()

    def explode() -> float:
        raise RuntimeError("internal detail")

    deps.clock = explode
    event = pipeline.sender.event("stripe", STRIPE_BODY)
    assert error_code(pipeline, event, 500) == "internal_error"
    answer = receiver.handler(event, FakeContext("receiver"))
    assert "internal detail" not in answer["body"]


def test_logs_carry_the_correlation_id_but_no_secret_or_body(pipeline: Pipeline) -> None:
    # Formatted as Powertools writes them to stdout, at emit time (the correlation id changes per call).
    stream = io.StringIO()
    tap = logging.StreamHandler(stream)
    tap.setFormatter(receiver.logger.registered_formatter)
    target = logging.getLogger(receiver.logger.name)
    target.addHandler(tap)
    event = pipeline.sender.event("stripe", STRIPE_BODY)
    pipeline.send(event)
    bad = pipeline.sender.event("stripe", STRIPE_BODY)
    bad["headers"]["Stripe-Signature"] = bad["multiValueHeaders"]["Stripe-Signature"][0] = "t=1,v1=00"
    pipeline.send(bad)
    target.removeHandler(tap)
    logs = stream.getvalue()
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(r.get("correlation_id") == event["requestContext"]["requestId"] for r in records)
    assert any(r.get("reason") == "signature_invalid" for r in records)
    for needle in (STRIPE_SECRET, INTERNAL_KEY, "pi_3QxSample0001", "A-1001"):
        assert needle not in logs
