"""Adyen: per-item HMAC and raw-body HMAC, agreeing with Adyen's own library both ways; batches; the
money of every mapped event code, read from Adyen's own examples (tests/fixtures/vendor/adyen/)."""

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from Adyen import util as adyen_sdk
from hypothesis import given
from hypothesis import strategies as st

from handlers.core import fields
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.jsonbody import parse_object
from handlers.core.secrets import ProviderMaterial
from handlers.providers import adyen
from tests import support

KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
PREVIOUS_KEY = "D7DD5BA6146493707BF0BE7496F6404EC7A63616B7158EC927B9F54BB436765F"
MATERIAL = ProviderMaterial((KEY,), {})
EXAMPLES: dict[str, dict[str, Any]] = json.loads(
    (support.VENDOR / "adyen" / "webhooks-v1-examples.json").read_text()
)
NO_HEADERS = Headers({})


def example(event_code: str, **changes: Any) -> dict[str, Any]:
    """Adyen's example notification of `event_code`, its item changed by `changes`."""
    (notification,) = [
        value
        for value in EXAMPLES.values()
        if [item["NotificationRequestItem"]["eventCode"] for item in value.get("notificationItems", [])]
        == [event_code]
    ]
    notification = copy.deepcopy(notification)
    notification["notificationItems"][0]["NotificationRequestItem"].update(changes)
    return notification


def delivered(notification: dict[str, Any], material: ProviderMaterial = MATERIAL) -> list[Any]:
    body, headers = adyen.sign(notification, material, 0.0)
    assert headers == {"Content-Type": "application/json"}
    return adyen.verify(NO_HEADERS, body, material, 0.0)


# --- verification ---------------------------------------------------------------------------------


def test_a_batch_gives_one_event_per_item_each_with_adyens_idempotency_key() -> None:
    first = example("AUTHORISATION")["notificationItems"][0]
    second = example("CAPTURE")["notificationItems"][0]
    refused = example("AUTHORISATION", success="false", pspReference="AB12CD34EF56GH78")["notificationItems"][
        0
    ]
    events = delivered({"live": "false", "notificationItems": [first, second, refused]})
    assert [event.event_id for event in events] == [
        "QFQTPCQ8HXSKGK82:AUTHORISATION:true:2021-01-01T00:00:00.000Z",
        "QFQTPCQ8HXSKGK82:CAPTURE:true:2021-01-01T00:00:00.000Z",
        "AB12CD34EF56GH78:AUTHORISATION:false:2021-01-01T00:00:00.000Z",
    ]
    assert [event.document["eventCode"] for event in events] == ["AUTHORISATION", "CAPTURE", "AUTHORISATION"]


def test_one_forged_item_refuses_the_whole_delivery() -> None:
    notification = {
        "live": "false",
        "notificationItems": [
            example("AUTHORISATION")["notificationItems"][0],
            example("CAPTURE")["notificationItems"][0],
        ],
    }
    body, _ = adyen.sign(notification, MATERIAL, 0.0)
    forged = body.replace(b'"eventCode": "CAPTURE"', b'"eventCode": "REFUND"')
    assert forged != body
    with pytest.raises(RejectionError) as refused:
        adyen.verify(NO_HEADERS, forged, MATERIAL, 0.0)
    assert refused.value.reason is Reason.SIGNATURE_INVALID


def test_a_recapture_after_a_failed_capture_is_not_taken_for_a_retry_of_the_first() -> None:
    capture = example("CAPTURE")
    recapture = example("CAPTURE", eventDate="2021-01-03T09:00:00+01:00", reason="Transaction Recaptured")
    (first,), (again,), (retried,) = (delivered(capture), delivered(recapture), delivered(capture))
    assert first.event_id != again.event_id
    assert retried.event_id == first.event_id


def test_an_item_without_a_readable_event_date_is_keyed_by_the_three_fields_adyen_names() -> None:
    (event,) = delivered(example("CAPTURE", eventDate=None))
    assert event.event_id == "QFQTPCQ8HXSKGK82:CAPTURE:true"


