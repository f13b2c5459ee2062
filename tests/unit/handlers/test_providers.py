"""Each provider's verification and normalisation; Stripe cross-checked against the official library."""

import base64
import json
import time
import zlib
from decimal import Decimal
from typing import Any

import pytest
import stripe as stripe_sdk
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.http import Headers
from handlers.core.model import Transaction
from handlers.core.secrets import VerificationMaterial
from handlers.providers import hmac_signed, paypal, stripe
from tapstack.local.paypal_pki import LOCAL_PAYPAL_CERT_URL, LocalPaypal
from tests.support.pipeline import EVENTS, CertificateServer, sample, signer_for

NOW = 1_795_000_000
SECRET = "whsec_test_secret"
MATERIAL = VerificationMaterial(
    stripe_signing_secrets=(SECRET, "whsec_rolled"),
    paypal_webhook_id="WH-TEST-0000000000000001",
    internal_hmac_keys=("current-key", "previous-key"),
)
NOTHING = VerificationMaterial((), "", ())


def headers(**values: str) -> Headers:
    return Headers({name.replace("_", "-").lower(): (value,) for name, value in values.items()})


def rejected(call: Any, *args: Any) -> Reason:
    with pytest.raises(RejectionError) as caught:
        call(*args)
    return caught.value.reason


# --- Stripe -----------------------------------------------------------------------------------

bodies = st.binary(max_size=512).map(lambda raw: raw.decode("latin-1").encode("utf-8"))


@settings(max_examples=60, deadline=None)
@given(body=bodies, secret=st.sampled_from([SECRET, "whsec_rolled"]))
def test_headers_we_generate_verify_with_the_official_library(body: bytes, secret: str) -> None:
    now = int(time.time())
    header = stripe.sign(body, secret, now)
    stripe_sdk.WebhookSignature.verify_header(body.decode(), header, secret, tolerance=300)
    stripe.verify(headers(stripe_signature=header), body, MATERIAL, now)


@settings(max_examples=60, deadline=None)
@given(body=bodies, offset=st.integers(-300, 300))
def test_headers_the_official_library_generates_verify_with_ours(body: bytes, offset: int) -> None:
    now = int(time.time())
    header = stripe_sdk.WebhookSignature.generate_signature_header(
        body.decode(), SECRET, timestamp=now + offset
    )
    stripe.verify(headers(stripe_signature=header), body, MATERIAL, now)


@settings(max_examples=60, deadline=None)
@given(body=bodies, tampered=bodies)
def test_both_refuse_a_tampered_body(body: bytes, tampered: bytes) -> None:
    if body == tampered:
        return
    now = int(time.time())
    header = stripe.sign(body, SECRET, now)
    with pytest.raises(stripe_sdk.SignatureVerificationError):
        stripe_sdk.WebhookSignature.verify_header(tampered.decode(), header, SECRET, tolerance=300)
    assert rejected(stripe.verify, headers(stripe_signature=header), tampered, MATERIAL, now) is (
        Reason.SIGNATURE_INVALID
    )


def test_any_v1_entry_and_any_configured_secret_may_match() -> None:
    body = b'{"id":"evt_1"}'
    good = stripe.signature(body, "whsec_rolled", NOW)
    header = f"t={NOW},v0={'0' * 64},v1={'f' * 64},v1={good}"
    stripe.verify(headers(stripe_signature=header), body, MATERIAL, NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (f"t={NOW},v0={'0' * 64}", Reason.SIGNATURE_MISSING),  # only v1 counts
        ("v1=abc", Reason.SIGNATURE_MISSING),
        (f"t={NOW},t={NOW + 1},v1=abc", Reason.SIGNATURE_MISSING),
        (f"t=-{NOW},v1=abc", Reason.SIGNATURE_MISSING),
        ("t=１２,v1=abc", Reason.SIGNATURE_MISSING),  # noqa: RUF001 (unicode digits are not a timestamp)
        ("garbage", Reason.SIGNATURE_MISSING),
        ("t=1,v1=" + "a" * 5000, Reason.SIGNATURE_MISSING),
        (f"t={NOW},v1={'a' * 64}", Reason.SIGNATURE_INVALID),
    ],
)
def test_malformed_stripe_headers(header: str, reason: Reason) -> None:
    assert rejected(stripe.verify, headers(stripe_signature=header), b"{}", MATERIAL, NOW) is reason


