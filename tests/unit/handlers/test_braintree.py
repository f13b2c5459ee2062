"""Braintree: `bt_signature`/`bt_payload`, agreeing with Braintree's own SDK both ways; the XML read
safely; the challenge; the money of every mapped kind on the SDK's own sample notifications (see
tests/fixtures/vendor/braintree/README.md)."""

import base64
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import braintree as braintree_sdk
import pytest
from braintree.exceptions.invalid_challenge_error import InvalidChallengeError
from braintree.exceptions.invalid_signature_error import InvalidSignatureError
from braintree.webhook_notification import WebhookNotification
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.model import Transaction
from handlers.core.secrets import ProviderMaterial
from handlers.providers import braintree

PUBLIC, PRIVATE = "integration_public_key", "integration_private_key"
MATERIAL = ProviderMaterial(({"public_key": PUBLIC, "private_key": PRIVATE},), {})
KINDS = sorted(value for name, value in vars(WebhookNotification.Kind).items() if not name.startswith("_"))
NO_HEADERS = Headers({})
ids = st.from_regex(r"[a-z0-9]{1,16}", fullmatch=True)
keys = st.from_regex(r"[a-z0-9_]{1,32}", fullmatch=True)


def gateway(public_key: str = PUBLIC, private_key: str = PRIVATE) -> Any:
    """Braintree's SDK configured with these keys (it makes no request: parsing and signing are local)."""
    configuration = braintree_sdk.Configuration(
        braintree_sdk.Environment.Sandbox, "integration_merchant_id", public_key, private_key
    )
    return braintree_sdk.BraintreeGateway(configuration)


def sample(kind: str, object_id: str = "my_id") -> dict[str, str]:
    """The SDK's own signed sample of `kind` (its tests' `WebhookTesting.sample_notification`)."""
    fields: dict[str, Any] = gateway().webhook_testing.sample_notification(kind, object_id)
    return {"bt_signature": fields["bt_signature"], "bt_payload": fields["bt_payload"].decode("ascii")}


def form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode("ascii")


def sdk_accepts(fields: dict[str, str], public_key: str = PUBLIC, private_key: str = PRIVATE) -> bool:
    try:
        gateway(public_key, private_key).webhook_notification.parse(
            fields["bt_signature"], fields["bt_payload"]
        )
    except InvalidSignatureError:
        return False
    return True


def tapstack_accepts(body: bytes, material: ProviderMaterial = MATERIAL) -> bool:
    try:
        braintree.verify(NO_HEADERS, body, material, 0.0)
    except RejectionError as refusal:
        return refusal.reason.status != 401  # a refusal that is not "not authentic" fails the property
    return True


def normalised(body: bytes, material: ProviderMaterial = MATERIAL) -> Transaction:
    (event,) = braintree.verify(NO_HEADERS, body, material, 0.0)
    return braintree.normalise(event.document, "braintree", "0" * 64)


# --- Braintree's SDK as the oracle, both ways -----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(KINDS), ids)
def test_what_braintrees_sdk_signs_tapstack_accepts_and_never_fails_to_read(
    kind: str, object_id: str
) -> None:
    fields = sample(kind, object_id)
    assert tapstack_accepts(form(fields))
    (event,) = braintree.verify(NO_HEADERS, form(fields), MATERIAL, 0.0)
    assert event.document["kind"] == kind
    try:  # signed means stored: read, or a 400 that quarantines it, never anything else
        braintree.normalise(event.document, "braintree", "0" * 64)
    except RejectionError as refusal:
        reason = refusal.reason
    else:
        reason = Reason.INVALID_EVENT
    assert reason is Reason.INVALID_EVENT


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(KINDS), ids, keys, keys)
def test_what_tapstack_signs_braintrees_sdk_accepts(
    kind: str, object_id: str, public: str, private: str
) -> None:
    xml = base64.decodebytes(sample(kind, object_id)["bt_payload"].encode())
    material = ProviderMaterial(({"public_key": public, "private_key": private},), {})
    body, headers = braintree.sign(xml, material, 0.0)
    assert headers == {"Content-Type": braintree.MEDIA_TYPE}
    assert sdk_accepts(dict(parse_qsl(body.decode("ascii"))), public, private)
    assert tapstack_accepts(body, material)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(KINDS), st.data())
def test_a_tampered_payload_is_refused_by_both(kind: str, data: st.DataObject) -> None:
    fields = sample(kind)
    payload = fields["bt_payload"]
    position = data.draw(st.integers(0, len(payload) - 2))
    replacement = data.draw(st.sampled_from("AZaz09+/").filter(lambda char: char != payload[position]))
    tampered = {**fields, "bt_payload": payload[:position] + replacement + payload[position + 1 :]}
    assert not sdk_accepts(tampered)
    assert not tapstack_accepts(form(tampered))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(KINDS), keys)
