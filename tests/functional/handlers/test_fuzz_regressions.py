"""The seven findings of fuzzing the receiver with validly signed inputs, each with its reproducer.

Every test goes through the Lambda entry points (the receiver's API Gateway event; the processor and
notifier run on the payloads Lambda would deliver) against the moto server.
"""

import hashlib
import json
from typing import Any

import pytest

from handlers import receiver
from handlers.core.jsonbody import _STRING, parse_object
from handlers.core.receiving import MAX_BODY_BYTES
from handlers.providers import stripe
from tapstack.local.delivery import Route, api_gateway_event
from tests.support.pipeline import API, MALFORMED_BODIES, PROCESSOR, Pipeline, rotate

FUZZ_SECRET = "whsec_FUZZcurrent_7f3a9c2e5b1d40869e2a"
FUZZ_CLOCK = 1763892000
HUGE_EXPONENT_BODY = b'{"n":1e9999999999999999999}'
HUGE_EXPONENT_SIGNATURE = "t=1763892000,v1=c5c83ebe17422edb27b499048e1741701282d930a0150fca798d39d01ddc5bc1"


def generic_body(amount: str = '"1.00"', **fields: str) -> bytes:
    """A generic event; `amount` is raw JSON text, so that any number literal can be sent as written."""
    document = {
        "id": "gen-fuzz-1",
        "type": "payment.succeeded",
        "occurred_at": "2026-11-23T10:00:00Z",
        "currency": "EUR",
    } | fields
    return json.dumps(document).encode()[:-1] + b',"amount":' + amount.encode() + b"}"


def stripe_body(amount: str, currency: str = "usd", event_id: str = "evt_fuzz_1") -> bytes:
    return (
        f'{{"id":"{event_id}","type":"payment_intent.succeeded","created":1763892000,'
        f'"data":{{"object":{{"id":"pi_1","amount_received":{amount},"currency":"{currency}"}}}}}}'
    ).encode()


def quarantined_and_kept(pipeline: Pipeline, provider: str, body: bytes, reason: str) -> dict[str, Any]:
    """Send `body` signed; assert 202 quarantined, stored with `reason`, archived, not published."""
    status, answer = pipeline.send(pipeline.sender.event(provider, body))
    assert (status, answer["status"], answer["reason"]) == (202, "quarantined", reason), answer
    item = pipeline.stack.item(answer["transaction_id"])
    assert item is not None
    assert item["quarantine_reason"] == reason
    assert "amount" not in item
    assert item["body_sha256"] == hashlib.sha256(body).hexdigest()
    archived = pipeline.stack.clients["s3"].get_object(
        Bucket=pipeline.stack.bucket, Key=item["audit_object_key"]
    )
    assert archived["Body"].read() == body
    assert pipeline.stack.published() == []
    assert pipeline.stack.dead_letters(pipeline.stack.processor_dlq_url) == []
    assert pipeline.stack.dead_letters(pipeline.stack.notifier_dlq_url) == []
    return item


# 1. A number Decimal cannot represent: was a 500 on every route.


def test_the_reported_stripe_reproducer_is_kept_in_quarantine_not_a_500(pipeline: Pipeline) -> None:
    assert stripe.sign(HUGE_EXPONENT_BODY, FUZZ_SECRET, FUZZ_CLOCK) == HUGE_EXPONENT_SIGNATURE
    rotate(pipeline, stripe_signing_secrets=[FUZZ_SECRET])
    receiver.DEPENDENCIES.get().clock = lambda: float(FUZZ_CLOCK)
    event = api_gateway_event(
        Route.of("stripe"),
        HUGE_EXPONENT_BODY,
        {"Content-Type": "application/json", "Stripe-Signature": HUGE_EXPONENT_SIGNATURE},
        API,
    )
    status, answer = pipeline.send(event)
    assert (status, answer["status"], answer["reason"]) == (202, "quarantined", "body_malformed"), answer
    digest = hashlib.sha256(HUGE_EXPONENT_BODY).hexdigest()
    assert answer["transaction_id"] == f"stripe#sha256:{digest}"  # no readable id: keyed by the body


@pytest.mark.parametrize("provider", ["stripe", "paypal", "generic"])
def test_a_huge_exponent_on_a_provider_route_is_quarantined(pipeline: Pipeline, provider: str) -> None:
    quarantined_and_kept(pipeline, provider, HUGE_EXPONENT_BODY, "body_malformed")


def test_a_huge_exponent_from_an_internal_client_is_a_400(pipeline: Pipeline) -> None:
    status, answer = pipeline.send(pipeline.sender.event("internal", HUGE_EXPONENT_BODY))
    assert (status, answer["error"]["code"]) == (400, "body_malformed")


# 2. Amounts boto3 cannot serialise: were accepted with 202, then dead-lettered on every replay.


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("generic", generic_body("0E-200")),
        ("generic", generic_body("0e500")),
        ("generic", generic_body("1.2345678901234567890123456789012345678E-130")),
        ("stripe", stripe_body("0E+200")),
    ],
)
def test_amounts_boto3_cannot_store_are_quarantined_not_dead_lettered(
    pipeline: Pipeline, provider: str, body: bytes
) -> None:
    item = quarantined_and_kept(pipeline, provider, body, "amount_invalid")
    assert item["transaction_id"] in {"generic#gen-fuzz-1", "stripe#evt_fuzz_1"}
    assert item["quarantine_detail"] == "amount cannot be stored exactly by DynamoDB"