@pytest.mark.parametrize(("offset", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)])
def test_stripe_tolerance_is_300_seconds_both_ways(offset: int, accepted: bool) -> None:
    body = b"{}"
    header = stripe.sign(body, SECRET, NOW + offset)
    if accepted:
        stripe.verify(headers(stripe_signature=header), body, MATERIAL, NOW)
    else:
        assert rejected(stripe.verify, headers(stripe_signature=header), body, MATERIAL, NOW) is (
            Reason.SIGNATURE_EXPIRED
        )


def test_unconfigured_providers_refuse_everything() -> None:
    body = b"{}"
    signer = signer_for(LocalPaypal())
    assert rejected(
        stripe.verify, headers(stripe_signature=stripe.sign(body, SECRET, NOW)), body, NOTHING, NOW
    ) is (Reason.PROVIDER_NOT_CONFIGURED)
    signed = Headers.from_event({"headers": hmac_signed.sign(body, "current-key", NOW)})
    assert rejected(hmac_signed.verify, signed, body, NOTHING, NOW) is Reason.PROVIDER_NOT_CONFIGURED
    cache = paypal.CertificateCache(CertificateServer({}), signer.paypal.trust)
    paypal_headers = Headers.from_event({"headers": signer.headers("paypal", body)})
    with pytest.raises(RejectionError) as caught:
        paypal.verify(paypal_headers, body, NOTHING, NOW, cache)
    assert caught.value.reason is Reason.PROVIDER_NOT_CONFIGURED


# kind, direction, "amount currency", object id, related object id
Stored = tuple[str, str | None, str | None, str | None, str | None]

STRIPE_SAMPLES: dict[str, Stored] = {
    "payment_intent.succeeded.json": ("payment", "in", "20.00 USD", "pi_3QxSample0001", None),
    "payment_intent.succeeded.jpy.json": ("payment", "in", "1500 JPY", "pi_3QxSample0004", None),
    "payment_intent.succeeded.bhd.json": ("payment", "in", "12.340 BHD", "pi_3QxSample0005", None),
    # amount 2000 intended, 1500 captured and received
    "payment_intent.succeeded.partial_capture.json": ("payment", "in", "15.00 EUR", "pi_3QxSample0007", None),
    "refund.created.json": ("refund", "out", "5.00 USD", "re_3QxSample0002", "pi_3QxSample0001"),
    # a charge of 20.00 of which 5.00 is refunded so far
    "charge.refunded.partial.json": (
        "refund_total",
        None,
        "5.00 USD",
        "ch_3QxSample0006",
        "pi_3QxSample0006",
    ),
    "checkout.session.completed.json": (
        "checkout",
        "in",
        "35.00 USD",
        "cs_test_QxSample0008",
        "pi_3QxSample0008",
    ),
    "invoice.paid.json": ("invoice", "in", "25.00 GBP", "in_1QxSample0009", "sub_1QxSample0009"),
    "charge.dispute.funds_withdrawn.json": (
        "dispute",
        "out",
        "20.00 USD",
        "dp_1QxSample0010",
        "pi_3QxSample0001",
    ),
    "payout.created.json": ("payout", "out", "110.00 USD", "po_1QxSample0011", None),
    "customer.created.json": ("other", None, None, "cus_QxSample0003", None),
}


def stored(transaction: Transaction) -> Stored:
    money = None if transaction.amount is None else f"{transaction.amount} {transaction.currency}"
    direction = None if transaction.direction is None else str(transaction.direction)
    return (str(transaction.kind), direction, money, transaction.object_id, transaction.related_object_id)


def test_every_stripe_sample_is_asserted() -> None:
    assert sorted(STRIPE_SAMPLES) == sorted(path.name for path in (EVENTS / "stripe").glob("*.json"))


@pytest.mark.parametrize(("file", "expected"), STRIPE_SAMPLES.items())
def test_stripe_samples_normalise(file: str, expected: Stored) -> None:
    document = json.loads(sample(f"stripe/{file}"), parse_float=Decimal, parse_int=Decimal)
    transaction = stripe.normalise(document, "stripe", "sha")
    assert stored(transaction) == expected
    assert transaction.transaction_id == f"stripe#{document['id']}"
    assert (transaction.occurred_at or "").endswith("Z")


