"""Every vendor signature vector of the catalogue's providers through `tapstack verify`'s library
(tapstack.local.verify.verify_delivery: the receiver's own decision, offline), at the vector's clock.

The vectors are the vendors' (their SDK tests and docs, `../shared/vendor-vectors/providers/`, see
tests/support/vectors.py); each is skipped, saying why, when they are absent. A valid vector is answered
2xx, an invalid one 401, except where the receiver's documented limits decide first (`BEYOND_LIMITS`).
"""

from decimal import Decimal

import pytest

from handlers.core.errors import RejectionError
from handlers.core.http import Headers
from handlers.core.receiving import MAX_BODY_BYTES
from handlers.providers import hmac_profiles
from handlers.providers.catalogue import CATALOGUE
from tapstack.local.verify import verify_delivery
from tests.support.vectors import ABSENT, Vector, load

VECTORS = [vector for provider in CATALOGUE for vector in load(provider) if vector.kind != "challenge"]
"""Deliveries: Braintree's challenge vectors verify an endpoint, not a delivery (tests/unit/handlers/
test_dedicated_vectors.py answers them through `braintree.challenge_response`)."""
PROFILED = {"standard-webhooks", "github", "shopify", "checkout-com", "square", "gocardless"}
"""The providers of the HMAC profiles (handlers.providers.hmac_profiles)."""
BEYOND_LIMITS = {
    "adyen-net-item-single-quoted": (
        401,
        "Json.NET's single-quoted JSON, which no Adyen delivery is: no JSON notification, so no signature",
    ),
    "svix-v1a-ed25519": (
        401,
        "only symmetric v1 signatures are verified: a delivery signed with v1a (Ed25519) alone is refused",
    ),
}
"""Valid vendor vectors the receiver refuses on purpose, with the answer and why."""


def _no_certificates(url: str) -> bytes:
    raise AssertionError(f"no catalogue provider fetches anything ({url})")


@pytest.mark.skipif(not VECTORS, reason=ABSENT)
@pytest.mark.parametrize("vector", VECTORS, ids=[vector.id for vector in VECTORS])
def test_the_receiver_answers_every_vendor_vector_as_the_vendor_does(vector: Vector) -> None:
    verdict = verify_delivery(
        vector.provider,
        vector.request_headers(),
        vector.delivery,
        vector.material(),
        vector.at,
        _no_certificates,
    )
    if vector.id in BEYOND_LIMITS:
        assert verdict.status == BEYOND_LIMITS[vector.id][0]
    elif len(vector.body) > MAX_BODY_BYTES:
        # The size limit comes before the signature (docs/webhooks.md): a vendor's 256 KiB and 1 MiB
        # bodies are refused whatever their signature; the signature itself is checked below.
        assert (verdict.status, verdict.code) == (413, "payload_too_large")
    elif vector.valid:
        assert verdict.accepted, (verdict.code, verdict.detail)
    else:
        assert (verdict.status, verdict.code) in {
            (401, "signature_missing"),
            (401, "signature_invalid"),
            (401, "signature_expired"),
        }, verdict


@pytest.mark.skipif(not VECTORS, reason=ABSENT)
@pytest.mark.parametrize(
    "vector",
    [vector for vector in VECTORS if len(vector.body) > MAX_BODY_BYTES],
    ids=lambda vector: vector.id,
)
def test_a_body_beyond_the_size_limit_still_verifies_as_the_vendor_says(vector: Vector) -> None:
    profile = hmac_profiles.STANDARD_WEBHOOKS
    headers = Headers({name.lower(): (value,) for name, value in vector.headers.items()})
    assert vector.provider == "standard-webhooks"
    material = vector.material().catalogue[vector.provider]
    if vector.valid:
        hmac_profiles.verify_signature(profile, headers, vector.body, material, vector.at)
    else:
        with pytest.raises(RejectionError):
            hmac_profiles.verify_signature(profile, headers, vector.body, material, vector.at)


@pytest.mark.skipif(not VECTORS, reason=ABSENT)
@pytest.mark.parametrize(
    "vector",
    # Adyen's and Braintree's money, with their meanings (an unmapped REPORT_AVAILABLE carries none),
    # is asserted by tests/unit/handlers/test_dedicated_vectors.py.
    [
        vector
        for vector in VECTORS
        if vector.money and vector.valid and vector.id not in BEYOND_LIMITS and vector.provider in PROFILED
    ],
    ids=lambda vector: vector.id,
)
def test_the_money_of_the_vendors_bodies_is_stored_as_the_fixture_shows_it(vector: Vector) -> None:
    verdict = verify_delivery(
        vector.provider,
        vector.request_headers(),
        vector.delivery,
        vector.material(),
        vector.at,
        _no_certificates,
    )
    money = vector.money
    assert money is not None
    stored = verdict.transactions
    assert stored
    assert all(transaction.quarantine_reason is None for transaction in stored)
    assert " + ".join(str(transaction.event_type) for transaction in stored) == money["event_type"]
    first = stored[0]
    if money.get("amount_minor_units") is not None:
        exponent = 2  # the fixtures' currencies (GBP, EUR, USD) have two decimal places
        assert first.amount == Decimal(money["amount_minor_units"]).scaleb(-exponent)
        assert first.currency == money["currency"]
    else:
        # GoCardless events and Square's test notification carry no amount: none is stored.
        assert all(transaction.amount is None for transaction in stored)


def test_the_vectors_cover_every_catalogue_provider_beside_the_project() -> None:
    if not VECTORS:
        pytest.skip(ABSENT)
    assert {vector.provider for vector in VECTORS} == set(CATALOGUE)
