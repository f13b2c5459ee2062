"""Each provider object's current state, and whether an event arrived too late to change it.

Providers deliver out of order, so the processor keeps one state record per provider object (the
objects table): the latest applied event. This module decides, purely, which of two events is the
later one; the adapter's write is conditional on the state being the one the decision read, so two
processors racing on one object cannot both replace it, and a retry re-reads and decides again.

An event's position is its `occurred_at`, then, within one timestamp (Stripe's `created` is whole
seconds), the rank of its event type in its provider's lifecycle (`handlers.core.lifecycles`),
then, for a cumulative amount (`refund_total`), the amount, which only grows. Events no rule orders
are an undecidable tie: the applied state stays and the late one is recorded `order_uncertain`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from handlers.core.lifecycles import LIFECYCLES, Stage
from handlers.core.model import Item, Kind, Transaction

MAX_CONTENDED_WRITES = 3
"""Conditional writes lost to other processors before giving up (the invocation fails and is retried)."""
STATE_KEY = "object_key"
"""The objects table's only key: `<provider>#<object id>`."""
STATE_ATTRIBUTES = (
    "provider",
    "transaction_id",
    "provider_event_id",
    "event_type",
    "occurred_at",
    "status",
    "kind",
    "amount",
    "currency",
    "direction",
)
"""What the state record keeps of the applied event (docs/webhooks.md, "Ordering")."""
TRUE = "true"
FALSE = "false"


class Verdict(StrEnum):
    APPLIED = "applied"
    """The event is the object's state: the first, a later one, or (a retry) the one already applied."""
    STALE = "stale"
    """A later event is the object's state."""
    UNCERTAIN = "order_uncertain"
    """Same position as the applied event, and no rule orders the two: the applied one stays."""


@dataclass(frozen=True, slots=True)
class Ordering:
    """The verdict on one event, and the applied event it lost or tied to (its `transaction_id`)."""

    verdict: Verdict
    applied: str | None = None

    def attributes(self) -> Item:
        """What the stored item records of it: `stale` always, and whom it lost or tied to."""
        attributes: Item = {"stale": TRUE if self.verdict is Verdict.STALE else FALSE}
        if self.verdict is Verdict.STALE and self.applied is not None:
            attributes["superseded_by"] = self.applied
        if self.verdict is Verdict.UNCERTAIN and self.applied is not None:
            attributes |= {"order_uncertain": TRUE, "tied_with": self.applied}
        return attributes


NOT_ORDERED = Ordering(Verdict.APPLIED)
"""An event about no object, or with no occurrence time (quarantined): nothing to be late against."""


class ObjectStates(Protocol):
    def get(self, object_key: str) -> Item | None:
        """The object's state record (strongly consistent read), or None."""
        ...

    def put_if_unchanged(self, state: Item, applied_transaction_id: str | None) -> bool:
        """Write `state` if the record still holds `applied_transaction_id` (None: no record yet);
        True when this call wrote it."""
        ...


def _stage(attributes: Mapping[str, str | Decimal]) -> Stage | None:
    """The lifecycle stage of the event whose attributes these are; None when its type has none."""
    return LIFECYCLES.get(str(attributes["provider"]), {}).get(str(attributes.get("event_type", "")))


def object_key(transaction: Transaction) -> str | None:
    """The object whose state this event advances: its own, or the one its lifecycle stage names
    (a Stripe charge's refunds advance its PaymentIntent); None when it has no state to advance."""
    if transaction.occurred_at is None or transaction.quarantine_reason is not None:
        return None
    return stored_object_key(transaction.attributes())


def stored_object_key(attributes: Mapping[str, str | Decimal]) -> str | None:
    """`object_key` of a stored item (or a transaction's attributes) that has a time to be ordered by."""
    stage = _stage(attributes)
    subject = attributes.get("object_id")
    if stage is not None and stage.advances_related and "related_object_id" in attributes:
        subject = attributes["related_object_id"]
    return None if subject is None else f"{attributes['provider']}#{subject}"


@dataclass(frozen=True, slots=True)
class Position:
    """Where an event stands in its object's history, as far as its provider tells."""

    at: datetime
    rank: int | None
    progress: Decimal | None

    @classmethod
    def of(cls, attributes: Mapping[str, str | Decimal]) -> "Position":
        """The position of a stored item or state record (both carry the event's attributes)."""
        stage = _stage(attributes)
        amount = attributes.get("amount")
        cumulative = attributes.get("kind") == Kind.REFUND_TOTAL
        return cls(
            at=datetime.fromisoformat(str(attributes["occurred_at"])),
            rank=None if stage is None else stage.rank,
            progress=amount if cumulative and isinstance(amount, Decimal) else None,
        )

    def compare(self, other: "Position") -> int | None:
        """1 if this is later, -1 if earlier, None if no rule orders the two."""
        if self.at != other.at:
            return 1 if self.at > other.at else -1
        if self.rank is not None and other.rank is not None and self.rank != other.rank:
            return 1 if self.rank > other.rank else -1
        if self.progress is not None and other.progress is not None and self.progress != other.progress:
            return 1 if self.progress > other.progress else -1
        return None


def state_record(transaction: Transaction, key: str, now: str) -> Item:
    """The objects table's record of `transaction` applied to the object at `key`."""
    attributes = transaction.attributes()
    kept: Item = {name: attributes[name] for name in STATE_ATTRIBUTES if name in attributes}
    return {STATE_KEY: key, "object_id": key.partition("#")[2], **kept, "applied_at": now}


def decide(transaction: Transaction, state: Item | None) -> Ordering:
    """The verdict on `transaction` against the object's state record (None: no record yet)."""
    if state is None or state["transaction_id"] == transaction.transaction_id:
        return Ordering(Verdict.APPLIED)
    applied = str(state["transaction_id"])
    order = Position.of(transaction.attributes()).compare(Position.of(state))
    if order is None:
        return Ordering(Verdict.UNCERTAIN, applied)
    return Ordering(Verdict.APPLIED) if order > 0 else Ordering(Verdict.STALE, applied)


def apply(transaction: Transaction, states: ObjectStates, now: str) -> Ordering:
    """Decide on `transaction` against its object's state and, when it is later, make it the state.

    A write lost to another processor means the state moved: read it again and decide again.
    """
    key = object_key(transaction)
    if key is None:
        return NOT_ORDERED
    for _ in range(MAX_CONTENDED_WRITES):
        state = states.get(key)
        ordering = decide(transaction, state)
        already_applied = state is not None and state["transaction_id"] == transaction.transaction_id
        if ordering.verdict is not Verdict.APPLIED or already_applied:
            return ordering
        applied = None if state is None else str(state["transaction_id"])
        if states.put_if_unchanged(state_record(transaction, key, now), applied):
            return ordering
    raise RuntimeError(f"the state of {key} kept changing: {MAX_CONTENDED_WRITES} conditional writes lost")
