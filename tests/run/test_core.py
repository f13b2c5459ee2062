"""Unit tests of the pure core: money, strict JSON, headers, secrets, payload shapes, messages."""

import hashlib
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeSerializer
from hypothesis import given, settings

from handlers.core import money
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers, HttpRequest
from handlers.core.jsonbody import MAX_DEPTH, parse_object
from handlers.core.model import HandOff, Item, Transaction, json_safe
from handlers.core.notifying import message, notify, subject, transaction_id_of
from handlers.core.processing import audit_key, process
from handlers.core.receiving import MAX_BODY_BYTES
from handlers.core.secrets import TtlCache, VerificationMaterial
from tests.run.strategies import edge_decimals


def reason_of(call: Any, *args: Any) -> Reason:
    with pytest.raises(RejectionError) as caught:
        call(*args)
    return caught.value.reason


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (2000, "USD", "20.00"),
        (1, "USD", "0.01"),
        (1500, "JPY", "1500"),
        (1500, "KRW", "1500"),
        (12345, "BHD", "12.345"),
        (10, "KWD", "0.010"),
        (1, "JOD", "0.001"),
        (7, "OMR", "0.007"),
        (250, "TND", "0.250"),
        (12345, "CLF", "1.2345"),
        (0, "EUR", "0.00"),
    ],
)
def test_minor_units_scale_by_the_iso_exponent_exactly(minor: int, currency: str, major: str) -> None:
    code, exponent = money.currency_exponent(currency.lower())
    amount = money.from_minor_units(Decimal(minor), exponent)
    assert code == currency
    assert str(amount) == major


def test_scaling_never_rounds_beyond_the_default_context_precision() -> None:
    minor = Decimal("1234567890123456789012345678901234567")  # 37 digits, above Decimal's default 28
    assert money.from_minor_units(minor, 2) == Decimal("12345678901234567890123456789012345.67")


@pytest.mark.parametrize("value", [Decimal("12.5"), Decimal("NaN"), "12", None, Decimal("Infinity")])
def test_minor_units_must_be_integers(value: object) -> None:
    assert reason_of(money.from_minor_units, value, 2) is Reason.INVALID_EVENT


@pytest.mark.parametrize("code", ["XXX", "usdx", "", None, 840, "XAU"])
def test_unknown_currencies_are_refused(code: object) -> None:
    assert reason_of(money.currency_exponent, code) is Reason.INVALID_EVENT


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [
        ("10.99", 2, "10.99"),
        ("10", 2, "10"),
        ("1500", 0, "1500"),
        ("1.234", 3, "1.234"),
        ("-5.00", 2, "-5.00"),
    ],
)
def test_decimal_text_within_the_currency_places(text: str, places: int, expected: str) -> None:
    assert str(money.from_decimal_text(text, places)) == expected


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("10.999", 2),
        ("1500.5", 0),
        ("1e3", None),
        (" 1", None),
        ("1.", None),
        (".5", None),
        ("", None),
        (12, None),
    ],
)
def test_malformed_or_too_precise_decimal_text_is_refused(text: object, places: int | None) -> None:
    assert reason_of(money.from_decimal_text, text, places) is Reason.INVALID_EVENT


@pytest.mark.parametrize(
    "text",
    ["1" * 38, "9.9999999999999999999999999999999999999E+125", "1E-130", "-1E-130", "0", "0.00", "0E+88"],
)
def test_dynamodb_limits_are_accepted_up_to_the_edge(text: str) -> None:
    assert money.storable(Decimal(text)) == Decimal(text)


@pytest.mark.parametrize(
    "text",
    [
        "1" * 39,
        "1E+126",  # boto3's context takes it; DynamoDB documents 9.99...E+125 as its largest number
        "1E-131",  # likewise below 1E-130
        "1.00000000000000000000000000000000000000",
        # The fuzzing issue's reproducers: boto3 raises Clamped, Underflow or Inexact on each.
        "0E-200",
        "0e500",
        "0E+200",
        "1.2345678901234567890123456789012345678E-130",
    ],
)
def test_amounts_dynamodb_cannot_hold_exactly_are_refused(text: str) -> None:
    assert reason_of(money.storable, Decimal(text)) is Reason.AMOUNT_INVALID


