"""Unit tests of the pure core: money, strict JSON, headers, secrets, payload shapes, messages."""

import hashlib
import json
from dataclasses import replace
from decimal import Context, Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core import money
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers, HttpRequest
from handlers.core.jsonbody import MAX_DEPTH, parse_object
from handlers.core.model import (
    SCHEMA_VERSION,
    Direction,
    HandOff,
    Item,
    Kind,
    Processed,
    Transaction,
    json_safe,
)
from handlers.core.notifying import message, notify, subject
from handlers.core.processing import audit_key, process
from handlers.core.receiving import MAX_BODY_BYTES
from handlers.core.secrets import TtlCache, VerificationMaterial
from tests.support.memory_ports import FakeArchive, FakeObjectStates, FakePublisher, FakeStore
from tests.support.strategies import edge_decimals


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
    ("text", "currency"),
    [
        ("10.99", "USD"),
        ("10", "USD"),
        ("12.3", "EUR"),
        ("1500", "JPY"),
        ("1500.000", "JPY"),  # trailing zeros are no precision
        ("1.234", "KWD"),
        ("1.2345", "CLF"),
        ("-5.00", "USD"),
        ("0", "BHD"),
        ("12345678901234567890123456789012345.678", "KWD"),  # 38 digits
    ],
)
def test_amounts_within_the_currency_places_are_kept_as_written(text: str, currency: str) -> None:
    _, exponent = money.currency_exponent(currency)
    assert str(money.within_currency_places(money.from_decimal_text(text), exponent)) == text


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("10.999", "USD"),
        ("1500.5", "JPY"),
        ("1.5", "JPY"),
        ("0.0001", "KWD"),
        ("1.23456", "CLF"),
        ("0.001", "EUR"),
    ],
)
def test_a_digit_beyond_the_currency_places_is_refused(text: str, currency: str) -> None:
    _, exponent = money.currency_exponent(currency)
    refused = reason_of(money.within_currency_places, money.from_decimal_text(text), exponent)
    assert refused is Reason.INVALID_EVENT


@settings(max_examples=300)
@given(amount=edge_decimals, exponent=st.sampled_from([0, 2, 3, 4]))
def test_the_precision_rule_agrees_with_quantize(amount: Decimal, exponent: int) -> None:
    """Refused exactly when quantizing to the currency's places would change the value (or DynamoDB
    could not hold it); kept unchanged otherwise."""
    try:
        money.storable(amount)
    except RejectionError:
        assert reason_of(money.within_currency_places, amount, exponent) is Reason.AMOUNT_INVALID
        return
    wide = Context(prec=400)
    fits = amount.quantize(Decimal(1).scaleb(-exponent), context=wide) == amount
    if fits:
        assert money.within_currency_places(amount, exponent) is amount
    else:
        assert reason_of(money.within_currency_places, amount, exponent) is Reason.INVALID_EVENT


@pytest.mark.parametrize(
    ("amount", "direction", "expected"),
    [
        ("-7.50", Direction.OUT, "7.50"),  # PayPal v1 refunds and reversals
        ("7.50", Direction.OUT, "7.50"),
        ("7.50", Direction.IN, "7.50"),
        ("7.50", None, "7.50"),
        ("-0.00", None, "0.00"),
    ],
)
def test_magnitudes(amount: str, direction: Direction | None, expected: str) -> None:
    assert str(money.magnitude(Decimal(amount), direction)) == expected


@pytest.mark.parametrize("direction", [Direction.IN, None])
def test_a_negative_amount_is_refused_unless_money_goes_out(direction: Direction | None) -> None:
    assert reason_of(money.magnitude, Decimal("-1.00"), direction) is Reason.INVALID_EVENT


def test_sums_are_exact_or_refused() -> None:
    assert money.exact_sum([Decimal("10.00"), Decimal("5.50"), Decimal("0.01")]) == Decimal("15.51")
    assert money.exact_sum([Decimal("1" * 38)]) == Decimal("1" * 38)
    assert reason_of(money.exact_sum, [Decimal("9" * 38), Decimal(1)]) is Reason.AMOUNT_INVALID


@pytest.mark.parametrize("text", ["1e3", " 1", "1.", ".5", "", 12, "1,5", "+1"])
def test_malformed_decimal_text_is_refused(text: object) -> None:
    assert reason_of(money.from_decimal_text, text) is Reason.INVALID_EVENT


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
        "kind": Kind.PAYMENT,
        "direction": Direction.IN,
        "object_id": "pay-1",
        "related_object_id": "order-1",
    }
    return Transaction(**(values | overrides))


