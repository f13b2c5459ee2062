"""Per provider, the lifecycle order of event types that breaks a tie between two events of one object
with the same `occurred_at` (docs/webhooks.md, "Ordering").

Only the timestamp orders events of different times: a rank never overrides a later `occurred_at`,
because objects move backwards too (a failed payment asks for action again). Types not listed have no
rank, so a tie with one of them is recorded `order_uncertain`. In the core rather than beside the
provider modules: importing `handlers.providers` loads verification code (HTTP headers, secrets) the
processor does not need at cold start.

Stripe orders by the event's `created` (whole Unix seconds; the moment Stripe generated the event):
Stripe does not guarantee delivery order and retries for up to three days, and `created` is the only
time every event carries. Several events of one PaymentIntent often share a second.

PayPal orders by the event's `create_time` (ISO 8601, the moment PayPal generated the event): every
event has it, while the resource's `update_time` is absent on some resources. A capture's refunds
advance the capture (PayPal's money moves on the capture; the order is the buyer's approval).
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Stage:
    rank: int
    """Later stages of one object's lifecycle rank higher; equal ranks are alternatives."""
    advances_related: bool = False
    """The event advances the object it belongs to (`related_object_id`), not its own."""


STRIPE: dict[str, Stage] = {
    # PaymentIntent: created, then action or a failed attempt (which asks for a new payment method),
    # processing, capturable, then one of its ends.
    "payment_intent.created": Stage(1),
    "payment_intent.requires_action": Stage(2),
    "payment_intent.payment_failed": Stage(3),
    "payment_intent.processing": Stage(4),
    "payment_intent.amount_capturable_updated": Stage(5),
    "payment_intent.succeeded": Stage(6),
    "payment_intent.canceled": Stage(6),
    # A charge's refunds to date, applied to its PaymentIntent: the payment is then (partly) refunded.
    # Two in one second are ordered by `amount_refunded`, which only grows.
    "charge.refunded": Stage(7, advances_related=True),
    # Refund: created, updated, then failed (a failed refund was created and pending first).
    "refund.created": Stage(1),
    "refund.updated": Stage(2),
    "charge.refund.updated": Stage(2),
    "refund.failed": Stage(3),
}

PAYPAL: dict[str, Stage] = {
    "CHECKOUT.ORDER.APPROVED": Stage(1),
    "CHECKOUT.ORDER.COMPLETED": Stage(2),
    "PAYMENT.AUTHORIZATION.CREATED": Stage(1),
    "PAYMENT.AUTHORIZATION.VOIDED": Stage(2),
    # Capture: pending, then completed or refused; then refunded or reversed (applied to the capture).
    "PAYMENT.CAPTURE.PENDING": Stage(1),
    "PAYMENT.CAPTURE.COMPLETED": Stage(2),
    "PAYMENT.CAPTURE.DENIED": Stage(2),
    "PAYMENT.CAPTURE.DECLINED": Stage(2),
    "PAYMENT.CAPTURE.REFUNDED": Stage(3, advances_related=True),
    "PAYMENT.CAPTURE.REVERSED": Stage(3, advances_related=True),
}

LIFECYCLES: dict[str, dict[str, Stage]] = {"stripe": STRIPE, "paypal": PAYPAL}
"""By provider name (the routes' `provider`); the generic and internal routes have no lifecycle."""
