"""The money model: every mapped event type's kind, amount field, direction and ids, per provider;
the precision rule on every route; and the table that documents both (docs/webhooks.md, "Money model").

The expected tables are written out here rather than read from the providers' `MEANINGS`, so that a
changed mapping fails until the test and the docs say the same.
"""

import re
from decimal import Context, Decimal
from typing import Any

import pytest

from handlers.core.errors import Reason, RejectionError
from handlers.core.model import Direction, Kind, Transaction
from handlers.core.notifying import PUBLISHED_ATTRIBUTES
from handlers.providers import adyen, braintree, hmac_signed, paypal, profiled, stripe
from handlers.providers.catalogue import CATALOGUE
from tapstack import paths

# --- Stripe -------------------------------------------------------------------------------------

# Every amount field with its own value, so that the stored amount says which field was read.
STRIPE_AMOUNTS = {
    "amount": 1001,
    "amount_received": 1002,
    "amount_capturable": 1003,
    "amount_captured": 1004,
    "amount_refunded": 1005,
    "amount_total": 1006,
    "amount_paid": 1007,
    "amount_due": 1008,
}
STRIPE_FIELD_OF = {Decimal(minor) / 100: field for field, minor in STRIPE_AMOUNTS.items()}

# event type: (kind, amount field, direction, field the related id is read from)
STRIPE: dict[str, tuple[str, str, str | None, str | None]] = {
    "payment_intent.succeeded": ("payment", "amount_received", "in", None),
    "payment_intent.amount_capturable_updated": ("authorization", "amount_capturable", None, None),
    "payment_intent.created": ("payment", "amount", None, None),
    "payment_intent.processing": ("payment", "amount", None, None),
    "payment_intent.requires_action": ("payment", "amount", None, None),
    "payment_intent.payment_failed": ("payment", "amount", None, None),
    "payment_intent.canceled": ("payment", "amount", None, None),
    "charge.succeeded": ("payment", "amount_captured", "in", "payment_intent"),
    "charge.captured": ("capture", "amount_captured", "in", "payment_intent"),
    "charge.refunded": ("refund_total", "amount_refunded", None, "payment_intent"),
    "charge.expired": ("authorization", "amount", None, "payment_intent"),
    "charge.pending": ("payment", "amount", None, "payment_intent"),
    "charge.failed": ("payment", "amount", None, "payment_intent"),
    "charge.updated": ("payment", "amount", None, "payment_intent"),
    "refund.created": ("refund", "amount", "out", "payment_intent"),
    "refund.failed": ("refund", "amount", "in", "payment_intent"),
    "refund.updated": ("refund", "amount", None, "payment_intent"),
    "charge.refund.updated": ("refund", "amount", None, "payment_intent"),
    "checkout.session.completed": ("checkout", "amount_total", "in", "payment_intent"),
    "checkout.session.async_payment_succeeded": ("checkout", "amount_total", "in", "payment_intent"),
    "checkout.session.async_payment_failed": ("checkout", "amount_total", "in", "payment_intent"),
    "checkout.session.expired": ("checkout", "amount_total", "in", "payment_intent"),
    "invoice.paid": ("invoice", "amount_paid", "in", "subscription"),
    "invoice.payment_succeeded": ("invoice", "amount_paid", "in", "subscription"),
    "invoice.created": ("invoice", "amount_due", None, "subscription"),
    "invoice.finalized": ("invoice", "amount_due", None, "subscription"),
    "invoice.updated": ("invoice", "amount_due", None, "subscription"),
    "invoice.payment_failed": ("invoice", "amount_due", None, "subscription"),
    "invoice.payment_action_required": ("invoice", "amount_due", None, "subscription"),
    "invoice.marked_uncollectible": ("invoice", "amount_due", None, "subscription"),
    "invoice.voided": ("invoice", "amount_due", None, "subscription"),
    "charge.dispute.funds_withdrawn": ("dispute", "amount", "out", "payment_intent"),
    "charge.dispute.funds_reinstated": ("dispute", "amount", "in", "payment_intent"),
    "charge.dispute.created": ("dispute", "amount", None, "payment_intent"),
    "charge.dispute.updated": ("dispute", "amount", None, "payment_intent"),
    "charge.dispute.closed": ("dispute", "amount", None, "payment_intent"),
    "payout.created": ("payout", "amount", "out", None),
    "payout.failed": ("payout", "amount", "in", None),
    "payout.canceled": ("payout", "amount", "in", None),
    "payout.updated": ("payout", "amount", None, None),
    "payout.paid": ("payout", "amount", None, None),
}
STRIPE_RELATED = {"payment_intent": "pi_related", "charge": "ch_related", "subscription": "sub_related"}