def test_handoff_round_trips_through_plain_json_exactly() -> None:
    handoff = HandOff(transaction(), BODY, "2026-11-23T10:00:01.000Z", "corr-1")
    wire = json.loads(json.dumps(handoff.to_json()))  # what Lambda does to an async payload
    assert wire["version"] == SCHEMA_VERSION == 4
    assert wire["transaction"]["amount"] == "12345678901234567890.123456789"
    assert (wire["transaction"]["kind"], wire["transaction"]["direction"]) == ("payment", "in")
    assert "status" not in wire["transaction"]
    assert HandOff.from_json(wire) == handoff


def test_a_version_1_handoff_from_a_receiver_deployed_before_is_still_stored_as_version_1() -> None:
    """In flight or dead-lettered across the upgrade: refusing it would lose it for good."""
    store, archive = FakeStore(), FakeArchive()
    wire = HandOff(transaction(), BODY, "t0", "c").to_json()
    attributes = wire["transaction"]
    assert isinstance(attributes, dict)
    for key in ("kind", "direction", "object_id", "related_object_id"):
        del attributes[key]
    wire["version"] = 1
    process(HandOff.from_json(wire), store, archive, FakeObjectStates(), "t1")
    stored = store.items["generic#evt-1"]
    assert stored["schema_version"] == Decimal(1)
    assert "kind" not in stored
    assert json.loads(message(stored))["version"] == 1


def test_the_largest_accepted_body_keeps_the_async_payload_under_256_kb() -> None:
    body = b"x" * MAX_BODY_BYTES
    longest = transaction(
        provider_event_id="e" * 128,
        event_type="t" * 128,
        status="s" * 128,
        amount=Decimal("-" + "9" * 38 + "E-130"),
        kind=Kind.SUBSCRIPTION_PAYMENT,
        object_id="o" * 255,
        related_object_id="r" * 255,
    )
    handoff = HandOff(
        replace(longest, body_sha256=hashlib.sha256(body).hexdigest()), body, "t" * 24, "r" * 64
    )
    assert len(json.dumps(handoff.to_json()).encode()) < 256 * 1024


