"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 over `"{t}.{raw body}"`.

Only scheme v1 counts. Any v1 entry may match any configured signing secret, so both sides can
roll secrets. Unlike the official library, timestamps too far in the future are refused as well.
Amounts are integers in the currency's minor unit.
"""

import hashlib
import hmac
from collections.abc import Mapping

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.model import Transaction
from handlers.core.secrets import VerificationMaterial
from handlers.providers import TOLERANCE_SECONDS

MAX_HEADER_LENGTH = 2048
"""Bounds the HMAC work an unauthenticated request can cause (a few secrets x a few entries)."""

# Stripe's documented exceptions to ISO 4217: ISK and UGX are sent as two-decimal amounts for
# backwards compatibility, MGA as zero-decimal.
_STRIPE_EXPONENTS = {"ISK": 2, "UGX": 2, "MGA": 0}


def signature(body: bytes, secret: str, timestamp: int) -> str:
    """The v1 signature for `body` at `timestamp` (hex)."""
    return hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """A `Stripe-Signature` header value, as Stripe sends it (used by tests and local sends)."""
    return f"t={timestamp},v1={signature(body, secret, timestamp)}"


def _parse_header(header: str | None) -> tuple[int, list[str]]:
    if header is None or len(header) > MAX_HEADER_LENGTH:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    timestamps: set[str] = set()
    candidates: list[str] = []
    for item in header.split(","):
        scheme, _, value = item.partition("=")
        if scheme == "t":
            timestamps.add(value)
        elif scheme == "v1":
            candidates.append(value)
    if len(timestamps) != 1 or not candidates:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    (timestamp,) = timestamps
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise RejectionError(Reason.SIGNATURE_MISSING)
    return int(timestamp), candidates


def verify(headers: Headers, body: bytes, material: VerificationMaterial, now: float) -> None:
    if not material.stripe_signing_secrets:
        raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
    timestamp, candidates = _parse_header(headers.get("stripe-signature"))
    expected = [signature(body, secret, timestamp) for secret in material.stripe_signing_secrets]
    # Every pair is compared so that the time taken does not depend on which one matched.
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    if not matched:
        raise RejectionError(Reason.SIGNATURE_INVALID)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise RejectionError(Reason.SIGNATURE_EXPIRED)


def normalise(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """An event: `{"id", "type", "created", "data": {"object": {"amount", "currency", "status"}}}`."""
    item = fields.mapping(fields.mapping(document, "data"), "object")
    amount = currency = None
    if item.get("amount") is not None:
        currency, exponent = money.currency_exponent(item.get("currency"))
        amount = money.from_minor_units(item["amount"], _STRIPE_EXPONENTS.get(currency, exponent))
    return Transaction(
        provider=provider,
        provider_event_id=fields.token(document, "id"),
        event_type=fields.token(document, "type"),
        occurred_at=fields.unix_seconds(document, "created"),
        amount=amount,
        currency=currency,
        status=fields.optional_token(item, "status"),
        body_sha256=body_sha256,
    )