def stripe_event(event_type: str, **object_fields: Any) -> dict[str, Any]:
    item = {"id": "obj_1", "currency": "usd", **object_fields}
    return {"id": "evt_1", "type": event_type, "created": Decimal(1763892000), "data": {"object": item}}


def stripe_object(**changes: Any) -> dict[str, Any]:
    """An object holding every amount field and every related id, paid if it is a session."""
    amounts = {field: Decimal(minor) for field, minor in STRIPE_AMOUNTS.items()}
    return amounts | STRIPE_RELATED | {"invoice": "in_related", "payment_status": "paid"} | changes


def test_every_mapped_stripe_type_is_tested() -> None:
    assert sorted(STRIPE) == sorted(stripe.MEANINGS)


@pytest.mark.parametrize(("event_type", "expected"), STRIPE.items())
def test_stripe_mapping(event_type: str, expected: tuple[str, str, str | None, str | None]) -> None:
    kind, field, direction, related = expected
    transaction = stripe.normalise(stripe_event(event_type, **stripe_object()), "stripe", "sha")
    assert transaction.kind == kind
    assert transaction.amount is not None
    assert STRIPE_FIELD_OF[transaction.amount] == field
    assert (transaction.currency, transaction.direction, transaction.object_id) == ("USD", direction, "obj_1")
    assert transaction.related_object_id == (None if related is None else STRIPE_RELATED[related])


@pytest.mark.parametrize(
    ("event_type", "without", "related"),
    [
        ("refund.created", "payment_intent", "ch_related"),  # a charge made without a PaymentIntent
        ("charge.dispute.created", "payment_intent", "ch_related"),
        ("charge.succeeded", "payment_intent", None),
        ("invoice.paid", "subscription", "sub_basil"),  # API versions from 2025-03-31.basil
        ("checkout.session.completed", "payment_intent", "sub_related"),  # a subscription's checkout
    ],
)
def test_stripe_related_ids_fall_back_in_order(event_type: str, without: str, related: str | None) -> None:
    item = stripe_object(**{without: None}, parent={"subscription_details": {"subscription": "sub_basil"}})
    assert stripe.normalise(stripe_event(event_type, **item), "stripe", "sha").related_object_id == related


@pytest.mark.parametrize("status", ["unpaid", "no_payment_required", None])
def test_a_checkout_session_not_paid_moved_no_money(status: str | None) -> None:
    event = stripe_event("checkout.session.completed", **stripe_object(payment_status=status))
    transaction = stripe.normalise(event, "stripe", "sha")
    assert (transaction.amount, transaction.direction) == (Decimal("10.06"), None)


