"""The normalised transaction and the payloads the three functions pass each other.

Lambda serialises every event and return value with plain JSON and hands functions `float`s for
JSON numbers, so amounts cross function boundaries as exact decimal strings, never as numbers.
"""

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

Item = dict[str, str | Decimal]
"""A DynamoDB item as the core sees it: strings, and Decimal for the amount and the schema version."""

SCHEMA_VERSION = 4
"""Version of the stored item's and the published message's schema (docs/webhooks.md, "Money model").

4 added `ingested_via` (`webhook`, or `reconcile` for an event the reconciler recovered from the
provider's event log) and, on reconciled events, `provenance` (the API call it was listed by): both
optional in the hand-off, so one of versions 2 and 3 (from a receiver deployed before) is stored as a
version 4 item ingested via `webhook`, the only way it could have come.
2 added `kind`, `direction`, `object_id` and `related_object_id`, the currency's decimal places as
every route's limit and, on provider routes, amounts as magnitudes. 3 added the processor's ordering
verdict (`stale`, `superseded_by`, `order_uncertain`, `tied_with`; handlers.core.ordering): the
hand-off itself is unchanged, so one of version 2 is stored as a version 3 item. A hand-off of version
1 (from a receiver deployed before) is still stored, as the version 1 item it is, so that nothing in
flight or dead-lettered is lost.
"""
SCHEMA_VERSIONS = (1, 2, 3, SCHEMA_VERSION)


class Kind(StrEnum):
    """What an amount means; docs/webhooks.md, "Money model", maps every supported event type to one."""

    PAYMENT = "payment"
    CAPTURE = "capture"
    AUTHORIZATION = "authorization"
    REFUND = "refund"
    REFUND_TOTAL = "refund_total"
    """A charge's refunds to date: Stripe's `amount_refunded`, cumulative over partial refunds, so it
    moves nothing itself (no direction): each refund moves its own amount on its `refund` event."""
    REVERSAL = "reversal"
    DISPUTE = "dispute"
    PAYOUT = "payout"
    CHECKOUT = "checkout"
    INVOICE = "invoice"
    SUBSCRIPTION_PAYMENT = "subscription_payment"
    OTHER = "other"
    """No mapping: providers' events of this kind carry no amount; a generic sender's is its own."""


class IngestedVia(StrEnum):
    """How an event came in: delivered to the API and verified, or listed from the provider's event
    log over TLS with the stack's own read-only key (no signature: the provider answered it)."""

    WEBHOOK = "webhook"
    RECONCILE = "reconcile"


class Direction(StrEnum):
    """Which way the amount moved the merchant's balance at the provider, when this event moved it."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount as stored, its currency, and which way the event moved it, if it did."""

    amount: Decimal
    currency: str
    direction: Direction | None


@dataclass(frozen=True, slots=True)
class Transaction:
    """One provider event in the shape every provider is normalised to.

    `kind` says what the amount means, `direction` whether this event moved it in or out (absent
    when it moved nothing), `object_id` is the provider object the event is about and
    `related_object_id` the one it belongs to (a refund's payment, a capture's authorization).

    A quarantined transaction is a verified delivery whose content could not be normalised: it
    keeps what could be read safely (the event id, else `sha256:<body hash>`; the type if it is a
    valid token), no money and no meaning, and the refusal's code and fixed detail. It is stored and
    archived like any other and never published as a payment event.
    """

    provider: str
    provider_event_id: str
    event_type: str | None
    occurred_at: str | None
    amount: Decimal | None
    currency: str | None
    status: str | None
    body_sha256: str
    kind: Kind | None = None
    direction: Direction | None = None
    object_id: str | None = None
    related_object_id: str | None = None
    quarantine_reason: str | None = None
    quarantine_detail: str | None = None
    ingested_via: IngestedVia | None = None
    """None in hand-offs before version 4 (all of them webhooks: the processor stores `webhook`)."""
    provenance: str | None = None
    """A reconciled event's API call: `<provider> GET <endpoint> request <request id>`."""
    simulated: bool = False
    """Accepted from PayPal's webhook simulator on a developer stack that opted in (stored and published
    as `simulated: "true"`; absent otherwise): anyone can send such events, so they are never money."""

    def with_meaning(
        self, kind: Kind, money: Money | None, object_id: str, related_object_id: str | None
    ) -> "Transaction":
        """This event read through its provider's mapping (docs/webhooks.md, "Money model")."""
        return replace(
            self,
            kind=kind,
            amount=None if money is None else money.amount,
            currency=None if money is None else money.currency,
            direction=None if money is None else money.direction,
            object_id=object_id,
            related_object_id=related_object_id,
        )

    @property
    def transaction_id(self) -> str:
        """The table's hash key: the provider's event id is the idempotency key."""
        return f"{self.provider}#{self.provider_event_id}"

    def attributes(self) -> Item:
        """The stored attributes; optional ones are absent rather than null."""
        values: dict[str, str | Decimal | None] = {
            "transaction_id": self.transaction_id,
            "provider": self.provider,
            "provider_event_id": self.provider_event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "kind": self.kind,
            "direction": self.direction,
            "amount": self.amount,
            "currency": self.currency,
            "object_id": self.object_id,
            "related_object_id": self.related_object_id,
            "status": self.status,
            "body_sha256": self.body_sha256,
            "quarantine_reason": self.quarantine_reason,
            "quarantine_detail": self.quarantine_detail,
            "ingested_via": self.ingested_via,
            "provenance": self.provenance,
            "simulated": "true" if self.simulated else None,
        }
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> "Transaction":
        """Read back `json_safe(transaction.attributes())`; raise ValueError on anything else."""
        amount = _optional_str(data, "amount")
        kind = _optional_str(data, "kind")
        direction = _optional_str(data, "direction")
        ingested_via = _optional_str(data, "ingested_via")
        try:
            exact = None if amount is None else Decimal(amount)
        except InvalidOperation:
            raise ValueError("amount is not a decimal string") from None
        return cls(
            provider=_str(data, "provider"),
            provider_event_id=_str(data, "provider_event_id"),
            event_type=_optional_str(data, "event_type"),
            occurred_at=_optional_str(data, "occurred_at"),
            amount=exact,
            currency=_optional_str(data, "currency"),
            status=_optional_str(data, "status"),
            body_sha256=_str(data, "body_sha256"),
            kind=None if kind is None else Kind(kind),
            direction=None if direction is None else Direction(direction),
            object_id=_optional_str(data, "object_id"),
            related_object_id=_optional_str(data, "related_object_id"),
            quarantine_reason=_optional_str(data, "quarantine_reason"),
            quarantine_detail=_optional_str(data, "quarantine_detail"),
            ingested_via=None if ingested_via is None else IngestedVia(ingested_via),
            provenance=_optional_str(data, "provenance"),
            simulated=_optional_str(data, "simulated") == "true",
        )


