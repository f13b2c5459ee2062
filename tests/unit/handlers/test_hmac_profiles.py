"""The declarative HMAC verifier on what the built-in profiles do not show: a `t=…,v1=…` header (Stripe's
scheme, expressed as a profile, agrees with the Stripe module), key decodings, a key that cannot be
decoded, and the bounds on what an unauthenticated request can make it compute."""

import base64

import pytest

from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.http import Headers
from handlers.core.secrets import ProviderMaterial
from handlers.providers import TOLERANCE_SECONDS, hmac_profiles, stripe
from handlers.providers.hmac_profiles import Encoding, KeyDecoding, Profile, SignatureFormat

BODY = b'{"id":"evt_1","type":"payment_intent.succeeded"}'
NOW = 1_763_892_000
STRIPE_AS_A_PROFILE = Profile(
    signature_headers=("stripe-signature",),
    signed="{timestamp}.{body}",
    signature_format=SignatureFormat.KEYED_LIST,
    label="v1",
    encoding=Encoding.HEX,
    tolerance_seconds=TOLERANCE_SECONDS,
)


def headers(**values: str) -> Headers:
    return Headers({name.replace("_", "-"): (value,) for name, value in values.items()})


def verifies(
    profile: Profile, sent: Headers, key: str, now: float = NOW, body: bytes = BODY
) -> Reason | None:
    try:
        hmac_profiles.verify_signature(profile, sent, body, ProviderMaterial((key,)), now)
    except RejectionError as refusal:
        return refusal.reason
    return None


def test_a_keyed_list_profile_verifies_stripes_own_signatures() -> None:
    sent = headers(stripe_signature=stripe.sign(BODY, "whsec_k", NOW))
    assert verifies(STRIPE_AS_A_PROFILE, sent, "whsec_k") is None
    assert verifies(STRIPE_AS_A_PROFILE, sent, "whsec_other") is Reason.SIGNATURE_INVALID
    assert (
        verifies(STRIPE_AS_A_PROFILE, sent, "whsec_k", NOW + TOLERANCE_SECONDS + 1)
        is Reason.SIGNATURE_EXPIRED
    )
    assert verifies(STRIPE_AS_A_PROFILE, sent, "whsec_k", body=BODY + b" ") is Reason.SIGNATURE_INVALID
    two_stamps = headers(stripe_signature=f"t={NOW},t={NOW + 1},v1=00")
    assert verifies(STRIPE_AS_A_PROFILE, two_stamps, "whsec_k") is Reason.SIGNATURE_MISSING


@pytest.mark.parametrize(
    ("decoding", "key", "raw"),
    [
        (KeyDecoding.TEXT, "s3cret", b"s3cret"),
        (KeyDecoding.HEX, "00ff10", b"\x00\xff\x10"),
        (KeyDecoding.BASE64, base64.b64encode(b"\x01\x02").decode(), b"\x01\x02"),
        (KeyDecoding.WHSEC, "whsec_" + base64.b64encode(b"\x03" * 24).decode(), b"\x03" * 24),
        (KeyDecoding.WHSEC, base64.b64encode(b"\x03" * 24).decode(), b"\x03" * 24),  # no prefix
        (KeyDecoding.WHSEC, "AQI", b"\x01\x02"),  # unpadded
    ],
)
def test_keys_are_decoded_as_each_scheme_issues_them(decoding: KeyDecoding, key: str, raw: bytes) -> None:
    assert hmac_profiles.decode_key(key, decoding) == raw


def test_a_key_that_cannot_be_decoded_is_a_503_not_an_acceptance() -> None:
    profile = hmac_profiles.STANDARD_WEBHOOKS
    sent = headers(webhook_id="msg_1", webhook_timestamp=str(NOW), webhook_signature="v1,AAAA")
    with pytest.raises(UnavailableError) as unavailable:
        hmac_profiles.verify_signature(profile, sent, BODY, ProviderMaterial(("whsec_***",)), NOW)
    assert "***" not in str(unavailable.value)  # the message never quotes a key


def test_every_key_of_the_list_is_tried_the_current_first() -> None:
    profile = hmac_profiles.GITHUB
    signature = hmac_profiles.signature(profile, BODY, "previous", None, None, "")
    sent = headers(x_hub_signature_256=f"sha256={signature}")
    material = ProviderMaterial(("current", "previous"))
    hmac_profiles.verify_signature(profile, sent, BODY, material, NOW)  # the previous key verifies


def test_an_unauthenticated_request_cannot_make_it_compute_much() -> None:
    profile = hmac_profiles.STANDARD_WEBHOOKS
    many = " ".join(["v1,AAAA"] * (hmac_profiles.MAX_CANDIDATES + 1))
    sent = headers(webhook_id="msg_1", webhook_timestamp=str(NOW), webhook_signature=many)
    assert verifies(profile, sent, "whsec_AQI") is Reason.SIGNATURE_MISSING
    long = headers(x_hub_signature_256="sha256=" + "0" * hmac_profiles.MAX_SIGNATURE_HEADER_LENGTH)
    assert verifies(hmac_profiles.GITHUB, long, "k") is Reason.SIGNATURE_MISSING


def test_square_needs_its_notification_url() -> None:
    sent = headers(x_square_hmacsha256_signature="AAAA")
    material = ProviderMaterial(("key",), {"notification_url": ""})
    with pytest.raises(RejectionError) as refused:
        hmac_profiles.verify_signature(hmac_profiles.SQUARE, sent, BODY, material, NOW)
    assert refused.value.reason is Reason.PROVIDER_NOT_CONFIGURED


@pytest.mark.parametrize("profile", [hmac_profiles.GITHUB, hmac_profiles.SHOPIFY, hmac_profiles.GOCARDLESS])
def test_every_scheme_without_a_timestamp_says_its_replay_defence(profile: Profile) -> None:
    assert not profile.has_timestamp
    assert profile.replay_defence.startswith(hmac_profiles.NO_TIMESTAMP)