def test_a_setup_mode_session_has_no_money() -> None:
    """`amount_total` and `currency` are nullable in the API reference: null is no amount."""
    event = stripe_event("checkout.session.completed", mode="setup", amount_total=None, currency=None)
    transaction = stripe.normalise(event, "stripe", "sha")
    assert (transaction.kind, transaction.amount, transaction.currency, transaction.direction) == (
        "checkout",
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "event",
    [
        stripe_event("payment_intent.succeeded", amount=Decimal(2000)),  # no amount_received
        stripe_event("charge.refunded", **stripe_object(amount_refunded=None)),
        stripe_event("refund.created", **stripe_object(currency=None)),
        stripe_event("charge.succeeded", **stripe_object(amount_captured=Decimal(-100))),
        stripe_event("refund.created", **stripe_object(amount=Decimal("100.5"))),
        stripe_event("payout.paid", **stripe_object(id=None)),
        stripe_event("payout.paid", **stripe_object(id="po 1")),
        stripe_event("refund.created", **stripe_object(payment_intent={"id": "pi_expanded"})),
    ],
)
def test_a_mapped_stripe_event_without_its_documented_fields_is_refused(event: dict[str, Any]) -> None:
    with pytest.raises(RejectionError) as refused:
        stripe.normalise(event, "stripe", "sha")
    assert refused.value.reason is Reason.INVALID_EVENT


@pytest.mark.parametrize("object_id", ["cus_1", None, "not an id", 7])
def test_an_unmapped_stripe_type_keeps_its_reference_and_no_money(object_id: object) -> None:
    event = stripe_event("customer.updated", id=object_id, amount=Decimal(500), balance=Decimal(-300))
    transaction = stripe.normalise(event, "stripe", "sha")
    assert (transaction.kind, transaction.amount, transaction.currency, transaction.direction) == (
        "other",
        None,
        None,
        None,
    )
    assert transaction.object_id == (object_id if object_id == "cus_1" else None)


def test_summing_out_over_a_charge_refunded_twice_counts_each_refund_once() -> None:
    """Direction is what *this event* moved: two partial refunds (5.00, then 3.00) move 8.00 out, each on
    its `refund.created`; `charge.refunded` reports the running total again (5.00, then 8.00)."""
    deliveries = [
        stripe_event("refund.created", id="re_1", amount=Decimal(500), payment_intent="pi_1"),
        stripe_event("charge.refunded", id="ch_1", amount_refunded=Decimal(500), payment_intent="pi_1"),
        stripe_event("refund.created", id="re_2", amount=Decimal(300), payment_intent="pi_1"),
        stripe_event("charge.refunded", id="ch_1", amount_refunded=Decimal(800), payment_intent="pi_1"),
    ]
    stored = [stripe.normalise(event, "stripe", "sha") for event in deliveries]
    moved_out = sum(
        (item.amount for item in stored if item.direction == Direction.OUT and item.amount is not None),
        Decimal(0),
    )
    assert moved_out == Decimal("8.00")
    assert [item.amount for item in stored if item.kind == Kind.REFUND_TOTAL] == [Decimal(5), Decimal(8)]


# --- PayPal -------------------------------------------------------------------------------------

# Every money object with its own value, so that the stored amount says which one was read.
PAYPAL_RESOURCE: dict[str, Any] = {
    "id": "RES-1",
    "dispute_id": "PP-D-1",
    "status": "COMPLETED",
    "amount": {"currency_code": "USD", "value": "1.01"},
    "dispute_amount": {"currency_code": "USD", "value": "1.02"},
    "billing_info": {
        "last_payment": {"amount": {"currency_code": "USD", "value": "1.03"}},
        "last_failed_payment": {"amount": {"currency_code": "USD", "value": "1.04"}},
    },
    "purchase_units": [
        {"reference_id": "a", "amount": {"currency_code": "USD", "value": "1.05"}},
        {"reference_id": "b", "amount": {"currency_code": "USD", "value": "1.00"}},
    ],
    "supplementary_data": {
        "related_ids": {"authorization_id": "AUTH-1", "order_id": "ORDER-1", "capture_id": "CAPTURE-1"}
    },
    "links": [{"href": "https://api.paypal.com/v2/payments/captures/UP-1", "rel": "up", "method": "GET"}],
    "disputed_transactions": [{"seller_transaction_id": "SELLER-TX-1"}],
    "plan_id": "P-1",
    "parent_payment": "PAY-1",
    "sale_id": "SALE-1",
}
PAYPAL_MONEY = {
    Decimal("1.01"): "amount",
    Decimal("1.02"): "dispute_amount",
    Decimal("1.03"): "billing_info.last_payment.amount",
    Decimal("1.04"): "billing_info.last_failed_payment.amount",
    Decimal("2.05"): "purchase_units[].amount",
}