# --- generic / internal -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["current-key", "previous-key"])
def test_current_and_previous_internal_keys_verify(key: str) -> None:
    body = b'{"id":"x"}'
    hmac_signed.verify(Headers.from_event({"headers": hmac_signed.sign(body, key, NOW)}), body, MATERIAL, NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-Tap-Signature": "v2=00"}, Reason.SIGNATURE_MISSING),
        ({"X-Tap-Signature": "v1="}, Reason.SIGNATURE_MISSING),
        ({"X-Tap-Timestamp": "soon"}, Reason.SIGNATURE_MISSING),
        ({"X-Tap-Timestamp": str(NOW + 1)}, Reason.SIGNATURE_INVALID),
        ({"X-Tap-Signature": "v1=" + "0" * 64}, Reason.SIGNATURE_INVALID),
    ],
)
def test_internal_signature_failures(change: dict[str, str], reason: Reason) -> None:
    body = b"{}"
    signed = Headers.from_event({"headers": hmac_signed.sign(body, "current-key", NOW) | change})
    assert rejected(hmac_signed.verify, signed, body, MATERIAL, NOW) is reason


def test_internal_signature_outside_tolerance_is_expired() -> None:
    body = b"{}"
    for skew in (-301, 301):
        signed = Headers.from_event({"headers": hmac_signed.sign(body, "current-key", NOW + skew)})
        assert rejected(hmac_signed.verify, signed, body, MATERIAL, NOW) is Reason.SIGNATURE_EXPIRED


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"amount": "12.34", "currency": "eur"}, ("other", None, "12.34 EUR", None, None)),
        ({"amount": Decimal("1E+2"), "currency": "USD"}, ("other", None, "1E+2 USD", None, None)),
        ({"amount": "12.3", "currency": "EUR"}, ("other", None, "12.3 EUR", None, None)),
        ({"amount": "-12.34", "currency": "EUR"}, ("other", None, "-12.34 EUR", None, None)),  # as sent
        ({"amount": None}, ("other", None, None, None, None)),
        ({}, ("other", None, None, None, None)),
        (
            {
                "amount": "5",
                "currency": "EUR",
                "kind": "refund",
                "direction": "out",
                "related_object_id": "p-1",
            },
            ("refund", "out", "5 EUR", None, "p-1"),
        ),
        # with a direction the amount is a magnitude: a negative one is money out
        (
            {"amount": "-5.00", "currency": "EUR", "direction": "out"},
            ("other", "out", "5.00 EUR", None, None),
        ),
        ({"kind": "payout", "object_id": "po-" + "9" * 252}, ("payout", None, None, "po-" + "9" * 252, None)),
    ],
)
def test_generic_schema(document: dict[str, Any], expected: Stored) -> None:
    base = {"id": "gen-1", "type": "payment.succeeded", "occurred_at": "2026-11-23T11:00:00+01:00"}
    transaction = hmac_signed.normalise(base | document, "generic", "sha")
    assert stored(transaction) == expected
    assert transaction.occurred_at == "2026-11-23T10:00:00.000Z"


@pytest.mark.parametrize(
    "document",
    [
        {"id": "a/b"},
        {"id": "#x"},
        {"id": ""},
        {"id": "x" * 200},
        {"type": None},
        {"occurred_at": "2026-11-23T10:00:00"},  # no offset
        {"occurred_at": "0001-01-01T00:00:00+01:00"},  # out of range once in UTC
        {"occurred_at": 1763892000},
        {"amount": "12.34"},  # no currency
        {"amount": True, "currency": "EUR"},
        {"amount": "1e5", "currency": "EUR"},
        {"amount": Decimal("1e-7"), "currency": "USD"},  # beyond the currency's places
        {"amount": "1.5", "currency": "JPY"},
        {"amount": "0.0001", "currency": "KWD"},
        {"status": "has space"},
        {"kind": "gift"},
        {"kind": "PAYMENT"},
        {"direction": "sideways", "amount": "1.00", "currency": "EUR"},
        {"direction": "in"},  # no amount to move
        {"direction": "in", "amount": "-1.00", "currency": "EUR"},
        {"object_id": "a b"},
        {"related_object_id": "x" * 256},
    ],
)
def test_generic_schema_violations_are_400s(document: dict[str, Any]) -> None:
    base = {"id": "gen-1", "type": "payment.succeeded", "occurred_at": "2026-11-23T10:00:00Z"}
    assert rejected(hmac_signed.normalise, base | document, "generic", "sha") is Reason.INVALID_EVENT