def test_any_configured_key_verifies_so_keys_roll_without_a_gap() -> None:
    old = ProviderMaterial((PREVIOUS_KEY,), {})
    body, _ = adyen.sign(example("REFUND"), old, 0.0)
    assert adyen.verify(NO_HEADERS, body, ProviderMaterial((KEY, PREVIOUS_KEY), {}), 0.0)
    with pytest.raises(RejectionError):
        adyen.verify(NO_HEADERS, body, MATERIAL, 0.0)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"live": "false"}', Reason.SIGNATURE_MISSING),
        (b'{"live": "false", "notificationItems": []}', Reason.SIGNATURE_MISSING),
        (b'{"notificationItems": [{"NotificationRequestItem": "x"}]}', Reason.SIGNATURE_MISSING),
        (
            b'{"notificationItems": [{"NotificationRequestItem": {"pspReference": "A"}}]}',
            Reason.SIGNATURE_MISSING,
        ),
        (b"[accepted]", Reason.SIGNATURE_MISSING),
        (b'{"notificationItems": [' * 40, Reason.SIGNATURE_MISSING),
    ],
)
def test_bodies_that_are_no_signed_notification_are_refused(body: bytes, reason: Reason) -> None:
    with pytest.raises(RejectionError) as refused:
        adyen.verify(NO_HEADERS, body, MATERIAL, 0.0)
    assert refused.value.reason is reason


@pytest.mark.parametrize("keys", [(), ("not hex",), (12,), ("",)])
def test_missing_or_malformed_keys_are_a_configuration_refusal(keys: tuple[object, ...]) -> None:
    body, _ = adyen.sign(example("CAPTURE"), MATERIAL, 0.0)
    with pytest.raises(RejectionError) as refused:
        adyen.verify(NO_HEADERS, body, ProviderMaterial(keys, {}), 0.0)
    assert refused.value.reason is Reason.PROVIDER_NOT_CONFIGURED


def test_a_platform_webhook_is_one_event_keyed_by_its_bodys_hash_whitespace_and_all() -> None:
    body = b'\n  {"type": "balancePlatform.accountHolder.created", "data": {"id": "AH32272223222B5"}}\n  '
    headers = adyen.sign_raw(body, MATERIAL)
    (event,) = adyen.verify(Headers({"hmacsignature": (headers["HmacSignature"],)}), body, MATERIAL, 0.0)
    transaction = adyen.normalise(event.document, "adyen", "ab" * 32)
    assert event.event_id == transaction.provider_event_id.replace("ab" * 32, event.event_id[7:])
    assert (transaction.event_type, transaction.kind, transaction.amount) == (
        "balancePlatform.accountHolder.created",
        "other",
        None,
    )
    assert transaction.object_id == "AH32272223222B5"
    with pytest.raises(RejectionError):
        adyen.verify(Headers({"hmacsignature": (headers["HmacSignature"],)}), body.strip(), MATERIAL, 0.0)


def test_a_verified_platform_webhook_that_is_not_json_is_kept_for_quarantine() -> None:
    body = b"not json"
    (event,) = adyen.verify(
        Headers({"hmacsignature": (adyen.sign_raw(body, MATERIAL)["HmacSignature"],)}), body, MATERIAL, 0.0
    )
    assert event.document == {}
    with pytest.raises(RejectionError, match="invalid_event"):
        adyen.normalise(event.document, "adyen", "0" * 64)


# --- Adyen's library as the oracle, both ways -----------------------------------------------------

hex_keys = st.binary(min_size=32, max_size=32).map(lambda key: key.hex().upper())
items = st.fixed_dictionaries(
    {
        "pspReference": st.from_regex(r"[A-Z0-9]{16}", fullmatch=True),
        "merchantAccountCode": st.text(min_size=1, max_size=30),
        "merchantReference": st.text(alphabet=st.sampled_from(":\\/ab-é€"), max_size=30),
        "amount": st.fixed_dictionaries(
            {"value": st.integers(0, 10**15), "currency": st.sampled_from(["EUR", "JPY", "KWD", "USD"])}
        ),
        "eventCode": st.sampled_from([*adyen.MEANINGS, "REPORT_AVAILABLE", "EXPIRE"]),
        "success": st.sampled_from(["true", "false"]),
        "eventDate": st.just("2021-01-01T01:00:00+01:00"),
    },
    optional={"originalReference": st.from_regex(r"[A-Z0-9]{16}", fullmatch=True)},
)


def signed(item: dict[str, Any], key: str) -> bytes:
    notification = {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}
    return adyen.sign(notification, ProviderMaterial((key,), {}), 0.0)[0]


def sdk_verdict(body: bytes, key: str) -> bool:
    """Adyen's library on the item of a delivery (it reads the first item only)."""
    return bool(adyen_sdk.is_valid_hmac_notification(json.loads(body), key))


def tapstack_verdict(body: bytes, key: str) -> bool:
    try:
        adyen.verify(NO_HEADERS, body, ProviderMaterial((key,), {}), 0.0)
    except RejectionError as refusal:
        return refusal.reason.status != 401  # a refusal that is not "not authentic" fails the property
    return True


