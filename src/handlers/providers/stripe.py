"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 over `"{t}.{raw body}"`.

Only scheme v1 counts. Any v1 entry may match any configured signing secret, so both sides can
roll secrets. Unlike the official library, timestamps too far in the future are refused as well.

Amounts are integers in the currency's minor unit; which field of `data.object` holds the money of
an event type, and what it means, is `MEANINGS` (field names from Stripe's API reference for each
object). Directions follow the balance: a refund or a payout takes money out when it is created
(its balance transaction), and a failed one returns it.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.model import Direction, Kind, Money, Transaction
from handlers.core.secrets import VerificationMaterial
from handlers.providers import TOLERANCE_SECONDS

API_VERSION = "2025-03-31.basil"
"""The Stripe API version `tapstack register` creates the endpoint with, so its events are rendered in it:
the newest whose changes to the fields `MEANINGS` reads are handled here (invoices' subscription moved
under `parent` in it). Stripe cannot change an existing endpoint's version: a new one takes `--rotate`."""
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


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one event type's `data.object` money means (docs/webhooks.md, "Money model")."""

    kind: Kind
    amount: str
    """The field of `data.object` holding the amount, an integer of minor units."""
    direction: Direction | None = None
    """Which way this event moved the amount in the balance; None when it moved nothing."""
    related: tuple[str, ...] = ()
    """Fields that may name the object this one belongs to; the first one present is stored."""
    nullable: bool = False
    """The API reference documents `amount` as nullable: null means the event carries no money."""
    moved_when: tuple[str, str] | None = None
    """`direction` holds only when this field has this value (a Checkout Session that is paid)."""


# Refunds and disputes belong to the PaymentIntent they refund or dispute, and to the Charge for
# charges made without one: a PaymentIntent is what the payment events name, so reconciliation
# joins on it.
_PAYMENT = ("payment_intent", "charge")
_CHARGE_PAYMENT = ("payment_intent",)
# Subscription invoices name their subscription at `subscription` in API versions before
# 2025-03-31.basil, and at `parent.subscription_details.subscription` from it.
_INVOICE_PARENT = ("subscription", "parent.subscription_details.subscription")
_SESSION_PARENT = ("payment_intent", "subscription", "invoice")


def _every(types: str, meaning: Meaning) -> dict[str, Meaning]:
    return dict.fromkeys(types.split(), meaning)