# --- PayPal -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> LocalPaypal:
    return LocalPaypal()


def paypal_request(keys: LocalPaypal, body: bytes, **change: str) -> Headers:
    signed = signer_for(keys, paypal_webhook_id=MATERIAL.paypal_webhook_id).headers("paypal", body)
    return Headers.from_event({"headers": signed | change})


def test_paypal_signature_verifies_and_the_certificate_is_fetched_once(keys: LocalPaypal) -> None:
    server = CertificateServer({LOCAL_PAYPAL_CERT_URL: keys.pem})
    cache = paypal.CertificateCache(server, keys.trust)
    body = sample("paypal/PAYMENT.CAPTURE.COMPLETED.json")
    for _ in range(3):
        paypal.verify(paypal_request(keys, body), body, MATERIAL, time.time(), cache)
    assert server.fetches == [LOCAL_PAYPAL_CERT_URL]


def test_paypal_refuses_a_tampered_body_another_key_or_webhook_id(keys: LocalPaypal) -> None:
    cache = paypal.CertificateCache(CertificateServer({LOCAL_PAYPAL_CERT_URL: keys.pem}), keys.trust)
    body = b'{"id":"WH-1"}'
    now = time.time()
    assert rejected(paypal.verify, paypal_request(keys, body), body + b" ", MATERIAL, now, cache) is (
        Reason.SIGNATURE_INVALID
    )
    other = signer_for(LocalPaypal(), paypal_webhook_id=MATERIAL.paypal_webhook_id).headers("paypal", body)
    assert rejected(paypal.verify, Headers.from_event({"headers": other}), body, MATERIAL, now, cache) is (
        Reason.SIGNATURE_INVALID
    )
    wrong_id = signer_for(keys, paypal_webhook_id="WH-OTHER").headers("paypal", body)
    assert rejected(paypal.verify, Headers.from_event({"headers": wrong_id}), body, MATERIAL, now, cache) is (
        Reason.SIGNATURE_INVALID
    )


@pytest.mark.parametrize(
    "change",
    [
        {"PAYPAL-AUTH-ALGO": "SHA1withRSA"},
        {"PAYPAL-TRANSMISSION-SIG": "not base64!"},
        {"PAYPAL-TRANSMISSION-ID": "a|b"},
        {"PAYPAL-TRANSMISSION-TIME": ""},
    ],
)
def test_paypal_malformed_headers(keys: LocalPaypal, change: dict[str, str]) -> None:
    cache = paypal.CertificateCache(CertificateServer({LOCAL_PAYPAL_CERT_URL: keys.pem}), keys.trust)
    body = b"{}"
    assert rejected(
        paypal.verify, paypal_request(keys, body, **change), body, MATERIAL, time.time(), cache
    ) is (Reason.SIGNATURE_MISSING)