def test_an_exponent_in_a_decimal_string_is_not_a_decimal_string(pipeline: Pipeline) -> None:
    item = quarantined_and_kept(pipeline, "generic", generic_body('"0E-200"'), "invalid_event")
    assert item["quarantine_detail"] == "amount must be a decimal string"


def test_a_quarantined_redelivery_is_a_duplicate(pipeline: Pipeline) -> None:
    body = stripe_body("0E+200")
    first = quarantined_and_kept(pipeline, "stripe", body, "amount_invalid")
    status, answer = pipeline.send(pipeline.sender.event("stripe", body))
    assert (status, answer["transaction_id"]) == (202, first["transaction_id"])
    assert [o.response for o in pipeline.lambda_.outcomes if o.function == PROCESSOR][-1]["duplicate"] is True
    assert len(pipeline.stack.items()) == 1


@pytest.mark.parametrize(("body", "code"), MALFORMED_BODIES)
def test_every_signed_body_internal_clients_get_a_400_for_is_quarantined_on_a_provider_route(
    pipeline: Pipeline, body: bytes, code: str
) -> None:
    quarantined_and_kept(pipeline, "generic", body, code)


# 3. The string pattern was quadratic on unterminated strings (78 s for 128 KiB).


@pytest.mark.parametrize(
    "body", [b'"' + b'\\"' * 40_000, b'"' + b"\\" * 40_001, b'"\\' * 40_000, b'\\"' * 40_000 + b"\\"]
)
def test_an_opening_quote_always_consumes_to_the_end_in_one_match(body: bytes) -> None:
    """Why stripping strings is linear: no start position is ever tried twice for an open string."""
    first = body.index(b'"')
    match = _STRING.match(body, first)
    assert match is not None
    assert match.end() == len(body)


def test_the_worst_body_that_was_quadratic_is_answered(pipeline: Pipeline) -> None:
    body = b'\\"' * (MAX_BODY_BYTES // 2)
    assert len(body) == MAX_BODY_BYTES
    quarantined_and_kept(pipeline, "generic", body, "body_malformed")


def test_depth_counting_ignores_brackets_in_strings_even_unterminated_ones() -> None:
    assert parse_object(b'{"a":"[[[[[[' + b"[" * 100 + b'"}') == {"a": "[" * 106}


# 4. Years before 1000 lost their zero padding in the stored time and the audit key.


def test_years_before_1000_keep_four_digits(pipeline: Pipeline) -> None:
    body = generic_body(occurred_at="0999-12-31T23:59:59Z")
    status, answer = pipeline.send(pipeline.sender.event("generic", body))
    assert status == 202, answer
    item = pipeline.stack.item(answer["transaction_id"])
    assert item is not None
    assert item["occurred_at"] == "0999-12-31T23:59:59.000Z"
    assert item["audit_object_key"].startswith("raw/generic/0999/12/31/gen-fuzz-1/")


# 5. Non-ASCII letters that str.upper() folds onto ISO codes.


# Look-alikes of usd and inr: long s, dotless i, Cyrillic dze, full-width letters.
@pytest.mark.parametrize("code", ["u\u017fd", "\u0131nr", "u\u0455d", "\uff35\uff33\uff24"])
def test_non_ascii_currency_look_alikes_are_not_iso_codes(pipeline: Pipeline, code: str) -> None:
    status, answer = pipeline.send(pipeline.sender.event("internal", generic_body(currency=code)))
    assert (status, answer["error"]["code"]) == (400, "invalid_event")
    quarantined_and_kept(pipeline, "generic", generic_body(currency=code), "invalid_event")
    quarantined_and_kept(pipeline, "stripe", stripe_body("100", code, "evt_fuzz_2"), "invalid_event")


# 6. Envelope fields of the wrong JSON type: were opaque 500s.


@pytest.mark.parametrize(
    "change",
    [
        {"pathParameters": "stripe"},
        {"pathParameters": ["stripe"]},
        {"pathParameters": {"provider": ["stripe"]}},
        {"headers": ["Content-Type"], "multiValueHeaders": None},
        {"multiValueHeaders": ["Content-Type"]},
        {"requestContext": 7},
    ],
)
def test_odd_envelope_types_are_400_request_malformed(pipeline: Pipeline, change: dict[str, Any]) -> None:
    event = pipeline.sender.event("stripe", stripe_body("100")) | change
    status, answer = pipeline.send(event)
    assert (status, answer["error"]["code"]) == (400, "request_malformed"), answer
    assert pipeline.lambda_.outcomes == []


# 7. A lone surrogate in the secret: was a 500 where any other malformed secret is a 503.


def test_a_secret_holding_a_lone_surrogate_is_a_503(pipeline: Pipeline) -> None:
    rotate(pipeline, stripe_signing_secrets=["whsec_\ud800"])
    status, answer = pipeline.send(pipeline.sender.event("stripe", stripe_body("100")))
    assert (status, answer["error"]["code"]) == (503, "temporarily_unavailable")
