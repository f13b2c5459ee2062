"""Braintree: form fields `bt_signature` and `bt_payload`, HMAC-SHA1 under a key derived from the private key.

A notification is a POST of `application/x-www-form-urlencoded` fields:

    bt_payload    base64 (MIME style: a LF every 76 characters and at the end) of the notification XML
    bt_signature  <public key>|<hex HMAC-SHA1(key = SHA1(private key), bt_payload)>, pairs joined with `&`

as Braintree's SDKs check it (`WebhookNotificationGateway.parse`): the payload holds only
`[A-Za-z0-9+=/\\n]`, the pair naming a configured public key is the one compared, and a payload whose
final LF was lost still verifies (the SDKs retry with the LF appended). Each configured key pair is
tried, so a key can be rolled without a gap.

No timestamp is signed apart from the one inside the XML, and notifications carry no id: replay
defence is deduplication, on `sha256:` + the SHA-256 of the notification XML (`VerifiedEvent.event_id`,
and `id` in the document), which Braintree's hourly retries of the same notification repeat.

The XML is parsed after verification only (xml.etree, imported on this path only), without a DTD: a
document declaring one (`<!DOCTYPE`, `<!ENTITY`) is refused, so no entity is ever expanded or fetched.
It becomes a document as the SDKs
read it: `{"id", "kind", "timestamp", "subject": {"<object>": {...}}}`, element names with `-` read
as `_`, `type="array"` elements as lists, `nil="true"` as null, everything else as text.

Endpoint verification: when a destination URL is added, Braintree sends `bt_challenge` (hex) and
expects `<public key>|<hex HMAC-SHA1(SHA1(private key), challenge)>` back (`challenge_response`).

Money: amounts are decimal strings in the transaction's or dispute's currency (`MEANINGS`).
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.model import Direction, Kind, Transaction
from handlers.core.secrets import ProviderMaterial
from handlers.providers import VerifiedEvent

if TYPE_CHECKING:  # imported on the Braintree path only: the receiver's cold start does not pay for it
    from xml.etree.ElementTree import Element

MEDIA_TYPE = "application/x-www-form-urlencoded"
SIGNATURE_HEADERS: tuple[str, ...] = ()
"""None: the signature is a form field of the body."""
EVENT_TYPE_FIELD = "kind"
"""Where a notification names its type (read for a quarantined event)."""
REPLAY_DEFENCE = (
    "no timestamp is signed: deduplication by event id is the replay defence (sha256 of the notification XML)"
)
SIGNATURE_FIELD = "bt_signature"
PAYLOAD_FIELD = "bt_payload"
MAX_SIGNATURE_LENGTH = 4096
"""Bounds the work of an unauthenticated request: a few pairs of a public key and 40 hex digits."""
_PAYLOAD = re.compile(r"[A-Za-z0-9+=/\n]+")
_CHALLENGE = re.compile(r"[a-f0-9]{20,32}")
_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class KeyPair:
    """One Braintree API key pair; the HMAC key is SHA-1 of the private key."""

    public_key: str
    hmac_key: bytes

    def digest(self, message: str) -> str:
        return hmac.new(self.hmac_key, message.encode(), hashlib.sha1).hexdigest()


def key_pairs(material: ProviderMaterial) -> list[KeyPair]:
    """The configured `{"public_key", "private_key"}` objects; none is "not configured"."""
    pairs: list[KeyPair] = []
    for key in material.signing_keys:
        public = key.get("public_key") if isinstance(key, Mapping) else None
        private = key.get("private_key") if isinstance(key, Mapping) else None
        if not (
            isinstance(public, str) and public and "|" not in public and isinstance(private, str) and private
        ):
            raise RejectionError(
                Reason.PROVIDER_NOT_CONFIGURED,
                "a Braintree key is not an object with public_key and private_key",
            )
        pairs.append(KeyPair(public, hashlib.sha1(private.encode()).digest()))  # noqa: S324 (Braintree's scheme)
    if not pairs:
        raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
    return pairs


def _form_fields(body: bytes) -> tuple[str, str]:
    """`bt_signature` and `bt_payload`, each present exactly once, or a 401."""
    try:
        form = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=16)
    except (UnicodeDecodeError, ValueError):  # ValueError: more fields than max_num_fields
        raise RejectionError(Reason.SIGNATURE_MISSING) from None
    signature, payload = form.get(SIGNATURE_FIELD, []), form.get(PAYLOAD_FIELD, [])
    if len(signature) != 1 or len(payload) != 1 or len(signature[0]) > MAX_SIGNATURE_LENGTH:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    return signature[0], payload[0]


def verify_payload(signature: str, payload: str, pairs: list[KeyPair]) -> None:
    """Raise a 401 unless a pair of `signature` naming a configured public key signs `payload`."""
    if not _PAYLOAD.fullmatch(payload):
        raise RejectionError(Reason.SIGNATURE_INVALID, "the payload holds characters base64 does not")
    offered: dict[str, list[str]] = {}
    for pair in signature.split("&"):
        public, separator, digest = pair.partition("|")
        if separator:
            offered.setdefault(public, []).append(digest)
    matched = named = False
    for key in pairs:
        for candidate in offered.get(key.public_key, []):
            named = True
            # The SDKs retry with a LF appended, for a payload that lost its final one on the way.
            matched |= hmac.compare_digest(candidate.encode(), key.digest(payload).encode()) or (
                hmac.compare_digest(candidate.encode(), key.digest(payload + "\n").encode())
            )
    if not named:
        raise RejectionError(Reason.SIGNATURE_INVALID, "no signature names a configured public key")
    if not matched:
        raise RejectionError(Reason.SIGNATURE_INVALID)


def verify(headers: Headers, body: bytes, material: ProviderMaterial, now: float) -> list[VerifiedEvent]:  # noqa: ARG001 (no clock in the scheme)
    """The one notification of a delivery, verified, then parsed."""
    pairs = key_pairs(material)
    signature, payload = _form_fields(body)
    verify_payload(signature, payload, pairs)
    return events(headers, body)


def events(headers: Headers, body: bytes) -> list[VerifiedEvent]:  # noqa: ARG001 (the body holds everything)
    """The one notification of a delivery (its `Splitter`), keyed by the SHA-256 of its XML."""
    _, payload = _form_fields(body)
    try:
        xml = base64.b64decode(payload.replace("\n", ""), validate=True)
    except binascii.Error:
        xml = payload.encode()  # signed as sent: stored, and quarantined by the normaliser
    event_id = f"sha256:{hashlib.sha256(xml).hexdigest()}"
    return [VerifiedEvent({"id": event_id, **notification(xml)}, event_id)]


def notification(xml: bytes) -> dict[str, object]:
    """The notification's fields, or nothing when the XML is unreadable or declares a DTD."""
    from xml.etree import ElementTree  # noqa: PLC0415 (the Braintree path only, see the imports)

    if _DECLARATIONS.search(xml):
        return {}
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 (no DTD, checked above: nothing to expand)
    except ElementTree.ParseError:
        return {}
    value = _read(root)
    return value if isinstance(value, dict) else {}