@pytest.mark.parametrize(
    ("url", "environment", "allowed"),
    [
        ("https://api.paypal.com/v1/notifications/certs/CERT-1", "live", True),
        ("https://api-m.paypal.com/v1/notifications/certs/CERT-1", "live", True),
        ("https://API.PAYPAL.COM:443/v1/notifications/certs/CERT-1", "live", True),
        ("https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", "sandbox", True),
        ("https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1", "sandbox", True),
        # the other environment's host
        ("https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com/v1/notifications/certs/CERT-1", "sandbox", False),
        # other paypal.com hosts and paths
        ("https://paypal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://www.paypal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com/cert", "live", False),
        ("https://api.paypal.com/v1/notifications/certs/../../uploads/x", "live", False),
        ("https://api.paypal.com/v1/notifications/certs/CERT-1", "staging", False),
        # not HTTPS, odd ports, userinfo, look-alike and rewritten hosts
        ("http://api.paypal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com:8443/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com:0443/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com:x/v1/notifications/certs/CERT-1", "live", False),
        ("https://user@api.paypal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com@evil.io/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com.evil.io/v1/notifications/certs/CERT-1", "live", False),
        ("https://evilpaypal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com./v1/notifications/certs/CERT-1", "live", False),
        ("https://api.pay\npal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://api.paypal.com\\@evil.io/v1/notifications/certs/CERT-1", "live", False),
        ("https://[::1]/v1/notifications/certs/CERT-1", "live", False),
        ("ftp://api.paypal.com/v1/notifications/certs/CERT-1", "live", False),
        ("https://xn--paypl-7ve.com/v1/notifications/certs/CERT-1", "live", False),
        ("//api.paypal.com/v1/notifications/certs/CERT-1", "live", False),
    ],
)
def test_certificate_urls_only_from_the_environments_paypal_api_host(
    url: str, environment: str, allowed: bool
) -> None:
    assert paypal.certificate_url_allowed(url, environment) is allowed


def test_a_disallowed_certificate_url_is_never_fetched(keys: LocalPaypal) -> None:
    server = CertificateServer({})
    cache = paypal.CertificateCache(server, keys.trust)
    body = b"{}"
    request = paypal_request(keys, body, **{"PAYPAL-CERT-URL": "https://paypal.com.evil.io/c"})
    assert rejected(paypal.verify, request, body, MATERIAL, time.time(), cache) is Reason.SIGNATURE_INVALID
    assert server.fetches == []


def test_certificate_outside_its_validity_window_is_refused() -> None:
    for keys in (
        LocalPaypal(valid_days=1, valid_from_days=-10),
        LocalPaypal(valid_from_days=2),
    ):
        cache = paypal.CertificateCache(CertificateServer({LOCAL_PAYPAL_CERT_URL: keys.pem}), keys.trust)
        body = b"{}"
        assert rejected(paypal.verify, paypal_request(keys, body), body, MATERIAL, time.time(), cache) is (
            Reason.SIGNATURE_INVALID
        )


def test_certificate_fetch_failure_is_unavailable_and_not_cached(keys: LocalPaypal) -> None:
    server = CertificateServer({})
    cache = paypal.CertificateCache(server, keys.trust)
    body = b"{}"
    with pytest.raises(UnavailableError):
        paypal.verify(paypal_request(keys, body), body, MATERIAL, time.time(), cache)
    server.pems[LOCAL_PAYPAL_CERT_URL] = b"not a certificate"
    assert rejected(paypal.verify, paypal_request(keys, body), body, MATERIAL, time.time(), cache) is (
        Reason.SIGNATURE_INVALID
    )
    server.pems[LOCAL_PAYPAL_CERT_URL] = keys.pem
    paypal.verify(paypal_request(keys, body), body, MATERIAL, time.time(), cache)
    assert len(server.fetches) == 3


def test_crc32_is_unsigned_decimal() -> None:
    body = b"\xff" * 7  # a CRC32 with the top bit set: a signed rendering would be negative
    assert (
        paypal.signed_message("id", "time", "wh", body)
        == b"id|time|wh|" + str(zlib.crc32(body) & 0xFFFFFFFF).encode()
    )
    assert b"-" not in paypal.signed_message("id", "time", "wh", body)


