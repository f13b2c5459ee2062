"""The money meaning of the HMAC-profile providers' events (docs/webhooks.md, "Money model").

Each normaliser reads one event (an item of a batch, or the body; for GitHub and Shopify, whose event
type is a header, `{"type": <header>, "object": <body>}`), and the receiver sets the event id the
verifier found. Field names are from each provider's API reference:

* Standard Webhooks specifies the envelope (`type`, `timestamp`, `data`), not what the payload's money
  means, so its events are kind `other` with no amount: a sender that needs money stored with meaning
  uses the `generic` route, whose schema declares it.
* GitHub sends no payments: kind `other`, no amount.
* Shopify: orders carry `total_price` (a decimal string in the shop's `currency`): kind `checkout`,
  no direction (what the buyer agreed to pay). Money moves on `order_transactions/create`, whose
  `kind` and `status` say how (a successful `sale` or `capture` in, a successful `refund` out).
  A refund (`refunds/create`) is the exact sum of its successful refund transactions, no direction.
* Checkout.com: `data.amount` in minor units of `data.currency`; a capture moves money in, a refund
  out; an approval is an authorisation; disputes carry the disputed amount, with no direction.
* Square: `amount_money` `{amount (minor units), currency}` of the payment or the refund, with no
  direction: each event reports the object's whole state again (its `status` is stored), so money is
  counted on one state per object id (a payment `COMPLETED`, a refund `COMPLETED`).
* GoCardless events carry links to resources, never amounts: kinds and object ids only.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError
from handlers.core.model import Direction, Kind, Money, Transaction


def _unmapped(
    provider: str,
    body_sha256: str,
    event_type: str,
    *,
    occurred_at: str | None = None,
    object_id: str | None = None,
    status: str | None = None,
    kind: Kind = Kind.OTHER,
    related_object_id: str | None = None,
) -> Transaction:
    """An event with no money yet: what a normaliser reads before (or instead of) its mapping."""
    return Transaction(
        provider=provider,
        provider_event_id="",  # set by the receiver from the verified event
        event_type=event_type,
        occurred_at=occurred_at,
        amount=None,
        currency=None,
        status=status,
        body_sha256=body_sha256,
        kind=kind,
        object_id=object_id,
        related_object_id=related_object_id,
    )


def _optional_time(document: Mapping[str, object], key: str) -> str | None:
    return None if document.get(key) is None else fields.iso_timestamp(document, key)


def _type_token(value: object) -> str:
    """A header's event type as a stored token: Shopify's `orders/create` is stored `orders.create`."""
    text = value.replace("/", ".") if isinstance(value, str) else None
    return fields.token({"type": text}, "type")


def standard_webhooks(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """`{"type", "timestamp", "data"}`: kind `other`, the data's `id` when it is a valid id, no money."""
    data = document.get("data")
    return _unmapped(
        provider,
        body_sha256,
        fields.token(document, "type"),
        occurred_at=_optional_time(document, "timestamp"),
        object_id=fields.readable_reference(data, "id") if isinstance(data, Mapping) else None,
    )