@given(items, hex_keys)
def test_what_tapstack_signs_adyens_library_accepts_and_the_money_is_exact(
    item: dict[str, Any], key: str
) -> None:
    body = signed(item, key)
    assert sdk_verdict(body, key)
    assert tapstack_verdict(body, key)
    (event,) = adyen.verify(NO_HEADERS, body, ProviderMaterial((key,), {}), 0.0)
    transaction = adyen.normalise(event.document, "adyen", "0" * 64)
    if item["eventCode"] in adyen.MEANINGS:
        exponent = {"JPY": 0, "KWD": 3}.get(item["amount"]["currency"], 2)
        assert transaction.amount == Decimal(item["amount"]["value"]).scaleb(-exponent)


@given(items, hex_keys)
def test_what_adyens_library_signs_tapstack_accepts(item: dict[str, Any], key: str) -> None:
    signature = adyen_sdk.generate_notification_sig(item, key).decode()
    body = json.dumps(
        {
            "notificationItems": [
                {"NotificationRequestItem": {**item, "additionalData": {"hmacSignature": signature}}}
            ]
        }
    ).encode()
    assert tapstack_verdict(body, key)
    assert sdk_verdict(body, key)


@given(items, hex_keys, st.sampled_from(["merchantReference", "pspReference", "success", "amount"]))
def test_a_tampered_item_is_refused_by_both(item: dict[str, Any], key: str, field: str) -> None:
    document = json.loads(signed(item, key))
    tampered = document["notificationItems"][0]["NotificationRequestItem"]
    if field == "amount":
        tampered["amount"]["value"] += 1
    elif field == "success":
        tampered["success"] = "true" if item["success"] == "false" else "false"
    else:
        tampered[field] += "X"
    body = json.dumps(document).encode()
    assert not sdk_verdict(body, key)
    assert not tapstack_verdict(body, key)


@given(items, hex_keys, hex_keys)
def test_a_wrong_key_is_refused_by_both(item: dict[str, Any], key: str, other: str) -> None:
    body = signed(item, key)
    assert sdk_verdict(body, other) == tapstack_verdict(body, other) == (key == other)


@given(st.binary(max_size=512), hex_keys, hex_keys)
def test_raw_body_signatures_agree_with_adyens_library(body: bytes, key: str, other: str) -> None:
    signature = adyen.sign_raw(body, ProviderMaterial((key,), {}))["HmacSignature"]
    assert adyen_sdk.is_valid_hmac_payload(signature, key, body)
    for candidate_body, candidate_key in ((body, other), (body + b" ", key)):
        expected = bool(adyen_sdk.is_valid_hmac_payload(signature, candidate_key, candidate_body))
        try:
            adyen.verify(
                Headers({"hmacsignature": (signature,)}),
                candidate_body,
                ProviderMaterial((candidate_key,), {}),
                0.0,
            )
            verdict = True
        except RejectionError:
            verdict = False
        assert verdict == expected


# --- money: every mapped event code, on Adyen's own example ---------------------------------------

# event code: (kind, direction when success is "true"); written out, not read from adyen.MEANINGS.
ADYEN: dict[str, tuple[str, str | None]] = {
    "AUTHORISATION": ("authorization", None),
    "AUTHORISATION_ADJUSTMENT": ("authorization", None),
    "CANCELLATION": ("authorization", None),
    "TECHNICAL_CANCEL": ("authorization", None),
    "CAPTURE": ("capture", "in"),
    "CAPTURE_FAILED": ("capture", "out"),
    "REFUND": ("refund", "out"),
    "REFUND_WITH_DATA": ("refund", "out"),
    "REFUND_FAILED": ("refund", "in"),
    "REFUNDED_REVERSED": ("refund", "in"),
    "CANCEL_OR_REFUND": ("refund", None),
    "CHARGEBACK": ("dispute", "out"),
    "SECOND_CHARGEBACK": ("dispute", "out"),
    "CHARGEBACK_REVERSED": ("dispute", "in"),
    "NOTIFICATION_OF_CHARGEBACK": ("dispute", None),
    "REQUEST_FOR_INFORMATION": ("dispute", None),
    "PREARBITRATION_WON": ("dispute", None),
    "PREARBITRATION_LOST": ("dispute", None),
}


def test_every_mapped_event_code_is_tested() -> None:
    assert sorted(ADYEN) == sorted(adyen.MEANINGS)


