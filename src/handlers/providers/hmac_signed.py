"""`generic` webhooks and internal `POST /transactions`: HMAC-SHA256 with the internal key.

Headers:
    X-Tap-Timestamp: <unix seconds>
    X-Tap-Signature: v1=<hex HMAC-SHA256 of f"{timestamp}.{raw body}">
The key is the UTF-8 text of `internal_hmac_key` (or one of `internal_hmac_previous_keys` during
rotation); the timestamp must be within 300 s of the receiver's clock, either way.

Body schema (a JSON object):
    id           required  token [A-Za-z0-9][A-Za-z0-9._:-]{0,127}, unique per event: the idempotency key
    type         required  token, e.g. "payment.succeeded"
    occurred_at  required  ISO 8601 with a UTC offset, e.g. "2026-11-23T10:00:00Z"
    amount       optional  major units, a JSON number or a decimal string ("12.34"), with no non-zero
                           digit beyond the currency's ISO 4217 decimal places (the rule of every
                           route); stored exactly, signed as sent unless `direction` is given; null
                           or absent for events without an amount
    currency     required with amount: ISO 4217 code
    status       optional  token
    kind         optional  what the amount means, one of model.Kind's values; `other` when absent
    direction    optional  with an amount: "in" or "out"; the amount is then stored as a magnitude,
                           and a negative one is accepted with "out" only
    object_id, related_object_id
                 optional  the sender's ids of the object and of the object it belongs to
"""

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.model import Direction, Kind, Transaction
from handlers.core.secrets import VerificationMaterial
from handlers.providers import TOLERANCE_SECONDS

TIMESTAMP_HEADER = "X-Tap-Timestamp"
SIGNATURE_HEADER = "X-Tap-Signature"


def signature(body: bytes, key: str, timestamp: int) -> str:
    return hmac.new(key.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def sign(body: bytes, key: str, timestamp: int) -> dict[str, str]:
    """The two signature headers for `body` (used by internal clients, tests and local sends)."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"v1={signature(body, key, timestamp)}"}


def verify(headers: Headers, body: bytes, material: VerificationMaterial, now: float) -> None:
    if not material.internal_hmac_keys:
        raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
    timestamp = headers.get(TIMESTAMP_HEADER)
    scheme, _, candidate = (headers.get(SIGNATURE_HEADER) or "").partition("=")
    if not (timestamp and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise RejectionError(Reason.SIGNATURE_MISSING)
    if scheme != "v1" or not candidate:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    matched = False
    for key in material.internal_hmac_keys:
        matched |= hmac.compare_digest(candidate.encode(), signature(body, key, int(timestamp)).encode())
    if not matched:
        raise RejectionError(Reason.SIGNATURE_INVALID)
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise RejectionError(Reason.SIGNATURE_EXPIRED)


def normalise(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    value = document.get("amount")
    direction = fields.choice(document, "direction", Direction)
    amount = currency = None
    if value is not None:
        currency, exponent = money.currency_exponent(document.get("currency"))
        amount = money.storable(value) if isinstance(value, Decimal) else money.from_decimal_text(value)
        amount = money.within_currency_places(
            amount if direction is None else money.magnitude(amount, direction), exponent
        )
    elif direction is not None:
        raise RejectionError(Reason.INVALID_EVENT, "direction is given without an amount")
    return Transaction(
        provider=provider,
        provider_event_id=fields.token(document, "id"),
        event_type=fields.token(document, "type"),
        occurred_at=fields.iso_timestamp(document, "occurred_at"),
        amount=amount,
        currency=currency,
        status=fields.optional_token(document, "status"),
        body_sha256=body_sha256,
        kind=fields.choice(document, "kind", Kind) or Kind.OTHER,
        direction=direction,
        object_id=fields.reference(document, "object_id"),
        related_object_id=fields.reference(document, "related_object_id"),
    )
