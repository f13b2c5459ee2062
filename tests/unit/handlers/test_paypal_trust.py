"""PayPal's certificate trust: real PayPal-signed deliveries verify, forgeries of every kind are refused.

`tests/fixtures/vendor/paypal/` holds deliveries PayPal published in its SDKs' test suites (Python, Node,
Ruby, Java, .NET and PHP SDKs; see its README.md): the raw body, the headers, the webhook id and the
signing certificate the certificate URL served. They verify against the DigiCert anchors pinned in
the artifact, with the clock at their transmission time. The forgeries use a local PKI made per test.
"""

from dataclasses import replace
from datetime import datetime

import pytest

from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers
from handlers.core.secrets import VerificationMaterial
from handlers.providers import paypal
from tapstack.local.paypal_pki import LOCAL_PAYPAL_CERT_URL, LocalPaypal
from tests.support.pipeline import CertificateServer, signer_for
from tests.support.vendor import DELIVERIES, VendorDelivery


def refusal(call: object, *args: object, **kwargs: object) -> RejectionError:
    with pytest.raises(RejectionError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.name)
def test_real_paypal_deliveries_verify_against_the_pinned_digicert_chain(delivery: VendorDelivery) -> None:
    delivery.verify()


def test_three_vendor_deliveries_from_two_signing_certificates_are_shipped() -> None:
    assert len(DELIVERIES) == 3
    assert len({d.leaf_pem for d in DELIVERIES}) == 2


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.name)
def test_altering_any_signed_part_of_a_real_delivery_is_refused(delivery: VendorDelivery) -> None:
    changed_id = delivery.headers | {
        "PAYPAL-TRANSMISSION-ID": "0" + delivery.headers["PAYPAL-TRANSMISSION-ID"][1:]
    }
    signature = delivery.headers["PAYPAL-TRANSMISSION-SIG"]
    changed_signature = delivery.headers | {
        "PAYPAL-TRANSMISSION-SIG": ("A" if signature[0] != "A" else "B") + signature[1:]
    }
    for kwargs in (
        {"body": delivery.body + b" "},
        {"body": delivery.body.replace(b'"', b"'", 1)},
        {"headers": changed_id},
        {"headers": changed_signature},
        {"material": replace(delivery.material(), paypal_webhook_id=delivery.webhook_id + "X")},
    ):
        assert refusal(delivery.verify, **kwargs).reason is Reason.SIGNATURE_INVALID, kwargs
    other_algorithm = delivery.headers | {"PAYPAL-AUTH-ALGO": "SHA1withRSA"}
    assert refusal(delivery.verify, headers=other_algorithm).reason is Reason.SIGNATURE_MISSING


def test_a_real_sandbox_delivery_is_refused_by_a_live_stack() -> None:
    delivery = DELIVERIES[0]
    caught = refusal(delivery.verify, material=delivery.material("live"))
    assert (caught.reason, caught.detail) == (
        Reason.SIGNATURE_INVALID,
        "the certificate URL is not a PayPal live certificate URL",
    )


def test_a_real_certificate_is_refused_once_it_has_expired() -> None:
    delivery = DELIVERIES[0]
    caught = refusal(delivery.verify, now=datetime.fromisoformat("2026-12-01T00:00:00+00:00").timestamp())
    assert caught.detail is not None
    assert "does not chain" in caught.detail


@pytest.mark.parametrize("webhook_id", ["", "WEBHOOK_ID"])
def test_placeholder_webhook_ids_are_not_configuration(webhook_id: str) -> None:
    delivery = DELIVERIES[0]
    material = replace(delivery.material(), paypal_webhook_id=webhook_id)
    assert refusal(delivery.verify, material=material).reason is Reason.PROVIDER_NOT_CONFIGURED


