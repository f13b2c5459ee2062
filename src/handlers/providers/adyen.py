"""Adyen: an HMAC-SHA256 per notification item, inside the body; or one over the raw body.

Standard (payments) webhooks are JSON `{"live": "false", "notificationItems": [{"NotificationRequestItem":
{...}}, ...]}`. Each item carries its own signature at `additionalData.hmacSignature`: base64 of
HMAC-SHA256, keyed with the hex-decoded HMAC key, over eight of its fields joined with `:`:

    pspReference:originalReference:merchantAccountCode:merchantReference:amount.value:amount.currency:eventCode:success

An absent field is empty (an item without `amount` signs `::` there), and nothing is escaped: a `:` or
`\\` inside a reference is signed as it is. Only those fields are signed, so the rest of the item and
of the envelope is read for information only. One item that does not verify refuses the whole
delivery: Adyen retries it, and storing half a batch would hide the forgery.

Platform webhooks (Balance Platform, Management, Configuration) sign the raw body instead: header
`HmacSignature`, base64 of HMAC-SHA256 over the exact bytes (whitespace included), same key format.
A delivery carrying that header is verified that way, as one event.

Neither scheme has a timestamp, so a replayed delivery verifies: deduplication is the replay defence.
Each item's idempotency key is `pspReference:eventCode:success:eventDate` (`event_id`, the date in
UTC). Adyen's "Handle webhook events" page
(docs.adyen.com/development-resources/webhooks/handle-webhook-events) says a retried webhook repeats
`eventCode` and `pspReference`, and that the same pair with another `success` is a new event (an
AUTHORISATION false after an AUTHORISATION true). A retry repeats the item, `eventDate` (when the
event was generated) included; an event Adyen generates again is not a retry: after a CAPTURE_FAILED
for a technical reason Adyen re-captures and reports it as a CAPTURE `true` of the same capture
("CAPTURE_FAILED and REFUND_FAILED reasons"), which the first three fields alone would take for the
first capture and drop. Without a readable eventDate the key is the first three.
A platform webhook's key is `sha256:` + the body's SHA-256, which a redelivery of the same bytes repeats.

Adyen expects a 2xx whose body is `[accepted]` (`ACKNOWLEDGEMENT`) once every item is handed off;
anything else makes it retry the whole delivery.

Money: `amount.value` is an integer of minor units, scaled by the currency's ISO 4217 exponent. What
each event code means is `MEANINGS`; the direction holds only when `success` is `"true"`: an item
with `success` `"false"` reports an operation that did not happen (a refused authorisation, a failed
capture or refund request), so it is stored with its kind, amount and status `failed`, and no
direction. Platform webhooks and unmapped codes are kind `other`, with no money.
"""

import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.jsonbody import parse_object
from handlers.core.model import Direction, Kind, Money, Transaction
from handlers.core.secrets import ProviderMaterial
from handlers.providers import VerifiedEvent

SIGNATURE_HEADER = "HmacSignature"
"""The raw-body scheme's header (platform webhooks); standard webhooks sign inside the body."""
SIGNATURE_HEADERS = (SIGNATURE_HEADER.lower(),)
"""The headers carrying a signature (the WAF redacts them from its logs)."""
EVENT_TYPE_FIELD = "eventCode"
"""Where an item names its type (read for a quarantined event)."""
REPLAY_DEFENCE = (
    "no timestamp is signed: deduplication by event id is the replay defence "
    "(each item's pspReference:eventCode:success:eventDate; a platform webhook's body hash)"
)
ACKNOWLEDGEMENT = "[accepted]"
"""The body of the 2xx that tells Adyen the delivery was received (text/plain)."""
_KEY_FIELDS = ("pspReference", "eventCode", "success")
MAX_SIGNATURE_LENGTH = 128
"""A base64 SHA-256 is 44 characters; longer candidates are refused before any HMAC is computed."""


def keys(material: ProviderMaterial) -> list[bytes]:
    """The HMAC keys, hex-decoded as Adyen's Customer Area shows them; none is "not configured"."""
    decoded: list[bytes] = []
    for key in material.signing_keys:
        if not isinstance(key, str) or not key:
            raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED, "an Adyen signing key is not a hex string")
        try:
            decoded.append(bytes.fromhex(key))
        except ValueError:
            raise RejectionError(
                Reason.PROVIDER_NOT_CONFIGURED, "an Adyen signing key is not a hex string"
            ) from None
    if not decoded:
        raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
    return decoded