def test_a_wrong_private_key_is_refused_by_both(kind: str, private: str) -> None:
    fields = sample(kind)
    expected = private == PRIVATE
    assert sdk_accepts(fields, PUBLIC, private) == expected
    assert tapstack_accepts(
        form(fields), ProviderMaterial(({"public_key": PUBLIC, "private_key": private},), {})
    ) == (expected)


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"[a-f0-9]{20,32}", fullmatch=True), keys, keys)
def test_challenge_responses_agree_with_braintrees_sdk(challenge: str, public: str, private: str) -> None:
    material = ProviderMaterial(({"public_key": public, "private_key": private},), {})
    assert braintree.challenge_response(challenge, material) == gateway(
        public, private
    ).webhook_notification.verify(challenge)


@pytest.mark.parametrize(
    "challenge", ["bad challenge", "ABCDEF0123456789ABCD", "a" * 19, "a" * 33, "a" * 20 + "\n"]
)
def test_challenges_the_sdk_refuses_are_refused(challenge: str) -> None:
    if challenge != "a" * 20 + "\n":  # the SDK's `$` lets a final LF through; TapStack does not
        with pytest.raises(InvalidChallengeError):
            gateway().webhook_notification.verify(challenge)
    with pytest.raises(RejectionError) as refused:
        braintree.challenge_response(challenge, MATERIAL)
    assert refused.value.reason is Reason.REQUEST_MALFORMED


# --- the delivery: form, keys, XML ----------------------------------------------------------------


def test_any_configured_key_pair_verifies_so_keys_roll_without_a_gap() -> None:
    fields = sample("check")
    both = ProviderMaterial(
        ({"public_key": "new", "private_key": "new_private"}, MATERIAL.signing_keys[0]), {}
    )
    assert tapstack_accepts(form(fields), both)
    only_new = ProviderMaterial(({"public_key": "new", "private_key": "new_private"},), {})
    with pytest.raises(RejectionError, match="public key"):
        braintree.verify(NO_HEADERS, form(fields), only_new, 0.0)


def test_several_signature_pairs_the_one_naming_the_configured_key_counts() -> None:
    fields = sample("check")
    fields["bt_signature"] = "other_key|" + "0" * 40 + "&" + fields["bt_signature"]
    assert sdk_accepts(fields)
    assert tapstack_accepts(form(fields))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"bt_signature=a%7Cb",
        b"bt_payload=abc",
        form({"bt_signature": "a|b", "bt_payload": "abc"}) + b"&bt_payload=abc",
        "bt_signature=a|b&bt_payload=é".encode(),
        form({"bt_signature": "a|" + "b" * 5000, "bt_payload": "abc"}),
    ],
)
def test_forms_without_exactly_one_signature_and_payload_are_refused(body: bytes) -> None:
    with pytest.raises(RejectionError) as refused:
        braintree.verify(NO_HEADERS, body, MATERIAL, 0.0)
    assert refused.value.reason is Reason.SIGNATURE_MISSING


@pytest.mark.parametrize(
    "keys_", [(), ("key",), ({"public_key": "a"},), ({"public_key": "a|b", "private_key": "c"},)]
)
def test_missing_or_malformed_keys_are_a_configuration_refusal(keys_: tuple[object, ...]) -> None:
    with pytest.raises(RejectionError) as refused:
        braintree.verify(NO_HEADERS, form(sample("check")), ProviderMaterial(keys_, {}), 0.0)
    assert refused.value.reason is Reason.PROVIDER_NOT_CONFIGURED


def test_a_signed_notification_declaring_a_dtd_is_never_expanded_and_is_kept_for_quarantine() -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE notification [<!ENTITY boom "x">]>'
        b"<notification><kind>check</kind><timestamp>2024-01-01T00:00:00Z</timestamp>"
        b"<subject><check>&boom;</check></subject></notification>"
    )
    body, _ = braintree.sign(xml, MATERIAL, 0.0)
    (event,) = braintree.verify(NO_HEADERS, body, MATERIAL, 0.0)
    assert set(event.document) == {"id"}
    with pytest.raises(RejectionError, match="kind"):
        braintree.normalise(event.document, "braintree", "0" * 64)


def test_the_same_notification_redelivered_has_the_same_id_and_another_has_another() -> None:
    first = braintree.verify(NO_HEADERS, form(sample("dispute_opened", "dp_1")), MATERIAL, 0.0)[0].event_id
    again = braintree.verify(NO_HEADERS, form(sample("dispute_opened", "dp_1")), MATERIAL, 0.0)[0].event_id
    other = braintree.verify(NO_HEADERS, form(sample("dispute_won", "dp_1")), MATERIAL, 0.0)[0].event_id
    assert first == again  # the SDK's samples are stamped to the second: the same notification
    assert other != first