# event type: (kind, money object, direction, related id, object id)
PAYPAL: dict[str, tuple[str, str, str | None, str | None, str]] = {
    "PAYMENT.AUTHORIZATION.CREATED": ("authorization", "amount", None, "ORDER-1", "RES-1"),
    "PAYMENT.AUTHORIZATION.VOIDED": ("authorization", "amount", None, "ORDER-1", "RES-1"),
    "PAYMENT.CAPTURE.COMPLETED": ("capture", "amount", "in", "AUTH-1", "RES-1"),
    "PAYMENT.CAPTURE.PENDING": ("capture", "amount", None, "AUTH-1", "RES-1"),
    "PAYMENT.CAPTURE.DENIED": ("capture", "amount", None, "AUTH-1", "RES-1"),
    "PAYMENT.CAPTURE.DECLINED": ("capture", "amount", None, "AUTH-1", "RES-1"),
    "PAYMENT.CAPTURE.REFUNDED": ("refund", "amount", "out", "CAPTURE-1", "RES-1"),
    "PAYMENT.CAPTURE.REVERSED": ("reversal", "amount", "out", "CAPTURE-1", "RES-1"),
    "CHECKOUT.ORDER.APPROVED": ("checkout", "purchase_units[].amount", None, None, "RES-1"),
    "CHECKOUT.ORDER.COMPLETED": ("checkout", "purchase_units[].amount", None, None, "RES-1"),
    "CUSTOMER.DISPUTE.CREATED": ("dispute", "dispute_amount", None, "SELLER-TX-1", "PP-D-1"),
    "CUSTOMER.DISPUTE.UPDATED": ("dispute", "dispute_amount", None, "SELLER-TX-1", "PP-D-1"),
    "CUSTOMER.DISPUTE.RESOLVED": ("dispute", "dispute_amount", None, "SELLER-TX-1", "PP-D-1"),
    **{
        f"BILLING.SUBSCRIPTION.{change}": (
            "subscription_payment",
            "billing_info.last_payment.amount",
            None,
            "P-1",
            "RES-1",
        )
        for change in ("CREATED", "ACTIVATED", "UPDATED", "SUSPENDED", "CANCELLED", "EXPIRED")
    },
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED": (
        "subscription_payment",
        "billing_info.last_failed_payment.amount",
        None,
        "P-1",
        "RES-1",
    ),
    "PAYMENT.SALE.COMPLETED": ("payment", "amount", "in", "PAY-1", "RES-1"),
    "PAYMENT.SALE.PENDING": ("payment", "amount", None, "PAY-1", "RES-1"),
    "PAYMENT.SALE.DENIED": ("payment", "amount", None, "PAY-1", "RES-1"),
    "PAYMENT.SALE.REFUNDED": ("refund", "amount", "out", "SALE-1", "RES-1"),
    "PAYMENT.SALE.REVERSED": ("reversal", "amount", "out", "SALE-1", "RES-1"),
}


def paypal_event(event_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "WH-1",
        "event_type": event_type,
        "create_time": "2026-11-23T10:00:00Z",
        "resource": resource,
    }


def test_every_mapped_paypal_type_is_tested() -> None:
    assert sorted(PAYPAL) == sorted(paypal.MEANINGS)


@pytest.mark.parametrize(("event_type", "expected"), PAYPAL.items())
def test_paypal_mapping(event_type: str, expected: tuple[str, str, str | None, str | None, str]) -> None:
    kind, money_object, direction, related, object_id = expected
    transaction = paypal.normalise(paypal_event(event_type, PAYPAL_RESOURCE), "paypal", "sha")
    assert transaction.kind == kind
    assert transaction.amount is not None
    assert PAYPAL_MONEY[transaction.amount] == money_object
    assert (transaction.currency, transaction.direction) == ("USD", direction)
    assert (transaction.object_id, transaction.related_object_id) == (object_id, related)