def _signed_text(value: object) -> str:
    """A signed field as Adyen renders it: absent or null is empty, numbers as written in the JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)  # a Decimal as parsed from the body, or an int of a document being signed
    raise RejectionError(Reason.SIGNATURE_INVALID, "a signed field of an item is not a string or a number")


def signing_string(item: Mapping[str, object]) -> bytes:
    """The eight signed fields (the module doc) joined with `:`, unescaped (UTF-8)."""
    amount = item.get("amount")
    value, currency = (
        (amount.get("value"), amount.get("currency")) if isinstance(amount, Mapping) else (None, None)
    )
    signed = (
        item.get("pspReference"),
        item.get("originalReference"),
        item.get("merchantAccountCode"),
        item.get("merchantReference"),
        value,
        currency,
        item.get("eventCode"),
        item.get("success"),
    )
    return ":".join(_signed_text(field) for field in signed).encode()


def item_signature(item: Mapping[str, object], key: bytes) -> str:
    """The base64 `hmacSignature` of one NotificationRequestItem under `key` (raw bytes)."""
    return base64.b64encode(hmac.new(key, signing_string(item), hashlib.sha256).digest()).decode()


def body_signature(body: bytes, key: bytes) -> str:
    """The base64 `HmacSignature` header of a platform webhook's raw body."""
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def _matches(candidate: object, expected: list[str]) -> bool:
    """True when `candidate` equals one of `expected`; every pair is compared (constant time)."""
    if not isinstance(candidate, str) or not candidate or len(candidate) > MAX_SIGNATURE_LENGTH:
        return False
    matched = False
    for signature in expected:
        matched |= hmac.compare_digest(candidate.encode(), signature.encode())
    return matched


def event_id(item: Mapping[str, object]) -> str:
    """The idempotency key of an item, `pspReference:eventCode:success:eventDate` (see the module doc);
    when that is no token (an odd reference), `sha256:` + its hash, so that a signed item is always keyed."""
    parts = [part if isinstance(part, str) else "" for part in (item.get(name) for name in _KEY_FIELDS)]
    with contextlib.suppress(RejectionError):  # no readable eventDate: the three fields Adyen names
        parts.append(fields.iso_timestamp(item, "eventDate"))
    key = ":".join(parts)
    if fields.is_token(key):
        return key
    return f"sha256:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def items(document: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The NotificationRequestItems of a standard notification, or a 401 when it is not one."""
    wrapped = document.get("notificationItems")
    if not isinstance(wrapped, list) or not wrapped:
        raise RejectionError(Reason.SIGNATURE_MISSING, "the body has no notificationItems")
    found: list[Mapping[str, object]] = []
    for entry in wrapped:
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            raise RejectionError(Reason.SIGNATURE_MISSING, "a notification item is not an object")
        found.append(item)
    return found


def verify_item(item: Mapping[str, object], hmac_keys: list[bytes]) -> None:
    """Raise a 401 unless the item's `additionalData.hmacSignature` is its signature under a key."""
    candidate = fields.at_path(item, "additionalData.hmacSignature")
    if not isinstance(candidate, str) or not candidate:
        raise RejectionError(Reason.SIGNATURE_MISSING, "a notification item has no hmacSignature")
    if not _matches(candidate, [item_signature(item, key) for key in hmac_keys]):
        raise RejectionError(Reason.SIGNATURE_INVALID)


def events(headers: Headers, body: bytes) -> list[VerifiedEvent]:
    """The events of a delivery (its `Splitter`): each item of a standard notification, keyed by
    `event_id`; or, when it carries the `HmacSignature` header, the one event of a platform webhook,
    keyed by the body's hash. A 401 when a delivery without that header is no standard notification."""
    if headers.values.get(SIGNATURE_HEADER.lower()) is not None:
        try:
            document: Mapping[str, object] = parse_object(body)
        except RejectionError:
            document = {}  # authentic all the same: stored, and quarantined by the normaliser
        return [VerifiedEvent(document, f"sha256:{hashlib.sha256(body).hexdigest()}")]
    try:
        notification = parse_object(body)
    except RejectionError:  # the signatures are inside: a body that is not JSON carries none
        raise RejectionError(Reason.SIGNATURE_MISSING, "the body is not a JSON notification") from None
    return [VerifiedEvent(item, event_id(item)) for item in items(notification)]


def verify(headers: Headers, body: bytes, material: ProviderMaterial, now: float) -> list[VerifiedEvent]:  # noqa: ARG001 (no clock in either scheme)
    """Every item of a standard notification, each verified; or the one event of a platform webhook.
    Every refusal is a 401: nothing is authentic until its signature is checked."""
    hmac_keys = keys(material)
    if headers.values.get(SIGNATURE_HEADER.lower()) is not None:
        if not _matches(headers.get(SIGNATURE_HEADER), [body_signature(body, key) for key in hmac_keys]):
            raise RejectionError(Reason.SIGNATURE_INVALID)
        return events(headers, body)
    found = events(headers, body)  # a standard notification signs each of its items
    for event in found:
        verify_item(event.document, hmac_keys)
    return found


def sign(
    body_or_document: bytes | Mapping[str, object], material: ProviderMaterial, now: float
) -> tuple[bytes, dict[str, str]]:
    """A standard notification as Adyen sends it, (body, headers): each item's `hmacSignature` set with
    the current key (the first), serialised as JSON. Given bytes (a sample file), they are read as JSON
    first; `amount.value` is an integer (or an integral Decimal)."""
    del now  # the scheme has no clock
    document = (
        json.loads(body_or_document, parse_float=Decimal)
        if isinstance(body_or_document, bytes)
        else body_or_document
    )
    key = keys(material)[0]
    signed_items = []
    for item in items(document):
        additional = item.get("additionalData")
        additional = dict(additional) if isinstance(additional, Mapping) else {}
        additional["hmacSignature"] = item_signature(item, key)
        signed_items.append({"NotificationRequestItem": {**item, "additionalData": additional}})
    body = json.dumps({**document, "notificationItems": signed_items}, default=_json_number).encode()
    return body, {"Content-Type": "application/json"}


