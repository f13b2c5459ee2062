"""One payment's events as the providers send them, for the ordering tests: a Stripe PaymentIntent
(created -> requires_action -> succeeded -> partially refunded -> refunded) and a PayPal order, its
capture and the capture's refund. Several share a second, as they do at Stripe."""

import json
from dataclasses import dataclass
from typing import Any

from handlers.core.model import HandOff, Transaction
from handlers.core.receiving import normalise_body


@dataclass(frozen=True)
class LifecycleEvent:
    """A verified delivery, and the position in its object's lifecycle it was generated at."""

    body: bytes
    transaction: Transaction
    state_object: str
    """The `object_key` whose state it advances."""
    order: int
    """Its place in the object's true history: a higher one happened later."""

    def handoff(self) -> HandOff:
        return HandOff(self.transaction, self.body, "2026-11-23T10:10:00.000Z", f"corr-{self.order}")


def _event(provider: str, document: dict[str, Any], state_object: str, order: int) -> LifecycleEvent:
    body = json.dumps(document).encode()
    transaction = normalise_body(provider, body)
    assert transaction.quarantine_reason is None, transaction
    return LifecycleEvent(body, transaction, state_object, order)


def _stripe(event_id: str, event_type: str, created: int, data_object: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "created": created, "data": {"object": data_object}}


T0 = 1795428000  # 2026-11-23T10:00:00Z


def stripe_payment(tag: str = "1") -> list[LifecycleEvent]:
    """Created and requires_action in one second, succeeded the next, two refunds in one second;
    `tag` makes the ids (`pi_<tag>`, `evt_<name>_<tag>`) unique where tests share a table."""
    payment_intent = {"id": f"pi_{tag}", "object": "payment_intent", "amount": 2000, "currency": "usd"}
    charge = {
        "id": f"ch_{tag}",
        "object": "charge",
        "amount": 2000,
        "amount_captured": 2000,
        "currency": "usd",
        "payment_intent": f"pi_{tag}",
    }
    documents = [
        ("evt_created", "payment_intent.created", T0, payment_intent | {"status": "requires_payment_method"}),
        ("evt_action", "payment_intent.requires_action", T0, payment_intent | {"status": "requires_action"}),
        (
            "evt_succeeded",
            "payment_intent.succeeded",
            T0 + 1,
            payment_intent | {"status": "succeeded", "amount_received": 2000},
        ),
        (
            "evt_refund_part",
            "charge.refunded",
            T0 + 60,
            charge | {"status": "succeeded", "amount_refunded": 500},
        ),
        (
            "evt_refund_full",
            "charge.refunded",
            T0 + 60,
            charge | {"status": "succeeded", "amount_refunded": 2000},
        ),
    ]
    return [
        _event("stripe", _stripe(f"{event_id}_{tag}", event_type, created, data), f"stripe#pi_{tag}", order)
        for order, (event_id, event_type, created, data) in enumerate(documents)
    ]


def _paypal(event_id: str, event_type: str, create_time: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "event_type": event_type, "create_time": create_time, "resource": resource}


USD_10 = {"currency_code": "USD", "value": "10.00"}


def paypal_order() -> list[LifecycleEvent]:
    """The order approved and completed, its capture completed in the same second, then refunded."""
    checkout = {"id": "ORDER-1", "purchase_units": [{"amount": USD_10}]}
    capture = {
        "id": "CAPTURE-1",
        "amount": USD_10,
        "supplementary_data": {"related_ids": {"order_id": "ORDER-1"}},
    }
    refund = {
        "id": "REFUND-1",
        "status": "COMPLETED",
        "amount": USD_10,
        "supplementary_data": {"related_ids": {"capture_id": "CAPTURE-1"}},
    }
    documents: list[tuple[str, str, str, dict[str, Any], str]] = [
        (
            "WH-APPROVED",
            "CHECKOUT.ORDER.APPROVED",
            "2026-11-23T10:00:00Z",
            checkout | {"status": "APPROVED"},
            "ORDER-1",
        ),
        (
            "WH-COMPLETED",
            "CHECKOUT.ORDER.COMPLETED",
            "2026-11-23T10:00:05Z",
            checkout | {"status": "COMPLETED"},
            "ORDER-1",
        ),
        (
            "WH-CAPTURED",
            "PAYMENT.CAPTURE.COMPLETED",
            "2026-11-23T10:00:05Z",
            capture | {"status": "COMPLETED"},
            "CAPTURE-1",
        ),
        ("WH-REFUNDED", "PAYMENT.CAPTURE.REFUNDED", "2026-11-23T10:30:00Z", refund, "CAPTURE-1"),
    ]
    return [
        _event("paypal", _paypal(event_id, event_type, time, resource), f"paypal#{subject}", order)
        for order, (event_id, event_type, time, resource, subject) in enumerate(documents)
    ]