def _read(element: "Element") -> object:
    """An element as Braintree's SDK parser reads it, values kept as text."""
    if element.get("nil") == "true":
        return None
    children = list(element)
    if element.get("type") == "array":
        return [_read(child) for child in children]
    if not children:
        return (element.text or "").strip()
    return {child.tag.replace("-", "_"): _read(child) for child in children}


def sign(xml: bytes, material: ProviderMaterial, now: float) -> tuple[bytes, dict[str, str]]:
    """A notification as Braintree posts it, (body, headers), signed with the current (first) key pair."""
    del now  # the scheme has no clock
    key = key_pairs(material)[0]
    payload = base64.encodebytes(xml).decode("ascii")
    form = {SIGNATURE_FIELD: f"{key.public_key}|{key.digest(payload)}", PAYLOAD_FIELD: payload}
    return urlencode(form).encode("ascii"), {"Content-Type": MEDIA_TYPE}


def new_key_pair() -> dict[str, str]:
    """A fresh key pair in Braintree's form: the local stack's and the tests' material."""
    return {"public_key": secrets.token_hex(8), "private_key": secrets.token_hex(16)}


def challenge_response(challenge: str, material: ProviderMaterial) -> str:
    """The answer to Braintree's `bt_challenge` when a destination URL is verified, or a 400."""
    if not _CHALLENGE.fullmatch(challenge):
        raise RejectionError(Reason.REQUEST_MALFORMED, "bt_challenge is not 20 to 32 hex digits")
    key = key_pairs(material)[0]
    return f"{key.public_key}|{key.digest(challenge)}"


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one notification kind's money means (docs/webhooks.md, "Money model")."""

    kind: Kind
    amount: str
    """Dotted path in `subject` to the amount, a decimal string; the object holding it is the one the
    event is about (its `id`), and holds the currency (else the subject's object does)."""
    direction: Direction | None = None
    related: str | None = None
    """Path in `subject` to the id of the object this one belongs to."""
    moved_when: tuple[str, str] | None = None
    """`direction` holds only when this field of the object has this value."""
    fallback: str | None = None
    """Where the amount is when `amount` is absent (disputes before `amount_disputed`: `amount`)."""