def without(*keys: str, **changes: Any) -> dict[str, Any]:
    return {key: value for key, value in PAYPAL_RESOURCE.items() if key not in keys} | changes


@pytest.mark.parametrize(
    ("event_type", "resource", "related"),
    [
        # a capture names its authorization, else its order, else its parent link
        (
            "PAYMENT.CAPTURE.COMPLETED",
            without(supplementary_data={"related_ids": {"order_id": "ORDER-1"}}),
            "ORDER-1",
        ),
        ("PAYMENT.CAPTURE.COMPLETED", without("supplementary_data"), "UP-1"),
        ("PAYMENT.CAPTURE.COMPLETED", without("supplementary_data", "links"), None),
        ("PAYMENT.CAPTURE.REFUNDED", without("supplementary_data"), "UP-1"),
        ("PAYMENT.AUTHORIZATION.CREATED", without("supplementary_data", links=[]), None),
        # a link that is not the parent is no parent
        (
            "PAYMENT.CAPTURE.REFUNDED",
            without("supplementary_data", links=[{"href": "https://api.paypal.com/x/SELF-1", "rel": "self"}]),
            None,
        ),
        ("PAYMENT.SALE.REFUNDED", without("sale_id"), "PAY-1"),
        ("CUSTOMER.DISPUTE.CREATED", without("disputed_transactions"), None),
    ],
)
def test_paypal_related_ids_fall_back_in_order(
    event_type: str, resource: dict[str, Any], related: str | None
) -> None:
    assert paypal.normalise(paypal_event(event_type, resource), "paypal", "sha").related_object_id == related


def test_a_subscriptions_sale_is_a_subscription_payment_of_that_subscription() -> None:
    sale = without("parent_payment", billing_agreement_id="I-SUB-1")
    transaction = paypal.normalise(paypal_event("PAYMENT.SALE.COMPLETED", sale), "paypal", "sha")
    assert (transaction.kind, transaction.related_object_id) == ("subscription_payment", "I-SUB-1")


def test_a_subscription_before_its_first_payment_has_no_money() -> None:
    event = paypal_event("BILLING.SUBSCRIPTION.CREATED", without("billing_info"))
    transaction = paypal.normalise(event, "paypal", "sha")
    assert (transaction.kind, transaction.amount, transaction.currency) == (
        "subscription_payment",
        None,
        None,
    )


@pytest.mark.parametrize("total", ["-0.49", "0.49"])
def test_v1_refunds_and_reversals_store_the_magnitude_going_out(total: str) -> None:
    for event_type in ("PAYMENT.SALE.REFUNDED", "PAYMENT.SALE.REVERSED"):
        refund = without(amount={"total": total, "currency": "USD"})
        transaction = paypal.normalise(paypal_event(event_type, refund), "paypal", "sha")
        assert (transaction.amount, transaction.direction) == (Decimal("0.49"), "out")