def json_safe(item: Mapping[str, str | Decimal]) -> dict[str, str]:
    """Decimals as their exact strings (`str(Decimal)` never rounds), so `json.dumps` works."""
    return {key: str(value) for key, value in item.items()}


@dataclass(frozen=True, slots=True)
class HandOff:
    """The asynchronous invoke payload from receiver to processor.

    The raw body travels base64-encoded: its size is then a fixed 4/3 of the body, whatever
    characters it holds, which keeps the payload under Lambda's async limit (see receiving.py).
    `version` is the schema version of the transaction it carries.
    """

    transaction: Transaction
    body: bytes
    received_at: str
    correlation_id: str
    version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "correlation_id": self.correlation_id,
            "received_at": self.received_at,
            "transaction": json_safe(self.transaction.attributes()),
            "body_base64": base64.b64encode(self.body).decode("ascii"),
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, object]) -> "HandOff":
        """Parse and check a payload; raise ValueError if the receiver did not produce it."""
        version = payload.get("version")
        if not isinstance(version, int) or version not in SCHEMA_VERSIONS:
            raise ValueError("unsupported hand-off version")
        transaction = payload.get("transaction")
        if not isinstance(transaction, dict):
            raise ValueError("transaction is missing")
        try:
            body = base64.b64decode(_str(payload, "body_base64"), validate=True)
        except binascii.Error:
            raise ValueError("body_base64 is not base64") from None
        handoff = cls(
            transaction=Transaction.from_json(transaction),
            body=body,
            received_at=_str(payload, "received_at"),
            correlation_id=_str(payload, "correlation_id"),
            version=version,
        )
        if hashlib.sha256(body).hexdigest() != handoff.transaction.body_sha256:
            raise ValueError("body does not match body_sha256")
        return handoff


SUCCESS = "Success"
"""The `requestContext.condition` of Lambda's on-success destination record."""


@dataclass(frozen=True, slots=True)
class Processed:
    """The processor's result, which Lambda hands the notifier as the `responsePayload` of the
    processor's on-success destination record.

    `transaction` is the stored item in its JSON-safe form (`json_safe`): the one this delivery
    wrote, or, for a `duplicate`, the one already there.
    """

    transaction: Mapping[str, str]
    duplicate: bool

    @property
    def transaction_id(self) -> str:
        return self.transaction["transaction_id"]

    @property
    def quarantined(self) -> bool:
        return "quarantine_reason" in self.transaction

    def to_json(self) -> dict[str, object]:
        return {"duplicate": self.duplicate, "transaction": dict(self.transaction)}

    @classmethod
    def from_json(cls, payload: Mapping[str, object]) -> "Processed":
        """Parse and check a result; raise ValueError if the processor did not produce it."""
        duplicate = payload.get("duplicate")
        transaction = payload.get("transaction")
        if not isinstance(duplicate, bool):
            raise ValueError("duplicate must be a boolean")
        if not isinstance(transaction, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in transaction.items()
        ):
            raise ValueError("transaction must be an object of strings")
        if "transaction_id" not in transaction:
            raise ValueError("transaction has no transaction_id")
        return cls(dict(transaction), duplicate)

    @classmethod
    def from_destination_record(cls, record: Mapping[str, object]) -> "Processed":
        """The result inside the processor's on-success destination record (the notifier's event)."""
        context = record.get("requestContext")
        response = record.get("responsePayload")
        if not isinstance(context, dict) or context.get("condition") != SUCCESS:
            raise ValueError("not an on-success destination record")
        if not isinstance(response, dict):
            raise ValueError("the destination record carries no processor result")
        return cls.from_json(response)


def _str(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _optional_str(data: Mapping[str, object], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)
