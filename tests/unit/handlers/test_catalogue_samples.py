"""Each catalogue sample in events/ signed as its provider signs it and stored as docs/webhooks.md's money
model says: kind, direction, amount and currency, object and related ids (written out here, so that a
changed mapping fails until the test, the docs and the code agree)."""

import time

import pytest

from handlers.core.model import Transaction
from handlers.providers.catalogue import CATALOGUE
from tapstack import paths
from tapstack.local.paypal_pki import LocalPaypal
from tapstack.local.verify import verify_delivery
from tests.support.pipeline import signer_for

# kind, direction, "amount currency", object id, related object id
Stored = tuple[str, str | None, str | None, str | None, str | None]
PAYMENT = "pay_mbabizu24mvu3mela5njyhpit4"
SQUARE_PAYMENT = "hYy9pRFVxpDsO1FB05SunFWUe9JZY"
ORDER = "820982911946154508"

SAMPLES: dict[str, list[Stored]] = {
    "checkout-com/payment_captured.json": [
        ("capture", "in", "56.95 GBP", "act_y3oqhf46pyzuxjbcn2giaqnb44", PAYMENT)
    ],
    "checkout-com/payment_refunded.json": [
        ("refund", "out", "10.00 GBP", "act_6h6kvn4zsbtubl4gv4e6kgmkpm", PAYMENT)
    ],
    "checkout-com/dispute_received.json": [
        ("dispute", None, "56.95 GBP", "dsp_rbhwd2qrg13uhrp2newf", PAYMENT)
    ],
    "square/payment.updated.json": [("payment", None, "10.00 USD", SQUARE_PAYMENT, None)],
    "square/refund.created.json": [
        (
            "refund",
            None,
            "5.00 USD",
            "hYy9pRFVxpDsO1FB05SunFWUe9JZY_R4rHhw8CJqKu3Nbb6awDaSmrV8ZKLbn8B8m4h9DmdEvb",
            SQUARE_PAYMENT,
        )
    ],
    "shopify/orders.paid.json": [("checkout", None, "199.65 USD", ORDER, None)],
    "shopify/orders.create.json": [("checkout", None, "5400 JPY", "820982911946154509", None)],
    "shopify/order_transactions.create.json": [("capture", "in", "199.65 USD", "389404469", ORDER)],
    "shopify/refunds.create.json": [("refund", None, "41.94 USD", "509562969", ORDER)],
    "gocardless/payments.confirmed+refunds.created.json": [
        ("payment", None, None, "PM0012ABCDEFGH", "SB0003JJQ2MR06"),
        ("refund", None, None, "RF0004ABCDEFGH", "PM0012ABCDEFGH"),
    ],
    "adyen/AUTHORISATION+CAPTURE.json": [
        ("authorization", None, "10.00 EUR", "QFQTPCQ8HXSKGK82", None),
        ("capture", "in", "10.00 EUR", "V4HZ4RBFJGXXGN82", "QFQTPCQ8HXSKGK82"),
    ],
    "braintree/transaction_settled.xml": [("payment", "in", "49.99 USD", "7x9kq2m1", None)],
    "standard-webhooks/invoice.paid.json": [("other", None, None, "inv_2Nf8Xq7ZkYb3", None)],
    "github/push.json": [("other", None, None, None, None)],
    "github/pull_request.json": [("other", None, None, None, None)],
}
EVENT_TYPES = {"github/pull_request.json": ["pull_request.opened"], "github/push.json": ["push"]}


def stored(transaction: Transaction) -> Stored:
    money = None if transaction.amount is None else f"{transaction.amount} {transaction.currency}"
    direction = None if transaction.direction is None else str(transaction.direction)
    return (str(transaction.kind), direction, money, transaction.object_id, transaction.related_object_id)


def test_every_catalogue_sample_is_asserted() -> None:
    files = {
        f"{path.parent.name}/{path.name}" for name in CATALOGUE for path in (paths.EVENTS / name).glob("*")
    }
    assert sorted(SAMPLES) == sorted(files)


@pytest.mark.parametrize(("relative", "expected"), SAMPLES.items())
def test_catalogue_samples_are_stored_with_their_meaning(relative: str, expected: list[Stored]) -> None:
    provider, name = relative.split("/")
    signer = signer_for(LocalPaypal())
    now = int(time.time())
    body, headers = signer.signed(
        provider, (paths.EVENTS / relative).read_bytes(), now, name.removesuffix(".json")
    )
    verdict = verify_delivery(provider, headers, body, signer.material, now, lambda _url: b"")
    assert verdict.accepted, verdict
    assert [stored(transaction) for transaction in verdict.transactions] == expected
    assert all(transaction.quarantine_reason is None for transaction in verdict.transactions)
    if relative in EVENT_TYPES:
        assert [transaction.event_type for transaction in verdict.transactions] == EVENT_TYPES[relative]
