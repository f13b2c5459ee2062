"""Bodies the providers published, read by the money model (sources: tests/fixtures/vendor/README.md).

Stripe's API fixtures are objects: each is delivered in the envelope of Stripe's own event fixture,
as a webhook of each type listed for that object. PayPal's are the signed deliveries of its SDKs.
"""

import json
from decimal import Decimal
from typing import Any

import pytest

from handlers.core.jsonbody import parse_object
from handlers.core.model import Transaction
from handlers.providers import paypal, stripe
from tests import support

VENDOR = support.VENDOR
FIXTURES: dict[str, Any] = json.loads(
    (VENDOR / "stripe" / "fixtures3.json").read_text(), parse_float=Decimal, parse_int=Decimal
)["resources"]

# kind, direction, "amount currency", object id, related object id
Stored = tuple[str, str | None, str | None, str | None, str | None]


def stored(transaction: Transaction) -> Stored:
    money = None if transaction.amount is None else f"{transaction.amount} {transaction.currency}"
    direction = None if transaction.direction is None else str(transaction.direction)
    return (str(transaction.kind), direction, money, transaction.object_id, transaction.related_object_id)


def stripe_webhook(resource: str, event_type: str) -> dict[str, Any]:
    """Stripe's event fixture, carrying the `resource` fixture as a webhook of `event_type`."""
    event = dict(FIXTURES["event"])
    return event | {"type": event_type, "data": {"object": FIXTURES[resource]}}


PI = "pi_1MoS6fLgUG5tbmjca6AdBPsl"
CHARGE = "ch_1MoS30LgUG5tbmjcjfsQqpHI"

STRIPE_CASES: list[tuple[str, str, Stored]] = [
    # The payment_intent fixture intends 10.99 and has received nothing yet.
    ("payment_intent", "payment_intent.canceled", ("payment", None, "10.99 USD", PI, None)),
    ("payment_intent", "payment_intent.succeeded", ("payment", "in", "0.00 USD", PI, None)),
    (
        "payment_intent",
        "payment_intent.amount_capturable_updated",
        ("authorization", None, "0.00 USD", PI, None),
    ),
    # The charge fixture is authorised for 1.00 and not captured: nothing came in yet.
    ("charge", "charge.succeeded", ("payment", "in", "0.00 USD", CHARGE, None)),
    ("charge", "charge.captured", ("capture", "in", "0.00 USD", CHARGE, None)),
    ("charge", "charge.expired", ("authorization", None, "1.00 USD", CHARGE, None)),
    ("charge", "charge.refunded", ("refund_total", None, "0.00 USD", CHARGE, None)),
    # Made without a PaymentIntent: the refund and the dispute belong to the charge.
    ("refund", "refund.created", ("refund", "out", "1.00 USD", "re_1MoqxHLgUG5tbmjcYO7PFWn6", CHARGE)),
    ("refund", "refund.failed", ("refund", "in", "1.00 USD", "re_1MoqxHLgUG5tbmjcYO7PFWn6", CHARGE)),
    (
        "dispute",
        "charge.dispute.created",
        ("dispute", None, "10.00 USD", "dp_1MoqxHLgUG5tbmjcom3Mmh0p", CHARGE),
    ),
    (
        "dispute",
        "charge.dispute.funds_withdrawn",
        ("dispute", "out", "10.00 USD", "dp_1MoqxHLgUG5tbmjcom3Mmh0p", CHARGE),
    ),
    # An open session: `amount_total` and `currency` are null, so no money, but its PaymentIntent.
    (
        "checkout.session",
        "checkout.session.expired",
        ("checkout", None, None, "cs_test_a1vvp1B50lYAE8U2KLu1lzd6US91IMmBfnLfDXmJiKOQIzXbgFKgxUviQu", PI),
    ),
    # A draft invoice of 10.00, nothing paid.
    ("invoice", "invoice.created", ("invoice", None, "10.00 USD", "in_1MoqxGLgUG5tbmjcJeILGSau", None)),
    ("invoice", "invoice.paid", ("invoice", "in", "0.00 USD", "in_1MoqxGLgUG5tbmjcJeILGSau", None)),
    ("payout", "payout.created", ("payout", "out", "11.00 USD", "po_1MoqxPLgUG5tbmjcbKNyeRhP", None)),
    ("payout", "payout.paid", ("payout", None, "11.00 USD", "po_1MoqxPLgUG5tbmjcbKNyeRhP", None)),
    ("payout", "payout.failed", ("payout", "in", "11.00 USD", "po_1MoqxPLgUG5tbmjcbKNyeRhP", None)),
]


@pytest.mark.parametrize(("resource", "event_type", "expected"), STRIPE_CASES)
def test_stripe_api_fixtures_as_webhooks(resource: str, event_type: str, expected: Stored) -> None:
    transaction = stripe.normalise(stripe_webhook(resource, event_type), "stripe", "sha")
    assert stored(transaction) == expected
    assert transaction.event_type == event_type


def test_stripes_event_fixture_as_published() -> None:
    """The fixture itself: a `payment_intent.created` whose intent has since succeeded."""
    transaction = stripe.normalise(FIXTURES["event"], "stripe", "sha")
    assert stored(transaction) == ("payment", None, "10.99 USD", "pi_1MoS6tLgUG5tbmjcQ62U6djv", None)
    assert (transaction.provider_event_id, transaction.occurred_at) == (
        "evt_1MoS6tLgUG5tbmjchDsX6fiT",
        "2009-02-13T23:31:30.000Z",
    )


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        (
            "2015-05-12_b2384410_sandbox",
            ("payment", "in", "20.00 USD", "7DW85331GX749735N", "PAY-1A142943SV880364LKVJEFPQ"),
        ),
        (
            "2015-05-18_dfb3be50_sandbox",
            ("payment", "in", "20.00 USD", "4EU7004268015634R", "PAY-86C81811X5228590KKVNARQQ"),
        ),
        # PAYMENTS.PAYMENT.CREATED (a v1 payment approved, not yet a sale) is not mapped: no money.
        ("2019-08-29_afa30d40_sandbox", ("other", None, None, "PAYID-LVT22VY7N839502VJ678725M", None)),
    ],
)
def test_paypal_signed_deliveries(delivery: str, expected: Stored) -> None:
    body = (VENDOR / "paypal" / delivery / "body.json").read_bytes()
    assert stored(paypal.normalise(parse_object(body), "paypal", "sha")) == expected