PAYPAL_SAMPLES: dict[str, Stored] = {
    # related: the authorization named by the capture's link to its parent
    "PAYMENT.CAPTURE.COMPLETED.json": (
        "capture",
        "in",
        "10.99 USD",
        "42311647XV020574X",
        "7W5147081L658180V",
    ),
    "PAYMENT.CAPTURE.COMPLETED.jpy.json": ("capture", "in", "1500 JPY", "7TK53561MB803214N", None),
    "PAYMENT.CAPTURE.REFUNDED.json": ("refund", "out", "5.00 USD", "1Y107995YT783435V", "42311647XV020574X"),
    "PAYMENT.CAPTURE.REVERSED.json": (
        "reversal",
        "out",
        "10.99 USD",
        "5RC71920JH3082440",
        "42311647XV020574X",
    ),
    "PAYMENT.AUTHORIZATION.CREATED.json": (
        "authorization",
        None,
        "42.00 EUR",
        "0VF52814937998046",
        "5O190127TN364715T",
    ),
    # two purchase units, 10.00 and 5.50 USD
    "CHECKOUT.ORDER.COMPLETED.json": ("checkout", None, "15.50 USD", "5O190127TN364715T", None),
    "CUSTOMER.DISPUTE.CREATED.json": ("dispute", None, "10.99 USD", "PP-D-4012", "42311647XV020574X"),
    # no payment yet: no money, still the subscription and its plan
    "BILLING.SUBSCRIPTION.ACTIVATED.json": (
        "subscription_payment",
        None,
        None,
        "I-BW452GLLEP1G",
        "P-5ML4271244454362WXNWU5NQ",
    ),
    "PAYMENT.SALE.COMPLETED.subscription.json": (
        "subscription_payment",
        "in",
        "29.99 USD",
        "3LY10387X9917661L",
        "I-BW452GLLEP1G",
    ),
    # a v1 refund's total is "-7.50": stored as its magnitude, going out
    "PAYMENT.SALE.REFUNDED.json": ("refund", "out", "7.50 GBP", "1RN20914NA8364843", "9T0916710M1105906"),
}


def test_every_paypal_sample_is_asserted() -> None:
    assert sorted(PAYPAL_SAMPLES) == sorted(path.name for path in (EVENTS / "paypal").glob("*.json"))


@pytest.mark.parametrize(("file", "expected"), PAYPAL_SAMPLES.items())
def test_paypal_samples_normalise(file: str, expected: Stored) -> None:
    document = json.loads(sample(f"paypal/{file}"), parse_float=Decimal, parse_int=Decimal)
    assert stored(paypal.normalise(document, "paypal", "sha")) == expected


@pytest.mark.parametrize(
    "amount",
    [
        {"currency_code": "JPY", "value": "1500.5"},
        {"currency_code": "USD", "value": "10.999"},
        {"currency_code": "USD", "value": 10.99},
        {"currency_code": "ZZZ", "value": "1.00"},
        {"currency_code": "USD", "value": "-10.00"},  # a capture never moves money out
        "10.00",
        None,
    ],
)
def test_paypal_amounts_are_validated_against_the_currency(amount: object) -> None:
    document = {
        "id": "WH-1",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "create_time": "2026-11-23T10:00:00Z",
        "resource": {"id": "CAP-1", "amount": amount},
    }
    assert rejected(paypal.normalise, document, "paypal", "sha") is Reason.INVALID_EVENT


def test_signatures_are_base64_of_rsa_pkcs1v15(keys: LocalPaypal) -> None:
    signed = signer_for(keys).headers("paypal", b"{}")
    assert len(base64.b64decode(signed["PAYPAL-TRANSMISSION-SIG"])) == 256  # 2048-bit RSA


def test_paypal_accepts_a_previous_webhook_id_during_a_rotation_and_no_other(keys: LocalPaypal) -> None:
    # `tapstack register --rotate` makes a new webhook id current and keeps the old one accepted: PayPal's
    # retries of deliveries signed for the old webhook still verify during the overlap.
    rotated = VerificationMaterial(
        (), "WH-NEW", (), paypal_previous_webhook_ids=(MATERIAL.paypal_webhook_id, "WH-OLDER")
    )
    cache = paypal.CertificateCache(CertificateServer({LOCAL_PAYPAL_CERT_URL: keys.pem}), keys.trust)
    body = sample("paypal/PAYMENT.CAPTURE.COMPLETED.json")
    now = time.time()
    for webhook_id in ("WH-NEW", MATERIAL.paypal_webhook_id, "WH-OLDER"):
        signed = signer_for(keys, paypal_webhook_id=webhook_id).headers("paypal", body)
        paypal.verify(Headers.from_event({"headers": signed}), body, rotated, now, cache)
    retired = signer_for(keys, paypal_webhook_id="WH-RETIRED").headers("paypal", body)
    assert rejected(paypal.verify, Headers.from_event({"headers": retired}), body, rotated, now, cache) is (
        Reason.SIGNATURE_INVALID
    )