@pytest.mark.parametrize(("event_code", "expected"), ADYEN.items())
@pytest.mark.parametrize("success", ["true", "false"])
def test_adyen_mapping_on_adyens_example(
    event_code: str, expected: tuple[str, str | None], success: str
) -> None:
    kind, direction = expected
    changes: dict[str, Any] = {"success": success}
    if event_code == "CANCEL_OR_REFUND":  # Adyen's example cancels; this one says neither
        changes["additionalData"] = {}
    (event,) = delivered(example(event_code, **changes))
    item = event.document
    transaction = adyen.normalise(item, "adyen", "0" * 64)
    assert (
        transaction.provider_event_id
        == f"{item['pspReference']}:{event_code}:{success}:{transaction.occurred_at}"
    )
    assert (transaction.event_type, transaction.kind) == (event_code, kind)
    assert (transaction.amount, transaction.currency) == (Decimal(item["amount"]["value"]) / 100, "EUR")
    assert transaction.direction == (direction if success == "true" else None)
    assert transaction.status == ("succeeded" if success == "true" else "failed")
    assert transaction.object_id == item["pspReference"]
    assert transaction.related_object_id == item.get("originalReference")
    assert str(transaction.occurred_at).endswith("Z")


@pytest.mark.parametrize(
    ("action", "kind", "direction"), [("cancel", "authorization", None), ("refund", "refund", "out")]
)
def test_cancel_or_refund_follows_the_action_adyen_took(
    action: str, kind: str, direction: str | None
) -> None:
    (event,) = delivered(example("CANCEL_OR_REFUND", additionalData={"modification.action": action}))
    transaction = adyen.normalise(event.document, "adyen", "0" * 64)
    assert (transaction.kind, transaction.direction) == (kind, direction)


def test_unmapped_event_codes_carry_no_money() -> None:
    (event,) = delivered(example("REPORT_AVAILABLE"))
    transaction = adyen.normalise(event.document, "adyen", "0" * 64)
    assert (transaction.kind, transaction.amount, transaction.currency, transaction.direction) == (
        "other",
        None,
        None,
        None,
    )
    assert transaction.object_id == event.document["pspReference"]


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"amount": None}, "amount"),
        ({"amount": {"value": 1000, "currency": "XXX"}}, "currency"),
        ({"amount": {"value": "10.5", "currency": "EUR"}}, "minor units"),
        ({"success": "maybe"}, "success"),
        ({"eventDate": "yesterday"}, "eventDate"),
    ],
)
def test_a_mapped_item_without_its_documented_fields_is_refused(changes: dict[str, Any], detail: str) -> None:
    item = parse_object(json.dumps(example("CAPTURE", **changes)).encode())["notificationItems"][0][
        "NotificationRequestItem"
    ]
    with pytest.raises(RejectionError, match=detail) as refused:
        adyen.normalise(item, "adyen", "0" * 64)
    assert refused.value.reason.status == 400


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["true", "false", "EUR"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "pspReference",
                "originalReference",
                "eventCode",
                "success",
                "eventDate",
                "amount",
                "merchantReference",
            ]
        ),
        json_values,
    ),
    st.sampled_from([*adyen.MEANINGS, "REPORT_AVAILABLE"]),
)
def test_a_signed_item_of_any_shape_is_read_or_refused_with_a_400_never_more(
    signed_fields: dict[str, Any], event_code: str
) -> None:
    """Signed means stored: whatever a signed item holds, the normaliser reads it or quarantines it."""
    item = {"eventCode": event_code, **signed_fields}
    key = adyen.keys(MATERIAL)[0]
    try:
        item["additionalData"] = {"hmacSignature": adyen.item_signature(item, key)}
    except RejectionError:
        return  # a signed field that is neither text nor a number: nothing Adyen could have signed
    body = json.dumps({"notificationItems": [{"NotificationRequestItem": item}]}).encode()
    (event,) = adyen.verify(NO_HEADERS, body, MATERIAL, 0.0)  # signed: always an event, always keyed
    assert fields.is_token(event.event_id)
    status = 200
    try:
        adyen.normalise(event.document, "adyen", "0" * 64)
    except RejectionError as refusal:
        status = refusal.reason.status
    assert status in (200, 400)


def test_a_sample_file_signs_as_its_document_does() -> None:
    notification = example("REFUND")
    from_bytes = adyen.sign(json.dumps(notification).encode(), MATERIAL, 0.0)
    assert from_bytes == adyen.sign(notification, MATERIAL, 0.0)


@given(st.binary(max_size=256) | items.map(lambda item: json.dumps({"notificationItems": [item]}).encode()))
def test_whatever_is_not_signed_is_a_401_never_another_refusal(body: bytes) -> None:
    """The catalogue's contract: a refusal other than 401 would mean "authentic, quarantine it"."""
    for headers in (NO_HEADERS, Headers({"hmacsignature": ("AAAA",)})):
        with pytest.raises(RejectionError) as refused:
            adyen.verify(headers, body, MATERIAL, 0.0)
        assert refused.value.reason.status == 401