@pytest.mark.parametrize(
    ("event_type", "resource"),
    [
        ("PAYMENT.SALE.COMPLETED", without(amount={"total": "-20.00", "currency": "USD"})),
        ("PAYMENT.CAPTURE.PENDING", without(amount={"value": "-1.00", "currency_code": "USD"})),
        ("CHECKOUT.ORDER.APPROVED", without(purchase_units=[])),
        ("CHECKOUT.ORDER.APPROVED", without("purchase_units")),
        (
            "CHECKOUT.ORDER.APPROVED",
            without(
                purchase_units=[
                    {"amount": {"currency_code": "USD", "value": "1.00"}},
                    {"amount": {"currency_code": "EUR", "value": "1.00"}},
                ]
            ),
        ),
        (
            "CHECKOUT.ORDER.APPROVED",
            without(
                purchase_units=[
                    {"amount": {"currency_code": "USD", "value": "-1.00"}},
                    *without()["purchase_units"],
                ]
            ),
        ),
        ("CHECKOUT.ORDER.APPROVED", without(purchase_units=["1.00"])),
        ("BILLING.SUBSCRIPTION.PAYMENT.FAILED", without("billing_info")),
        ("CUSTOMER.DISPUTE.CREATED", without("dispute_id")),
        (
            "PAYMENT.CAPTURE.REFUNDED",
            without("supplementary_data", links=[{"href": "https://x/a b", "rel": "up"}]),
        ),
        ("PAYMENT.CAPTURE.REFUNDED", without("supplementary_data", links=[{"href": 7, "rel": "up"}])),
        ("PAYMENT.CAPTURE.COMPLETED", without("amount")),
    ],
)
def test_a_mapped_paypal_event_without_its_documented_fields_is_refused(
    event_type: str, resource: dict[str, Any]
) -> None:
    with pytest.raises(RejectionError) as refused:
        paypal.normalise(paypal_event(event_type, resource), "paypal", "sha")
    assert refused.value.reason is Reason.INVALID_EVENT


def test_several_purchase_units_are_stored_as_the_order_total() -> None:
    units = [{"amount": {"currency_code": "JPY", "value": value}} for value in ("1000", "250", "1")]
    transaction = paypal.normalise(
        paypal_event("CHECKOUT.ORDER.APPROVED", without(purchase_units=units)), "paypal", "sha"
    )
    assert (transaction.amount, transaction.currency) == (Decimal(1251), "JPY")


def test_an_unmapped_paypal_type_keeps_its_reference_and_no_money() -> None:
    event = paypal_event("PAYMENTS.PAYMENT.CREATED", without(transactions=[{"amount": {"total": "1.00"}}]))
    transaction = paypal.normalise(event, "paypal", "sha")
    assert (transaction.kind, transaction.amount, transaction.object_id) == ("other", None, "RES-1")


# --- the precision rule, on every route ---------------------------------------------------------


def normalised(route: str, currency: str, amount: str) -> Transaction:
    """`amount` (decimal text of major units) in `currency`, delivered as `route` sends money."""
    if route == "stripe":
        minor = Decimal(amount).scaleb(STRIPE_PLACES.get(currency, PLACES[currency]), WIDE)
        event = stripe_event("payment_intent.succeeded", amount_received=minor, currency=currency.lower())
        return stripe.normalise(event, "stripe", "sha")
    if route == "paypal":
        money = {"currency_code": currency, "value": amount}
        return paypal.normalise(
            paypal_event("PAYMENT.CAPTURE.COMPLETED", without(amount=money)), "paypal", "sha"
        )
    document = {"id": "g-1", "type": "t", "occurred_at": "2026-11-23T10:00:00Z", "currency": currency}
    return hmac_signed.normalise(document | {"amount": amount}, route, "sha")


WIDE = Context(prec=60)
"""Wide enough to scale the test's amounts exactly (the default context rounds at 28 digits)."""
PLACES = {"JPY": 0, "USD": 2, "ISK": 0, "KWD": 3, "CLF": 4}
STRIPE_PLACES = {"ISK": 2}
"""Stripe's minor unit where it differs from ISO 4217 (its currencies reference: ISK, for backwards
compatibility, is sent with two decimals that must be zero)."""
ROUTES = ["stripe", "paypal", "generic", "internal"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("currency", "amount"),
    [
        ("JPY", "1500"),
        ("JPY", "1500.0"),  # trailing zeros are no precision
        ("USD", "12.3"),
        ("KWD", "1.234"),
        ("KWD", "12345678901234567890123456.789"),
        ("CLF", "0.0001"),
        ("ISK", "123"),  # Stripe sends it as 12300, two decimals for backwards compatibility
    ],
)
def test_every_route_stores_amounts_within_the_currencys_places_exactly(
    route: str, currency: str, amount: str
) -> None:
    transaction = normalised(route, currency, amount)
    assert (transaction.amount, transaction.currency) == (Decimal(amount), currency)