def github(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """X-GitHub-Event, with the body's `action` when it has one (`pull_request.opened`): no money."""
    body = fields.mapping(document, "object")
    action = body.get("action")
    event_type = _type_token(document.get("type"))
    if isinstance(action, str):
        event_type = _type_token(f"{event_type}.{action}")
    return _unmapped(provider, body_sha256, event_type)


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one event type's money means."""

    kind: Kind
    direction: Direction | None = None


SHOPIFY_ORDER_TOPICS = frozenset(
    [
        "orders.create",
        "orders.updated",
        "orders.paid",
        "orders.cancelled",
        "orders.fulfilled",
        "orders.partially_fulfilled",
        "orders.edited",
    ]
)
SHOPIFY_TRANSACTION_KINDS = {
    "sale": Meaning(Kind.PAYMENT, Direction.IN),
    "capture": Meaning(Kind.CAPTURE, Direction.IN),
    "authorization": Meaning(Kind.AUTHORIZATION),
    "refund": Meaning(Kind.REFUND, Direction.OUT),
    "void": Meaning(Kind.AUTHORIZATION),
}
"""`order_transactions/create` by the transaction's `kind`; the direction holds when `status` is `success`."""


def shopify(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    item = fields.mapping(document, "object")
    event_type = _type_token(document.get("type"))
    event = _unmapped(
        provider,
        body_sha256,
        event_type,
        occurred_at=_optional_time(item, "created_at"),
        object_id=_readable_id(item),
    )
    if event_type in SHOPIFY_ORDER_TOPICS:
        amount, currency, exponent = _decimal_money(item, "total_price", "currency")
        return event.with_meaning(
            Kind.CHECKOUT, money.provider_money(amount, currency, exponent, None), _id(item, "id"), None
        )
    if event_type == "order_transactions.create":
        transaction_kind = item.get("kind")
        meaning = (
            SHOPIFY_TRANSACTION_KINDS.get(transaction_kind) if isinstance(transaction_kind, str) else None
        )
        if meaning is None:
            raise RejectionError(Reason.INVALID_EVENT, "kind is not a documented transaction kind")
        amount, currency, exponent = _decimal_money(item, "amount", "currency")
        direction = meaning.direction if item.get("status") == "success" else None
        return event.with_meaning(
            meaning.kind,
            money.provider_money(amount, currency, exponent, direction),
            _id(item, "id"),
            _optional_id(item, "order_id"),
        )
    if event_type == "refunds.create":
        return event.with_meaning(
            Kind.REFUND, _shopify_refund(item), _id(item, "id"), _optional_id(item, "order_id")
        )
    return event


def _shopify_refund(refund: Mapping[str, object]) -> Money:
    """The exact sum of the refund's successful refund transactions, all in one currency."""
    transactions = refund.get("transactions")
    if not isinstance(transactions, list):
        raise RejectionError(Reason.INVALID_EVENT, "transactions is missing or not a list")
    amounts: list[Decimal] = []
    currencies: set[tuple[str, int]] = set()
    for transaction in transactions:
        if (
            isinstance(transaction, Mapping)
            and transaction.get("kind") == "refund"
            and transaction.get("status") == "success"
        ):
            amount, currency, exponent = _decimal_money(transaction, "amount", "currency")
            amounts.append(amount)
            currencies.add((currency, exponent))
    if len(currencies) != 1:
        raise RejectionError(Reason.INVALID_EVENT, "the refund's transactions are not in one currency")
    ((currency, exponent),) = currencies
    return money.provider_money(money.exact_sum(amounts), currency, exponent, None)


def _decimal_money(
    item: Mapping[str, object], amount_key: str, currency_key: str
) -> tuple[Decimal, str, int]:
    currency, exponent = money.currency_exponent(item.get(currency_key))
    return money.from_decimal_text(item.get(amount_key)), currency, exponent


def _readable_id(item: Mapping[str, object]) -> str | None:
    try:
        return _optional_id(item, "id")
    except RejectionError:
        return None


def _shopify_id(value: object) -> str | None:
    """Shopify's ids are JSON integers: stored as their decimal text."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value() and value >= 0:
        return str(int(value))
    return fields.reference_text(value, "id")


def _id(item: Mapping[str, object], key: str) -> str:
    value = _shopify_id(item.get(key)) if item.get(key) is not None else None
    if value is None:
        raise RejectionError(Reason.INVALID_EVENT, f"{key} is not an object id")
    return value


def _optional_id(item: Mapping[str, object], key: str) -> str | None:
    return None if item.get(key) is None else _id(item, key)


CHECKOUT_COM: dict[str, Meaning] = {
    "payment_approved": Meaning(Kind.AUTHORIZATION),
    "payment_pending": Meaning(Kind.PAYMENT),
    "payment_declined": Meaning(Kind.PAYMENT),
    "payment_expired": Meaning(Kind.PAYMENT),
    "payment_canceled": Meaning(Kind.PAYMENT),
    "payment_voided": Meaning(Kind.AUTHORIZATION),
    "payment_void_declined": Meaning(Kind.AUTHORIZATION),
    "payment_captured": Meaning(Kind.CAPTURE, Direction.IN),
    "payment_capture_pending": Meaning(Kind.CAPTURE),
    "payment_capture_declined": Meaning(Kind.CAPTURE),
    "payment_refunded": Meaning(Kind.REFUND, Direction.OUT),
    "payment_refund_pending": Meaning(Kind.REFUND),
    "payment_refund_declined": Meaning(Kind.REFUND),
    **dict.fromkeys(
        [
            "dispute_received",
            "dispute_evidence_required",
            "dispute_evidence_submitted",
            "dispute_accepted",
            "dispute_won",
            "dispute_lost",
            "dispute_canceled",
            "dispute_resolved",
            "dispute_expired",
        ],
        Meaning(Kind.DISPUTE),
    ),
}
"""Payment events: object `data.action_id` (the action), related `data.id` (the payment); disputes:
object `data.id` (the dispute), related `data.payment_id`."""


def checkout_com(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """`{"id", "type", "created_on", "data": {"id", "action_id", "amount", "currency", …}}`."""
    event_type = fields.token(document, "type")
    data = fields.mapping(document, "data")
    event = _unmapped(
        provider,
        body_sha256,
        event_type,
        occurred_at=_optional_time(document, "created_on"),
        object_id=fields.readable_reference(data, "id"),
    )
    meaning = CHECKOUT_COM.get(event_type)
    if meaning is None:
        return event
    currency, exponent = money.currency_exponent(data.get("currency"))
    amount = money.from_minor_units(data.get("amount"), exponent)
    if meaning.kind is Kind.DISPUTE:
        object_id, related = (
            fields.reference_text(data.get("id"), "data.id"),
            fields.reference(data, "payment_id"),
        )
    else:
        related = fields.reference_text(data.get("id"), "data.id")
        object_id = fields.reference(data, "action_id") or related
    return event.with_meaning(
        meaning.kind, money.provider_money(amount, currency, exponent, meaning.direction), object_id, related
    )


SQUARE: dict[str, tuple[Kind, str, str | None]] = {
    "payment.created": (Kind.PAYMENT, "payment", None),
    "payment.updated": (Kind.PAYMENT, "payment", None),
    "refund.created": (Kind.REFUND, "refund", "payment_id"),
    "refund.updated": (Kind.REFUND, "refund", "payment_id"),
}
"""Event type: (kind, the object under `data.object`, the field naming the object it belongs to)."""


def square(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """`{"type", "event_id", "created_at", "data": {"type", "id", "object": {<type>: {…}}}}`."""
    event_type = fields.token(document, "type")
    data = fields.mapping(document, "data")
    event = _unmapped(
        provider,
        body_sha256,
        event_type,
        occurred_at=_optional_time(document, "created_at"),
        object_id=fields.readable_reference(data, "id"),
    )
    mapped = SQUARE.get(event_type)
    if mapped is None:
        return event
    kind, name, related = mapped
    item = fields.mapping(fields.mapping(data, "object"), name)
    money_object = fields.mapping(item, "amount_money")
    currency, exponent = money.currency_exponent(money_object.get("currency"))
    amount = money.from_minor_units(money_object.get("amount"), exponent)
    transaction = event.with_meaning(
        kind,
        money.provider_money(amount, currency, exponent, None),
        fields.reference_text(item.get("id"), f"data.object.{name}.id"),
        None if related is None else fields.reference(item, related),
    )
    return replace(transaction, status=fields.optional_token(item, "status"))


GOCARDLESS_KINDS = {"payments": Kind.PAYMENT, "refunds": Kind.REFUND, "payouts": Kind.PAYOUT}
"""Resource types whose events are about money (without its amount); the others are kind `other`."""
GOCARDLESS_RELATED = {"payments": "subscription", "refunds": "payment"}


def gocardless(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """One event of a batch: `{"id", "created_at", "resource_type", "action", "links": {…}}`, no amount."""
    resource_type = fields.token(document, "resource_type")
    action = fields.token(document, "action")
    links = fields.mapping(document, "links")
    singular = resource_type.removesuffix("s")
    related = GOCARDLESS_RELATED.get(resource_type)
    return _unmapped(
        provider,
        body_sha256,
        f"{resource_type}.{action}",
        occurred_at=fields.iso_timestamp(document, "created_at"),
        status=action,
        kind=GOCARDLESS_KINDS.get(resource_type, Kind.OTHER),
        object_id=fields.reference(links, singular),
        related_object_id=None if related is None else fields.reference(links, related),
    )


MoneyRow = tuple[str, Kind, Direction | None]
"""(amount field, kind, direction) of one event type, as docs/webhooks.md's money table writes it."""


def money_tables() -> dict[str, dict[tuple[str, str], MoneyRow]]:
    """Per provider, (event type, qualifier) -> its row: the tables the normalisers read, in the form
    of docs/webhooks.md's "Money model" table (a test keeps the two equal)."""
    return {
        "checkout-com": {
            (event_type, ""): ("data.amount", meaning.kind, meaning.direction)
            for event_type, meaning in CHECKOUT_COM.items()
        },
        "square": {
            (event_type, ""): (f"data.object.{name}.amount_money", kind, None)
            for event_type, (kind, name, _) in SQUARE.items()
        },
        "shopify": {
            **{(topic, ""): ("total_price", Kind.CHECKOUT, None) for topic in SHOPIFY_ORDER_TOPICS},
            **{
                ("order_transactions.create", f"kind {kind}"): ("amount", meaning.kind, meaning.direction)
                for kind, meaning in SHOPIFY_TRANSACTION_KINDS.items()
            },
            ("refunds.create", ""): ("transactions[].amount", Kind.REFUND, None),
        },
        "gocardless": {
            (f"{resource_type}.<action>", ""): ("—", kind, None)
            for resource_type, kind in GOCARDLESS_KINDS.items()
        },
    }