@pytest.mark.parametrize(
    "change",
    [
        {"version": 5},
        {"version": "2"},
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


def success_record(processed: Processed) -> dict[str, object]:
    """The processor's on-success destination record, through plain JSON as Lambda sends it."""
    record = {
        "version": "1.0",
        "requestContext": {"condition": "Success"},
        "responsePayload": processed.to_json(),
    }
    return dict(json.loads(json.dumps(record)))


def test_process_then_notify_is_exact_and_json_safe() -> None:
    store, archive, publisher = FakeStore(), FakeArchive(), FakePublisher()
    handoff = HandOff.from_json(json.loads(json.dumps(HandOff(transaction(), BODY, "t0", "c").to_json())))
    processed = process(handoff, store, archive, FakeObjectStates(), "t1")
    assert processed.duplicate is False
    assert Processed.from_destination_record(success_record(processed)) == processed
    stored = store.items["generic#evt-1"]
    assert stored["amount"] == Decimal("12345678901234567890.123456789")
    assert stored["schema_version"] == Decimal(SCHEMA_VERSION)
    assert processed.transaction == json_safe(stored)
    assert archive.objects[str(stored["audit_object_key"])] == BODY
    outcome = notify(processed.transaction_id, store, publisher, "t2")
    assert outcome["published"] is True
    published = json.loads(publisher.sent[0][0])
    assert published == {
        "version": 4,
        "transaction_id": "generic#evt-1",
        "provider": "generic",
        "provider_event_id": "evt-1",
        "event_type": "payment.succeeded",
        "occurred_at": "2026-11-23T10:00:00.000Z",
        "kind": "payment",
        "direction": "in",
        "amount": "12345678901234567890.123456789",
        "currency": "EUR",
        "object_id": "pay-1",
        "related_object_id": "order-1",
        "body_sha256": hashlib.sha256(BODY).hexdigest(),
        "audit_object_key": stored["audit_object_key"],
        "received_at": "t0",
        "stored_at": "t1",
        "stale": "false",
        "ingested_via": "webhook",
    }
    assert publisher.sent[0][2] == {
        "provider": "generic",
        "event_type": "payment.succeeded",
        "currency": "EUR",
        "stale": "false",
        "ingested_via": "webhook",
    }


def test_a_duplicate_reports_the_stored_item_and_still_gets_published_once() -> None:
    store, archive, publisher = FakeStore(), FakeArchive(), FakePublisher()
    handoff = HandOff(transaction(), BODY, "t0", "c")
    states = FakeObjectStates()
    first = process(handoff, store, archive, states, "t1")
    second = process(handoff, store, archive, states, "t9")  # e.g. a retry after a crash before returning
    assert second == Processed(first.transaction, duplicate=True)
    notify(second.transaction_id, store, publisher, "t2")
    assert notify(first.transaction_id, store, publisher, "t3")["published"] is False
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
    assert subject({"provider": "", "event_type": " \t"}) == "transaction"


def _sns_accepts_as_subject(text: str) -> bool:
    """SNS's Publish reference: ASCII, no line breaks or control characters, beginning with a letter,
    number or punctuation mark, less than 100 characters."""
    return 0 < len(text) < 100 and all(" " <= c <= "~" for c in text) and text[0] != " "


@settings(max_examples=400)
@given(
    provider=st.sampled_from(["stripe", "paypal", "generic", "internal", ""]),
    event_type=st.one_of(
        st.text(),
        st.text(min_size=90, max_size=400),
        st.text(alphabet=st.characters(min_codepoint=0x80), min_size=1),
        st.text(alphabet=" \t\r\n\x0b\x0c\x1c\x85\u00a0\u2028\u200b\x00\x7f", max_size=5),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", fullmatch=True),  # every type accepted
    ),
)
def test_every_subject_is_one_sns_accepts(provider: str, event_type: str) -> None:
    assert _sns_accepts_as_subject(subject({"provider": provider, "event_type": event_type}))


SUCCESS_CONTEXT = {"condition": "Success"}
PROCESSED = {"duplicate": False, "transaction": {"transaction_id": "generic#evt-1"}}


@pytest.mark.parametrize(
    "record",
    [
        {"requestContext": {"condition": "RetriesExhausted"}, "responsePayload": PROCESSED},
        {"requestContext": None, "responsePayload": PROCESSED},
        {"requestContext": SUCCESS_CONTEXT, "responsePayload": None},
        {"requestContext": SUCCESS_CONTEXT, "responsePayload": PROCESSED | {"transaction": {}}},
        {"requestContext": SUCCESS_CONTEXT, "responsePayload": PROCESSED | {"transaction": None}},
        {
            "requestContext": SUCCESS_CONTEXT,
            "responsePayload": PROCESSED | {"transaction": {"transaction_id": 1}},
        },
        {"requestContext": SUCCESS_CONTEXT, "responsePayload": PROCESSED | {"duplicate": "false"}},
        {"requestContext": SUCCESS_CONTEXT, "responsePayload": {"transaction": PROCESSED["transaction"]}},
        {},
    ],
)
def test_notifier_refuses_records_that_are_not_processor_successes(record: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (one type for every malformed record)
        Processed.from_destination_record(record)


def test_the_notifier_reads_the_processor_s_result_from_its_success_record() -> None:
    record = {"requestContext": SUCCESS_CONTEXT, "responsePayload": PROCESSED}
    assert Processed.from_destination_record(record) == Processed({"transaction_id": "generic#evt-1"}, False)


stored_items = st.builds(
    lambda transaction_id, others: others | {"transaction_id": transaction_id},
    st.text(),
    st.dictionaries(st.text(), st.text(), max_size=8),
)
"""Stored items in their JSON-safe form: any strings under any names, and always a transaction id."""


@given(transaction=stored_items, duplicate=st.booleans())
def test_processed_round_trips_through_plain_json_exactly(
    transaction: dict[str, str], duplicate: bool
) -> None:
    processed = Processed(transaction, duplicate)
    wire = json.loads(json.dumps(processed.to_json()))  # what Lambda does to a result for its destination
    assert Processed.from_json(wire) == processed
    assert (processed.transaction_id, processed.quarantined) == (
        transaction["transaction_id"],
        "quarantine_reason" in transaction,
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(
    payload=st.one_of(
        st.dictionaries(st.sampled_from(["duplicate", "transaction", "other"]), json_values),
        st.fixed_dictionaries(
            {"duplicate": st.booleans(), "transaction": st.dictionaries(st.text(), json_values, max_size=4)}
        ),
    )
)
def test_processed_reads_its_own_fields_exactly_or_refuses_the_payload(payload: dict[str, Any]) -> None:
    try:
        processed = Processed.from_json(payload)
    except ValueError:  # the only way it refuses
        return
    assert processed.to_json() == {key: payload[key] for key in ("duplicate", "transaction")}


def test_json_safe_keeps_decimal_text_exact() -> None:
    assert json_safe({"amount": Decimal("0.1"), "tiny": Decimal("1E-7")}) == {"amount": "0.1", "tiny": "1E-7"}