TOO_PRECISE = [("JPY", "1.5"), ("USD", "0.001"), ("KWD", "12345678901234567890.123456789"), ("ISK", "1.23")]


@pytest.mark.parametrize(
    ("route", "currency", "amount"),
    # Stripe sends integers of its minor unit: only its ISK and UGX have more digits than ISO 4217.
    [(route, *case) for route in ROUTES for case in TOO_PRECISE if route != "stripe" or case[0] == "ISK"],
)
def test_every_route_refuses_a_digit_beyond_the_currencys_places(
    route: str, currency: str, amount: str
) -> None:
    with pytest.raises(RejectionError) as refused:
        normalised(route, currency, amount)
    assert (refused.value.reason, refused.value.detail) == (
        Reason.INVALID_EVENT,
        "amount has more decimal places than the currency allows",
    )


# --- docs/webhooks.md documents exactly this model --------------------------------------------


def money_model_section() -> str:
    page = (paths.REPOSITORY / "docs" / "webhooks.md").read_text()
    return page.split("\n## Money model\n", 1)[1].split("\n## ", 1)[0]


TITLES = {"Stripe": "stripe", "PayPal": "paypal", **{entry.title: name for name, entry in CATALOGUE.items()}}


def documented_mappings() -> dict[tuple[str, str], tuple[str, str, str]]:
    """(provider, event type) -> (amount field, kind, direction) from the docs' mapping table; a
    qualified type (Shopify's `order_transactions.create` (kind `sale`)) is `type (kind sale)`."""
    section = money_model_section()
    mappings: dict[tuple[str, str], tuple[str, str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in TITLES:
            provider, types, _, amount, kind, direction, _, _ = cells
            listed, _, qualifier = types.partition(" (")
            qualifier = qualifier.rstrip(")").replace("`", "")
            for event_type in re.findall(r"`([^`]+)`", listed):
                key = (TITLES[provider], f"{event_type} ({qualifier})" if qualifier else event_type)
                assert key not in mappings, key
                field = re.findall(r"`([^`]+)`", amount)  # Adyen's reads "`amount.value` (minor units)"
                mappings[key] = (field[0] if field else amount, kind.strip("`"), direction)
    return mappings


def test_the_docs_table_lists_every_mapping_as_the_code_does() -> None:
    documented = documented_mappings()
    code: dict[tuple[str, str], tuple[str, str, str | None]] = {
        ("stripe", name): (f"data.object.{m.amount}", m.kind, m.direction)
        for name, m in stripe.MEANINGS.items()
    }
    code |= {
        ("paypal", name): (f"resource.{m.amount}", m.kind, m.direction) for name, m in paypal.MEANINGS.items()
    }
    code |= {("adyen", name): ("amount.value", m.kind, m.direction) for name, m in adyen.MEANINGS.items()}
    code |= {
        ("braintree", name): (f"subject.{m.amount}", m.kind, m.direction)
        for name, m in braintree.MEANINGS.items()
    }
    code |= {
        (provider, f"{event_type} ({qualifier})" if qualifier else event_type): row
        for provider, table in profiled.money_tables().items()
        for (event_type, qualifier), row in table.items()
    }
    assert sorted(documented) == sorted(code)
    for key, (amount, kind, direction) in code.items():
        documented_amount, documented_kind, documented_direction = documented[key]
        assert (documented_amount, documented_kind) == (amount, kind), key
        assert documented_direction.split(" ")[0] == (direction or "—"), key


def test_the_docs_document_every_kind_and_message_field() -> None:
    section = money_model_section()
    for name in [*Kind, *Direction, *PUBLISHED_ATTRIBUTES, "schema_version", "version"]:
        assert f"`{name}`" in section, name