def test_the_core_uses_boto3s_own_number_context() -> None:
    ours, boto3s = money.DYNAMODB_CONTEXT, DYNAMODB_CONTEXT
    assert (ours.prec, ours.Emin, ours.Emax, ours.rounding, ours.clamp) == (
        boto3s.prec,
        boto3s.Emin,
        boto3s.Emax,
        boto3s.rounding,
        boto3s.clamp,
    )
    assert {signal for signal, on in ours.traps.items() if on} == {
        signal for signal, on in boto3s.traps.items() if on
    }


def _boto3_serialises(amount: Decimal) -> bool:
    try:
        TypeSerializer().serialize(amount)
    except Exception:
        return False
    return True


@settings(max_examples=400)
@given(amount=edge_decimals)
def test_storable_agrees_with_boto3s_serializer_inside_dynamodbs_range(amount: Decimal) -> None:
    """Whatever boto3 refuses is refused; what it takes is stored as the same text, inside the range."""
    try:
        money.storable(amount)
    except RejectionError:
        in_range = not amount or -130 <= amount.adjusted() <= 125
        assert not (_boto3_serialises(amount) and in_range), amount
        return
    assert TypeSerializer().serialize(amount) == {"N": str(amount)}


def test_json_numbers_are_exact_decimals() -> None:
    document = parse_object(b'{"a": 0.1, "b": 99.99, "c": 1e-7, "d": 12345678901234567890.123456789, "e": 7}')
    assert document == {
        "a": Decimal("0.1"),
        "b": Decimal("99.99"),
        "c": Decimal("1e-7"),
        "d": Decimal("12345678901234567890.123456789"),
        "e": Decimal(7),
    }
    assert not any(isinstance(value, float) for value in document.values())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a": NaN}', Reason.BODY_MALFORMED),
        (b'{"a": Infinity}', Reason.BODY_MALFORMED),
        (b'{"a": -Infinity}', Reason.BODY_MALFORMED),
        (b"[1, 2]", Reason.BODY_NOT_OBJECT),
        (b'"text"', Reason.BODY_NOT_OBJECT),
        (b"", Reason.BODY_MALFORMED),
        (b'{"a": "\xff"}', Reason.BODY_MALFORMED),
        ('{"a": 1}'.encode("utf-16"), Reason.BODY_MALFORMED),
        (b'{"a": 1', Reason.BODY_MALFORMED),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), Reason.BODY_TOO_DEEP),
        (b"[" * 100_000, Reason.BODY_TOO_DEEP),
    ],
)
def test_bodies_that_are_not_plain_json_objects_are_400s(body: bytes, reason: Reason) -> None:
    assert reason_of(parse_object, body) is reason


