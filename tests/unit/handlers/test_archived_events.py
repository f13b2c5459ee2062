"""Reprocessing a catalogue provider's event: its archived delivery split as the verifier splits it, and
the one event the quarantined item is keyed by picked and normalised (`receiving.normalise_archived_event`).

Each delivery is signed as its provider signs it and received by the receiver; what reprocessing rebuilds
from the body alone must be what the receiver stored.
"""

import json
import time
from decimal import Decimal

import pytest

from handlers.core import money, receiving
from handlers.core.model import Transaction
from handlers.providers import adyen
from handlers.providers.catalogue import CATALOGUE
from tapstack import paths
from tapstack.local.paypal_pki import LocalPaypal
from tapstack.local.verify import verify_delivery
from tests.support.pipeline import signer_for

UNKNOWN_CURRENCY = "XTS"  # ISO 4217's code for testing: not in the exponent table
REBUILT = [
    "gocardless/payments.confirmed+refunds.created.json",
    "adyen/AUTHORISATION+CAPTURE.json",
    "checkout-com/payment_captured.json",
    "square/payment.updated.json",
    "braintree/transaction_settled.xml",
    "standard-webhooks/invoice.paid.json",  # its id is the webhook-id header's
]


def _received(provider: str, sample: bytes, event_type: str | None = None) -> tuple[bytes, list[Transaction]]:
    """The delivery as sent (the body the receiver archives) and what the receiver made of it."""
    signer = signer_for(LocalPaypal())
    now = int(time.time())
    body, headers = signer.signed(provider, sample, now, event_type)
    verdict = verify_delivery(provider, headers, body, signer.material, now, lambda _url: b"")
    assert verdict.accepted, verdict
    return body, list(verdict.transactions)


def _adyen_sample(currency: str) -> bytes:
    document = json.loads((paths.EVENTS / "adyen" / "AUTHORISATION+CAPTURE.json").read_bytes())
    document["notificationItems"][1]["NotificationRequestItem"]["amount"]["currency"] = currency
    return json.dumps(document).encode()


@pytest.mark.parametrize("relative", REBUILT)
def test_each_event_of_an_archived_delivery_is_rebuilt_as_the_receiver_stored_it(relative: str) -> None:
    provider = relative.split("/", maxsplit=1)[0]
    body, transactions = _received(provider, (paths.EVENTS / relative).read_bytes())
    for transaction in transactions:
        assert (
            receiving.normalise_archived_event(provider, body, transaction.provider_event_id) == transaction
        )


def test_a_quarantined_item_of_a_batch_is_picked_and_after_a_fix_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body, (authorisation, capture) = _received("adyen", _adyen_sample(UNKNOWN_CURRENCY))
    assert authorisation.quarantine_reason is None
    assert capture.quarantine_reason == "invalid_event"

    assert receiving.normalise_archived_event("adyen", body, capture.provider_event_id) == capture
    monkeypatch.setitem(money.ISO_4217_EXPONENTS, UNKNOWN_CURRENCY, 2)  # the fix
    fixed = receiving.normalise_archived_event("adyen", body, capture.provider_event_id)

    assert fixed.quarantine_reason is None
    assert (
        fixed.provider_event_id
        == capture.provider_event_id
        == "V4HZ4RBFJGXXGN82:CAPTURE:true:2026-11-23T09:05:00.000Z"
    )
    assert (fixed.kind, fixed.amount, fixed.currency) == ("capture", Decimal("10.00"), UNKNOWN_CURRENCY)


def test_events_without_ids_are_picked_by_their_position_in_the_batch() -> None:
    document = json.loads(
        (paths.EVENTS / "gocardless" / "payments.confirmed+refunds.created.json").read_bytes()
    )
    for event in document["events"]:
        del event["id"]
    document["events"][0]["created_at"] = "yesterday"  # quarantined on its own
    body, (first, second) = _received("gocardless", json.dumps(document).encode())
    sha256 = first.body_sha256
    assert (first.provider_event_id, second.provider_event_id) == (f"sha256:{sha256}:0", f"sha256:{sha256}:1")
    assert first.quarantine_reason is not None
    assert second.quarantine_reason is None

    assert receiving.normalise_archived_event("gocardless", body, f"sha256:{sha256}:0") == first
    assert receiving.normalise_archived_event("gocardless", body, f"sha256:{sha256}:1") == second
    with pytest.raises(LookupError, match=f"holds 2 events, none keyed sha256:{sha256}:2"):
        receiving.normalise_archived_event("gocardless", body, f"sha256:{sha256}:2")


def test_a_delivery_unreadable_as_a_whole_stays_quarantined_under_its_key() -> None:
    body, (whole,) = _received("gocardless", b'{"events": "not a list"}')
    assert (whole.provider_event_id, whole.quarantine_reason) == (
        f"sha256:{whole.body_sha256}",
        "invalid_event",
    )
    assert receiving.normalise_archived_event("gocardless", body, whole.provider_event_id) == whole


@pytest.mark.parametrize(
    ("relative", "header"),
    [("github/push.json", "x-github-event"), ("shopify/orders.paid.json", "x-shopify-topic")],
)
def test_providers_whose_event_type_is_a_header_are_refused_saying_why(relative: str, header: str) -> None:
    provider, name = relative.split("/")
    body, (transaction,) = _received(
        provider, (paths.EVENTS / relative).read_bytes(), name.removesuffix(".json")
    )
    title = CATALOGUE[provider].title
    with pytest.raises(
        LookupError, match=f"^{title}'s event type is in the {header} header, which the archive"
    ):
        receiving.normalise_archived_event(provider, body, transaction.provider_event_id)


def test_an_adyen_platform_webhook_is_refused_saying_why() -> None:
    signer = signer_for(LocalPaypal())
    body = b'{"type": "balancePlatform.accountHolder.created", "data": {"id": "AH00000000000000000000001"}}'
    headers = adyen.sign_raw(body, signer.material.catalogue["adyen"])
    verdict = verify_delivery("adyen", headers, body, signer.material, time.time(), lambda _url: b"")
    assert verdict.accepted, verdict
    with pytest.raises(LookupError, match="HmacSignature"):
        receiving.normalise_archived_event("adyen", body, verdict.transactions[0].provider_event_id)