def test_the_secret_names_the_environment_live_by_default() -> None:
    assert VerificationMaterial.from_secret_string("{}").paypal_environment == "live"
    secret = '{"paypal_environment": "sandbox"}'
    assert VerificationMaterial.from_secret_string(secret).paypal_environment == "sandbox"
    with pytest.raises(ValueError, match="live or sandbox"):
        VerificationMaterial.from_secret_string('{"paypal_environment": "staging"}')


# --- forgeries, with a local PKI ------------------------------------------------------------------


def forged(
    keys: LocalPaypal, trusted: LocalPaypal, url: str = LOCAL_PAYPAL_CERT_URL, environment: str = "live"
) -> str:
    """Sign with `keys`, verify with `trusted`'s root as the only anchor; return the refusal's detail."""
    body = b'{"id":"WH-FORGED"}'
    headers = signer_for(keys, paypal_webhook_id="WH-CONFIGURED").headers("paypal", body) | {
        "PAYPAL-CERT-URL": url
    }
    cache = paypal.CertificateCache(CertificateServer({url: keys.pem}), trusted.trust)
    material = VerificationMaterial((), "WH-CONFIGURED", (), environment)
    caught = refusal(
        paypal.verify,
        Headers.from_event({"headers": headers}),
        body,
        material,
        datetime.now().timestamp(),
        cache,
    )
    assert caught.reason is Reason.SIGNATURE_INVALID
    assert caught.detail is not None
    return caught.detail


def test_the_local_pki_itself_verifies() -> None:
    """The control for every forgery below: the same construction, correctly issued, is accepted."""
    keys = LocalPaypal()
    body = b'{"id":"WH-GOOD"}'
    headers = signer_for(keys, paypal_webhook_id="WH-CONFIGURED").headers("paypal", body)
    cache = paypal.CertificateCache(CertificateServer({LOCAL_PAYPAL_CERT_URL: keys.pem}), keys.trust)
    material = VerificationMaterial((), "WH-CONFIGURED", (), "live")
    paypal.verify(Headers.from_event({"headers": headers}), body, material, datetime.now().timestamp(), cache)


def test_a_self_signed_leaf_with_paypals_exact_name_is_refused() -> None:
    trusted = LocalPaypal()
    assert "does not chain" in forged(LocalPaypal(self_signed=True), trusted)


def test_a_chain_to_another_ca_is_refused() -> None:
    assert "does not chain" in forged(LocalPaypal(), LocalPaypal())


def test_a_leaf_for_another_paypal_name_from_a_paypal_url_is_refused() -> None:
    keys = LocalPaypal(host="www.paypal.com")
    assert "messageverificationcerts.paypal.com" in forged(keys, keys)


def test_a_sandbox_signing_certificate_on_a_live_stack_is_refused() -> None:
    keys = LocalPaypal(host=paypal.SIGNING_HOSTS["sandbox"])
    assert "does not chain" in forged(keys, keys)


def test_a_live_signing_certificate_on_a_sandbox_stack_is_refused() -> None:
    keys = LocalPaypal()
    url = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-live-on-sandbox"
    assert "messageverificationcerts.sandbox.paypal.com" in forged(keys, keys, url, "sandbox")


def test_an_expired_intermediate_is_refused() -> None:
    keys = LocalPaypal(intermediate_days=(-400, 30))
    assert "does not chain" in forged(keys, keys)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.paypal.com.evil.io/v1/notifications/certs/CERT-1",
        "http://api.paypal.com/v1/notifications/certs/CERT-1",
        "https://user@api.paypal.com/v1/notifications/certs/CERT-1",
        "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
        "https://www.paypal.com/v1/notifications/certs/CERT-1",
    ],
)
def test_certificate_urls_off_paypals_api_host_are_refused_unfetched(url: str) -> None:
    keys = LocalPaypal()
    assert "not a PayPal live certificate URL" in forged(keys, keys, url)


def test_a_refusal_detail_names_the_check_and_carries_no_certificate_material() -> None:
    detail = forged(LocalPaypal(self_signed=True), LocalPaypal())
    assert "BEGIN CERTIFICATE" not in detail
    assert "messageverificationcerts.paypal.com" in detail
