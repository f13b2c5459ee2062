"""PayPal's webhook simulator signs under the literal webhook id `WEBHOOK_ID`: refused by every stack,
accepted only where a developer stack opted in (AcceptPayPalSimulator), and then marked `simulated`
from the stored item to the published message."""

import hashlib
import json
import time
from dataclasses import replace

import pytest

from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.model import HandOff, Transaction
from handlers.core.notifying import FILTER_ATTRIBUTES, message
from handlers.core.secrets import VerificationMaterial
from handlers.providers import paypal
from tapstack.local.paypal_pki import LOCAL_PAYPAL_CERT_URL, LocalPaypal
from tests.support.pipeline import CertificateServer, sample, signer_for

CONFIGURED = VerificationMaterial((), "WH-TEST-0000000000000001", ())
BODY = sample("paypal/PAYMENT.CAPTURE.COMPLETED.json")


@pytest.fixture(scope="module")
def keys() -> LocalPaypal:
    return LocalPaypal()


def signed_under(keys: LocalPaypal, webhook_id: str) -> Headers:
    return Headers.from_event(
        {"headers": signer_for(keys, paypal_webhook_id=webhook_id).headers("paypal", BODY)}
    )


def verified_id(keys: LocalPaypal, headers: Headers, material: VerificationMaterial) -> str:
    cache = paypal.CertificateCache(CertificateServer({LOCAL_PAYPAL_CERT_URL: keys.pem}), keys.trust)
    return paypal.verified_webhook_id(headers, BODY, material, time.time(), cache)


def refusal(keys: LocalPaypal, headers: Headers, material: VerificationMaterial) -> Reason:
    with pytest.raises(RejectionError) as refused:
        verified_id(keys, headers, material)
    return refused.value.reason


def test_every_stack_refuses_the_simulator_by_default(keys: LocalPaypal) -> None:
    simulator = signed_under(keys, paypal.SIMULATOR_WEBHOOK_ID)
    assert refusal(keys, simulator, CONFIGURED) is Reason.SIGNATURE_INVALID
    assert (
        refusal(keys, simulator, replace(CONFIGURED, paypal_webhook_id="")) is Reason.PROVIDER_NOT_CONFIGURED
    )
    assert refusal(keys, simulator, replace(CONFIGURED, paypal_webhook_id="WEBHOOK_ID")) is (
        Reason.PROVIDER_NOT_CONFIGURED
    )


def test_an_opted_in_stack_accepts_the_simulator_and_says_which_id_signed(keys: LocalPaypal) -> None:
    opted_in = replace(CONFIGURED, paypal_accept_simulator=True)
    assert verified_id(keys, signed_under(keys, "WEBHOOK_ID"), opted_in) == "WEBHOOK_ID"
    assert verified_id(keys, signed_under(keys, CONFIGURED.paypal_webhook_id), opted_in) == (
        CONFIGURED.paypal_webhook_id
    )  # the configured id keeps working beside it
    without_id = replace(opted_in, paypal_webhook_id="")
    assert verified_id(keys, signed_under(keys, "WEBHOOK_ID"), without_id) == "WEBHOOK_ID"
    assert refusal(keys, signed_under(keys, "WH-SOMEONE-ELSE"), opted_in) is Reason.SIGNATURE_INVALID


def test_the_opt_in_is_never_read_from_the_secret() -> None:
    material = VerificationMaterial.from_secret_string(json.dumps({"paypal_accept_simulator": True}))
    assert material.paypal_accept_simulator is False


def test_simulated_travels_from_hand_off_to_item_and_message() -> None:
    body = b"{}"
    transaction = Transaction(
        "paypal",
        "WH-1",
        "PAYMENT.CAPTURE.COMPLETED",
        None,
        None,
        None,
        None,
        hashlib.sha256(body).hexdigest(),
    )
    assert "simulated" not in transaction.attributes()
    simulated = replace(transaction, simulated=True)
    assert simulated.attributes()["simulated"] == "true"
    handoff = HandOff(simulated, body, "2026-01-01T00:00:00.000Z", "ref")
    assert HandOff.from_json(json.loads(json.dumps(handoff.to_json()))).transaction.simulated is True
    assert json.loads(message(simulated.attributes()))["simulated"] == "true"
    assert "simulated" not in json.loads(message(transaction.attributes()))
    assert "simulated" in FILTER_ATTRIBUTES