# --- money: every mapped kind, on the SDK's own sample -------------------------------------------

# kind: (kind stored, amount, direction, object id, related id); written out, not read from MEANINGS.
# The new-style dispute samples dispute 100.00 USD (95.00 won back) of transaction "obj"; the legacy
# ones 250.00, with no amount-disputed nor amount-won.
BRAINTREE: dict[str, tuple[str, str, str | None, str, str | None]] = {
    "transaction_settled": ("payment", "100.00", "in", "obj", None),
    "transaction_settlement_declined": ("payment", "100.00", None, "obj", None),
    "dispute_opened": ("dispute", "100.00", "out", "obj", "obj"),
    "dispute_won": ("dispute", "95.00", "in", "obj", "obj"),  # amount-won: what came back
    "dispute_lost": ("dispute", "100.00", None, "obj", "obj"),
    "dispute_accepted": ("dispute", "100.00", None, "obj", "obj"),
    "dispute_auto_accepted": ("dispute", "100.00", None, "obj", "obj"),
    "dispute_disputed": ("dispute", "100.00", None, "obj", "obj"),
    "dispute_expired": ("dispute", "100.00", None, "obj", "obj"),
    "dispute_under_review": ("dispute", "100.00", None, "obj", "obj"),
    "subscription_charged_successfully": ("subscription_payment", "49.99", "in", "obj", "obj"),
    "subscription_charged_unsuccessfully": ("subscription_payment", "49.99", None, "obj", "obj"),
}


def test_every_mapped_kind_is_tested() -> None:
    assert sorted(BRAINTREE) == sorted(braintree.MEANINGS)


def with_currency(fields: dict[str, str]) -> dict[str, str]:
    """The SDK's subscription samples trim the transaction of the `currency-iso-code` every Braintree
    transaction carries (Transaction reference); added back, re-signed with the same keys."""
    xml = base64.decodebytes(fields["bt_payload"].encode())
    xml = xml.replace(
        b"<amount>49.99</amount>", b"<amount>49.99</amount><currency-iso-code>USD</currency-iso-code>"
    )
    body, _ = braintree.sign(xml, MATERIAL, 0.0)
    return dict(parse_qsl(body.decode("ascii")))


@pytest.mark.parametrize(("kind", "expected"), BRAINTREE.items())
def test_braintree_mapping_on_the_sdks_sample(
    kind: str, expected: tuple[str, str, str | None, str, str | None]
) -> None:
    stored_kind, amount, direction, object_id, related = expected
    fields = sample(kind, "obj")
    if kind.startswith("subscription_"):
        with pytest.raises(RejectionError, match="currency"):  # as the SDK trims it: quarantined
            normalised(form(fields))
        fields = with_currency(fields)
    transaction = normalised(form(fields))
    assert (transaction.event_type, transaction.kind) == (kind, stored_kind)
    assert (transaction.amount, transaction.currency, transaction.direction) == (
        Decimal(amount),
        "USD",
        direction,
    )
    assert (transaction.object_id, transaction.related_object_id) == (object_id, related)
    assert transaction.provider_event_id.startswith("sha256:")


@pytest.mark.parametrize("kind", [kind for kind in BRAINTREE if kind.startswith("dispute_")])
def test_legacy_disputes_are_read_at_amount(kind: str) -> None:
    transaction = normalised(form(sample(kind, "legacy_dispute_id")))
    assert (transaction.kind, transaction.amount, transaction.currency) == (
        "dispute",
        Decimal("250.00"),
        "USD",
    )


def test_a_settled_credit_is_a_refund_going_out() -> None:
    xml = base64.decodebytes(sample("transaction_settled")["bt_payload"].encode())
    body, _ = braintree.sign(xml.replace(b"<type>sale</type>", b"<type>credit</type>"), MATERIAL, 0.0)
    transaction = normalised(body)
    assert (transaction.kind, transaction.direction) == ("refund", "out")


def test_unmapped_kinds_carry_the_subjects_id_and_no_money() -> None:
    transaction = normalised(form(sample("subscription_went_past_due", "sub_1")))
    assert (transaction.kind, transaction.amount, transaction.object_id) == ("other", None, "sub_1")
    assert normalised(form(sample("check"))).object_id is None


@given(
    st.binary(max_size=256)
    | st.dictionaries(st.sampled_from(["bt_signature", "bt_payload", "x"]), st.text()).map(
        lambda fields: urlencode(fields).encode()
    )
)
def test_whatever_is_not_signed_is_a_401_never_another_refusal(body: bytes) -> None:
    """The catalogue's contract: a refusal other than 401 would mean "authentic, quarantine it"."""
    with pytest.raises(RejectionError) as refused:
        braintree.verify(NO_HEADERS, body, MATERIAL, 0.0)
    assert refused.value.reason.status == 401