def test_brackets_inside_strings_do_not_count_towards_depth() -> None:
    assert parse_object(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[[["}')["a"].startswith("[")


def test_nesting_up_to_the_limit_is_fine() -> None:
    body = b'{"a":' * (MAX_DEPTH - 1) + b"{}" + b"}" * (MAX_DEPTH - 1)
    assert isinstance(parse_object(body), dict)


def test_headers_are_case_insensitive_and_ambiguous_duplicates_are_absent() -> None:
    headers = Headers.from_event(
        {"multiValueHeaders": {"Stripe-Signature": ["a"], "X-Dup": ["1", "2"], "x-same": ["1", "1"]}}
    )
    assert headers.get("stripe-signature") == headers.get("STRIPE-SIGNATURE") == "a"
    assert headers.get("x-dup") is None
    assert headers.get("X-Same") == "1"
    assert Headers.from_event({"headers": {"Content-Type": "application/json"}}).get("content-type")
    assert Headers.from_event({"headers": None, "multiValueHeaders": None}).get("content-type") is None


@pytest.mark.parametrize(
    ("body", "is_base64", "expected"),
    [
        ('{"a":1}', False, b'{"a":1}'),
        ("eyJhIjoxfQ==", True, b'{"a":1}'),
        ("not base64!", True, None),
        ("\ud800", False, None),
        (None, False, b""),
        ("é", False, "é".encode()),
    ],
)
def test_raw_body_is_decoded_exactly(body: str | None, is_base64: bool, expected: bytes | None) -> None:
    event = {"httpMethod": "POST", "body": body, "isBase64Encoded": is_base64}
    assert HttpRequest.from_api_gateway(event).body == expected


def secret_text(**overrides: Any) -> str:
    document = {
        "stripe_signing_secrets": ["whsec_a", "whsec_b"],
        "paypal_webhook_id": "WH-1",
        "internal_hmac_key": "current",
        "internal_hmac_previous_keys": ["previous"],
    }
    return json.dumps(document | overrides)


def test_verification_material_orders_current_key_first_and_hides_values() -> None:
    material = VerificationMaterial.from_secret_string(secret_text())
    assert material.internal_hmac_keys == ("current", "previous")
    assert material.stripe_signing_secrets == ("whsec_a", "whsec_b")
    assert "whsec" not in repr(material)
    assert "current" not in repr(material)


def test_empty_values_mean_not_configured() -> None:
    material = VerificationMaterial.from_secret_string(
        secret_text(
            stripe_signing_secrets=[""],
            paypal_webhook_id="",
            internal_hmac_key="",
            internal_hmac_previous_keys=[],
        )
    )
    assert material.stripe_signing_secrets == material.internal_hmac_keys == ()
    assert not material.paypal_webhook_id


@pytest.mark.parametrize(
    "text", ["[]", '{"stripe_signing_secrets": "whsec"}', '{"paypal_webhook_id": 1}', "nope"]
)
def test_malformed_secrets_raise(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (JSONDecodeError or ours: both ValueError)
        VerificationMaterial.from_secret_string(text)


def test_ttl_cache_reloads_after_the_ttl_only() -> None:
    now = [0.0]
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    cache = TtlCache(load, 300, clock=lambda: now[0])
    assert cache.get() == 1
    now[0] = 299
    assert cache.get() == 1
    now[0] = 300
    assert cache.get() == 2


BODY = b'{"id":"evt-1"}'


def transaction(**overrides: Any) -> Transaction:
    values: dict[str, Any] = {
        "provider": "generic",
        "provider_event_id": "evt-1",
        "event_type": "payment.succeeded",
        "occurred_at": "2026-11-23T10:00:00.000Z",
        "amount": Decimal("12345678901234567890.123456789"),
        "currency": "EUR",
        "status": None,
        "body_sha256": hashlib.sha256(BODY).hexdigest(),
    }
    return Transaction(**(values | overrides))


def test_handoff_round_trips_through_plain_json_exactly() -> None:
    handoff = HandOff(transaction(), BODY, "2026-11-23T10:00:01.000Z", "corr-1")
    wire = json.loads(json.dumps(handoff.to_json()))  # what Lambda does to an async payload
    assert wire["transaction"]["amount"] == "12345678901234567890.123456789"
    assert "status" not in wire["transaction"]
    assert HandOff.from_json(wire) == handoff


def test_the_largest_accepted_body_keeps_the_async_payload_under_256_kb() -> None:
    body = b"x" * MAX_BODY_BYTES
    longest = transaction(
        provider_event_id="e" * 128,
        event_type="t" * 128,
        status="s" * 128,
        amount=Decimal("-" + "9" * 38 + "E-130"),
    )
    handoff = HandOff(
        replace(longest, body_sha256=hashlib.sha256(body).hexdigest()), body, "t" * 24, "r" * 64
    )
    assert len(json.dumps(handoff.to_json()).encode()) < 256 * 1024


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"body_base64": "!!"},
        {"body_base64": "eA=="},  # another body: the hash no longer matches
        {"transaction": None},
        {"received_at": 5},
    ],
)
def test_handoff_refuses_payloads_the_receiver_did_not_produce(change: dict[str, Any]) -> None:
    wire = HandOff(transaction(), BODY, "t", "c").to_json() | change
    with pytest.raises(ValueError):  # noqa: PT011 (one type for every malformed payload)
        HandOff.from_json(wire)


class FakeStore:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def put_if_absent(self, item: Item) -> bool:
        if item["transaction_id"] in self.items:
            return False
        self.items[str(item["transaction_id"])] = dict(item)
        return True

    def get(self, transaction_id: str) -> Item | None:
        return self.items.get(transaction_id)

    def mark_published(self, transaction_id: str, published_at: str, message_id: str) -> bool:
        item = self.items[transaction_id]
        if "published_at" in item:
            return False
        item["published_at"] = published_at
        item["sns_message_id"] = message_id
        return True


class FakeArchive:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes, sha256_hex: str) -> None:
        assert hashlib.sha256(body).hexdigest() == sha256_hex
        self.objects[key] = body


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def publish(self, message: str, subject: str, attributes: Any) -> str:
        self.sent.append((message, subject, dict(attributes)))
        return f"m-{len(self.sent)}"


def success_record(result: dict[str, object]) -> dict[str, object]:
    return {"version": "1.0", "requestContext": {"condition": "Success"}, "responsePayload": result}


def test_process_then_notify_is_exact_and_json_safe() -> None:
    store, archive, publisher = FakeStore(), FakeArchive(), FakePublisher()
    payload = json.loads(json.dumps(HandOff(transaction(), BODY, "t0", "c").to_json()))
    result = process(payload, store, archive, "t1")
    assert json.loads(json.dumps(result)) == result  # Lambda can serialise it for the destination
    assert result["duplicate"] is False
    stored = store.items["generic#evt-1"]
    assert stored["amount"] == Decimal("12345678901234567890.123456789")
    assert archive.objects[str(stored["audit_object_key"])] == BODY
    outcome = notify(json.loads(json.dumps(success_record(result))), store, publisher, "t2")
    assert outcome["published"] is True
    published = json.loads(publisher.sent[0][0])
    assert published["amount"] == "12345678901234567890.123456789"
    assert publisher.sent[0][2] == {
        "provider": "generic",
        "event_type": "payment.succeeded",
        "currency": "EUR",
    }


def test_a_duplicate_reports_the_stored_item_and_still_gets_published_once() -> None:
    store, archive, publisher = FakeStore(), FakeArchive(), FakePublisher()
    payload = HandOff(transaction(), BODY, "t0", "c").to_json()
    first = process(payload, store, archive, "t1")
    second = process(payload, store, archive, "t9")  # e.g. a retry after a crash before returning
    assert second == {"duplicate": True, "transaction": first["transaction"]}
    notify(success_record(second), store, publisher, "t2")
    assert notify(success_record(first), store, publisher, "t3")["published"] is False
    assert len(publisher.sent) == 1


def test_audit_key_is_derived_from_provider_date_event_and_body() -> None:
    key = audit_key(transaction(), "2026-12-01T00:00:00.000Z")
    assert key == f"raw/generic/2026/11/23/evt-1/{hashlib.sha256(BODY).hexdigest()}.json"


def test_a_quarantined_event_without_an_occurrence_time_is_archived_under_its_receipt_date() -> None:
    quarantined = transaction(occurred_at=None, quarantine_reason="invalid_event")
    key = audit_key(quarantined, "2026-12-01T08:00:00.000Z")
    assert key.startswith("raw/generic/2026/12/01/evt-1/")


def test_events_without_an_amount_are_published_without_one() -> None:
    item: Item = {**transaction(amount=None, currency=None).attributes()}
    assert "amount" not in json.loads(message(item))
    assert "currency" not in item


def test_subject_is_printable_ascii_of_less_than_100_characters() -> None:
    assert subject({"provider": "stripe", "event_type": "payment_intent.succeeded"}) == (
        "stripe payment_intent.succeeded"
    )
    long = subject({"provider": "p", "event_type": "é\n" + "x" * 200})
    assert len(long) == 99  # SNS: "must be less than 100 characters"; exactly 100 is refused
    assert all(" " <= c <= "~" for c in long)


@pytest.mark.parametrize(
    "record",
    [
        {"requestContext": {"condition": "RetriesExhausted"}, "responsePayload": {}},
        {"requestContext": {"condition": "Success"}, "responsePayload": None},
        {"requestContext": {"condition": "Success"}, "responsePayload": {"transaction": {}}},
        {},
    ],
)
def test_notifier_refuses_records_that_are_not_processor_successes(record: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        transaction_id_of(record)


def test_json_safe_keeps_decimal_text_exact() -> None:
    assert json_safe({"amount": Decimal("0.1"), "tiny": Decimal("1E-7")}) == {"amount": "0.1", "tiny": "1E-7"}