_DISPUTE = "dispute.amount_disputed"
_DISPUTE_TRANSACTION = "dispute.transaction.id"
_CHARGEBACK = ("kind", "chargeback")
_DISPUTE_AMOUNT = "dispute.amount"


def _every(kinds: str, meaning: Meaning) -> dict[str, Meaning]:
    return dict.fromkeys(kinds.split(), meaning)


# Kinds from the SDKs' WebhookNotification.Kind, objects' fields from the GraphQL/XML references.
MEANINGS: dict[str, Meaning] = {
    # ACH and local payment methods settle asynchronously: settled is when the money came in.
    "transaction_settled": Meaning(Kind.PAYMENT, "transaction.amount", Direction.IN),
    "transaction_settlement_declined": Meaning(Kind.PAYMENT, "transaction.amount"),
    # Braintree's Dispute reference: `amountDisputed` "is debited from a merchant's account and held
    # ... until the dispute is resolved", `amountWon` is "awarded back to the merchant if the dispute
    # was reversed". Only a chargeback's are counted: a retrieval disputes 0, a pre-arbitration
    # follows a chargeback whose amount was already taken.
    "dispute_opened": Meaning(
        Kind.DISPUTE, _DISPUTE, Direction.OUT, _DISPUTE_TRANSACTION, _CHARGEBACK, _DISPUTE_AMOUNT
    ),
    "dispute_won": Meaning(
        Kind.DISPUTE, "dispute.amount_won", Direction.IN, _DISPUTE_TRANSACTION, _CHARGEBACK, _DISPUTE_AMOUNT
    ),
    **_every(
        "dispute_lost dispute_accepted dispute_auto_accepted dispute_disputed dispute_expired "
        "dispute_under_review",
        Meaning(Kind.DISPUTE, _DISPUTE, None, _DISPUTE_TRANSACTION, fallback=_DISPUTE_AMOUNT),
    ),
    # A subscription's charge is its newest transaction, reported first.
    "subscription_charged_successfully": Meaning(
        Kind.SUBSCRIPTION_PAYMENT, "subscription.transactions.0.amount", Direction.IN, "subscription.id"
    ),
    "subscription_charged_unsuccessfully": Meaning(
        Kind.SUBSCRIPTION_PAYMENT, "subscription.transactions.0.amount", None, "subscription.id"
    ),
}


def normalise(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """A notification read as `MEANINGS` says; a kind it does not list is `other`, with the subject's id."""
    kind_name = fields.token(document, "kind")
    subject = fields.mapping(document, "subject")
    objects = [value for value in subject.values() if isinstance(value, dict)]
    subject_object: Mapping[str, object] = objects[0] if len(objects) == 1 else {}
    event = Transaction(
        provider=provider,
        provider_event_id=fields.token(document, "id"),
        event_type=kind_name,
        occurred_at=fields.iso_timestamp(document, "timestamp"),
        amount=None,
        currency=None,
        status=fields.optional_token(subject_object, "status") if "status" in subject_object else None,
        body_sha256=body_sha256,
        kind=Kind.OTHER,
        object_id=fields.readable_reference(subject_object, "id"),
    )
    meaning = MEANINGS.get(kind_name)
    if meaning is None:
        return event
    path = meaning.amount
    if meaning.fallback is not None and fields.at_path(subject, path) is None:
        path = meaning.fallback
    owner = fields.mapping(subject, path.split(".")[0])
    holder = fields.at_path(subject, path.rpartition(".")[0])
    if not isinstance(holder, Mapping):
        raise RejectionError(Reason.INVALID_EVENT, f"subject.{path} is missing")
    kind, direction = meaning.kind, meaning.direction
    if meaning.moved_when is not None:
        field, value = meaning.moved_when
        direction = direction if owner.get(field) == value else None
    if kind is Kind.PAYMENT and owner.get("type") == "credit":
        # A credit is Braintree's refund: when it settles, the money goes out.
        kind, direction = Kind.REFUND, direction and Direction.OUT
    currency, exponent = money.currency_exponent(
        holder.get("currency_iso_code") or owner.get("currency_iso_code")
    )
    amount = money.from_decimal_text(holder.get(path.rpartition(".")[2]))
    return event.with_meaning(
        kind,
        money.provider_money(amount, currency, exponent, direction),
        fields.reference_text(holder.get("id"), f"subject.{path.rpartition('.')[0]}.id"),
        None if meaning.related is None else fields.reference(subject, meaning.related),
    )