def sign_raw(body: bytes, material: ProviderMaterial) -> dict[str, str]:
    """The headers of a platform webhook: `HmacSignature` over the raw body with the current key."""
    return {"Content-Type": "application/json", SIGNATURE_HEADER: body_signature(body, keys(material)[0])}


def _json_number(value: object) -> int:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise TypeError("only integral amounts are signed")


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one event code's `amount` means (docs/webhooks.md, "Money model")."""

    kind: Kind
    direction: Direction | None = None
    """Which way the event moved the amount when `success` is "true"; None when it moved nothing."""
    amount: str = "amount"


def _every(codes: str, meaning: Meaning) -> dict[str, Meaning]:
    return dict.fromkeys(codes.split(), meaning)


# Event codes from Adyen's "Webhook structure and types" and the Webhooks v1 API reference. A
# modification's pspReference is its own; originalReference is the payment's.
MEANINGS: dict[str, Meaning] = {
    # An authorisation holds the money; only its capture moves it.
    **_every(
        "AUTHORISATION AUTHORISATION_ADJUSTMENT CANCELLATION TECHNICAL_CANCEL",
        Meaning(Kind.AUTHORIZATION),
    ),
    "CAPTURE": Meaning(Kind.CAPTURE, Direction.IN),
    # The card scheme rejected a capture that had succeeded: the captured money goes back out.
    "CAPTURE_FAILED": Meaning(Kind.CAPTURE, Direction.OUT),
    **_every("REFUND REFUND_WITH_DATA", Meaning(Kind.REFUND, Direction.OUT)),
    # A refund that failed, or that the issuer returned, puts its money back.
    **_every("REFUND_FAILED REFUNDED_REVERSED", Meaning(Kind.REFUND, Direction.IN)),
    # CANCEL_OR_REFUND cancels or refunds, as additionalData.modification.action says (normalise).
    "CANCEL_OR_REFUND": Meaning(Kind.REFUND),
    # Chargebacks debit the disputed amount; a reversed chargeback credits it back.
    **_every("CHARGEBACK SECOND_CHARGEBACK", Meaning(Kind.DISPUTE, Direction.OUT)),
    "CHARGEBACK_REVERSED": Meaning(Kind.DISPUTE, Direction.IN),
    **_every(
        "NOTIFICATION_OF_CHARGEBACK REQUEST_FOR_INFORMATION PREARBITRATION_WON PREARBITRATION_LOST",
        Meaning(Kind.DISPUTE),
    ),
}
SUCCEEDED = "succeeded"
FAILED = "failed"


def normalise(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """A NotificationRequestItem read as `MEANINGS` says; a platform webhook (`type`) as kind `other`."""
    if "eventCode" not in document:
        return _platform(document, provider, body_sha256)
    event_code = fields.token(document, "eventCode")
    success = document.get("success")
    if success not in ("true", "false"):
        raise RejectionError(Reason.INVALID_EVENT, 'success is not "true" or "false"')
    event = Transaction(
        provider=provider,
        provider_event_id=event_id(document),
        event_type=event_code,
        occurred_at=fields.iso_timestamp(document, "eventDate"),
        amount=None,
        currency=None,
        status=SUCCEEDED if success == "true" else FAILED,
        body_sha256=body_sha256,
        kind=Kind.OTHER,
        object_id=fields.readable_reference(document, "pspReference"),
    )
    meaning = MEANINGS.get(event_code)
    if meaning is None:
        return event
    kind, direction = meaning.kind, meaning.direction if success == "true" else None
    if event_code == "CANCEL_OR_REFUND":
        additional = document.get("additionalData")
        action = additional.get("modification.action") if isinstance(additional, dict) else None
        if action == "cancel":
            kind = Kind.AUTHORIZATION
        elif action == "refund" and success == "true":
            direction = Direction.OUT
    return event.with_meaning(
        kind,
        _money(document, direction),
        fields.reference_text(document.get("pspReference"), "pspReference"),
        fields.reference(document, "originalReference"),
    )


def _money(item: Mapping[str, object], direction: Direction | None) -> Money:
    amount = fields.mapping(item, "amount")
    currency, exponent = money.currency_exponent(amount.get("currency"))
    value = amount.get("value")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 38:
        value = Decimal(value)  # a string of digits, as some Adyen libraries' mocks write it
    return money.provider_money(money.from_minor_units(value, exponent), currency, exponent, direction)


def _platform(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """A platform webhook `{"type", "data", "environment", ...}`: its type, no money."""
    return Transaction(
        provider=provider,
        provider_event_id=f"sha256:{body_sha256}",
        event_type=fields.token(document, "type"),
        occurred_at=None,
        amount=None,
        currency=None,
        status=None,
        body_sha256=body_sha256,
        kind=Kind.OTHER,
        object_id=fields.readable_reference(document, "data.id"),
    )