MEANINGS: dict[str, Meaning] = {
    # PaymentIntent: `amount` is what it intends to collect, `amount_received` what it collected.
    "payment_intent.succeeded": Meaning(Kind.PAYMENT, "amount_received", Direction.IN),
    "payment_intent.amount_capturable_updated": Meaning(Kind.AUTHORIZATION, "amount_capturable"),
    **_every(
        "payment_intent.created payment_intent.processing payment_intent.requires_action "
        "payment_intent.payment_failed payment_intent.canceled",
        Meaning(Kind.PAYMENT, "amount"),
    ),
    # Charge: `amount_captured` is 0 until an authorised charge is captured, so a charge that
    # succeeds uncaptured and is captured later adds up to what was captured.
    "charge.succeeded": Meaning(Kind.PAYMENT, "amount_captured", Direction.IN, _CHARGE_PAYMENT),
    "charge.captured": Meaning(Kind.CAPTURE, "amount_captured", Direction.IN, _CHARGE_PAYMENT),
    # `amount_refunded` is the charge's refunds to date, reported again on every refund: it moves nothing
    # itself (each refund moves its own amount out on `refund.created`), so summing `out` counts each once.
    "charge.refunded": Meaning(Kind.REFUND_TOTAL, "amount_refunded", None, _CHARGE_PAYMENT),
    "charge.expired": Meaning(Kind.AUTHORIZATION, "amount", None, _CHARGE_PAYMENT),
    **_every(
        "charge.pending charge.failed charge.updated", Meaning(Kind.PAYMENT, "amount", None, _CHARGE_PAYMENT)
    ),
    # Refund: its balance transaction takes the amount out when it is created; a failed refund's
    # reverses it.
    "refund.created": Meaning(Kind.REFUND, "amount", Direction.OUT, _PAYMENT),
    "refund.failed": Meaning(Kind.REFUND, "amount", Direction.IN, _PAYMENT),
    **_every("refund.updated charge.refund.updated", Meaning(Kind.REFUND, "amount", None, _PAYMENT)),
    # Checkout Session: `amount_total` is null for sessions in setup mode.
    **_every(
        "checkout.session.completed checkout.session.async_payment_succeeded "
        "checkout.session.async_payment_failed checkout.session.expired",
        Meaning(
            Kind.CHECKOUT,
            "amount_total",
            Direction.IN,
            _SESSION_PARENT,
            nullable=True,
            moved_when=("payment_status", "paid"),
        ),
    ),
    # Invoice: `amount_paid` once paid (out-of-band payments included), `amount_due` before.
    **_every(
        "invoice.paid invoice.payment_succeeded",
        Meaning(Kind.INVOICE, "amount_paid", Direction.IN, _INVOICE_PARENT),
    ),
    **_every(
        "invoice.created invoice.finalized invoice.updated invoice.payment_failed "
        "invoice.payment_action_required invoice.marked_uncollectible invoice.voided",
        Meaning(Kind.INVOICE, "amount_due", None, _INVOICE_PARENT),
    ),
    # Dispute: the disputed amount; the funds move on the two funds events only.
    "charge.dispute.funds_withdrawn": Meaning(Kind.DISPUTE, "amount", Direction.OUT, _PAYMENT),
    "charge.dispute.funds_reinstated": Meaning(Kind.DISPUTE, "amount", Direction.IN, _PAYMENT),
    **_every(
        "charge.dispute.created charge.dispute.updated charge.dispute.closed",
        Meaning(Kind.DISPUTE, "amount", None, _PAYMENT),
    ),
    # Payout: its balance transaction takes the amount out when it is created; a failed or canceled
    # payout's `failure_balance_transaction` returns it.
    "payout.created": Meaning(Kind.PAYOUT, "amount", Direction.OUT),
    **_every("payout.failed payout.canceled", Meaning(Kind.PAYOUT, "amount", Direction.IN)),
    **_every("payout.updated payout.paid", Meaning(Kind.PAYOUT, "amount")),
}


def normalise(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """An event `{"id", "type", "created", "data": {"object": {...}}}`, read as `MEANINGS` says;
    a type it does not list is kind `other`, with the object's id and no money."""
    item = fields.mapping(fields.mapping(document, "data"), "object")
    event_type = fields.token(document, "type")
    event = Transaction(
        provider=provider,
        provider_event_id=fields.token(document, "id"),
        event_type=event_type,
        occurred_at=fields.unix_seconds(document, "created"),
        amount=None,
        currency=None,
        status=fields.optional_token(item, "status"),
        body_sha256=body_sha256,
        kind=Kind.OTHER,
        object_id=fields.readable_reference(item, "id"),
    )
    meaning = MEANINGS.get(event_type)
    if meaning is None:
        return event
    return event.with_meaning(
        meaning.kind,
        _money(item, meaning),
        fields.reference_text(item.get("id"), "data.object.id"),
        fields.first_present(fields.reference(item, path) for path in meaning.related),
    )


def _money(item: Mapping[str, object], meaning: Meaning) -> Money | None:
    """The amount and which way it moved; None when a nullable amount is null."""
    minor = item.get(meaning.amount)
    if minor is None:
        if meaning.nullable:
            return None
        raise RejectionError(Reason.INVALID_EVENT, f"data.object.{meaning.amount} is missing")
    currency, exponent = money.currency_exponent(item.get("currency"))
    direction = meaning.direction
    if meaning.moved_when is not None:
        field, value = meaning.moved_when
        direction = direction if item.get(field) == value else None
    amount = money.from_minor_units(minor, _STRIPE_EXPONENTS.get(currency, exponent))
    return money.provider_money(amount, currency, exponent, direction)
