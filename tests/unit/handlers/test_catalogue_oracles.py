"""The vendors' own verifiers as oracles: TapStack's profiles agree with them both ways, on deliveries they
sign and on deliveries TapStack signs, valid, with a tampered body, under the wrong key, and out of time.

`standardwebhooks` (the Standard Webhooks reference library, which Svix's are built from) and
`squareup` (Square's SDK, `square.utils.webhooks_helper.verify_signature`) are test dependencies only:
the Lambda artifact keeps its own verifier.
"""

import base64
import time
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from square.utils.webhooks_helper import verify_signature as square_verifies
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from handlers.core.errors import RejectionError
from handlers.core.http import Headers
from handlers.core.secrets import ProviderMaterial
from handlers.providers import TOLERANCE_SECONDS, hmac_profiles
from handlers.providers.catalogue import CATALOGUE

bodies = st.text(min_size=1, max_size=300).map(lambda text: text.encode("utf-8"))
message_ids = st.from_regex(r"msg_[A-Za-z0-9]{1,27}", fullmatch=True)
whsec_keys = st.binary(min_size=16, max_size=64).map(lambda key: "whsec_" + base64.b64encode(key).decode())
square_keys = st.from_regex(r"[A-Za-z0-9_-]{22}", fullmatch=True)
urls = st.sampled_from(["https://example.com/webhooks/square", "https://api.example.org/v1/webhooks/square"])
# Clock differences inside the tolerance, and beyond it either way.
fresh = st.integers(-TOLERANCE_SECONDS + 5, TOLERANCE_SECONDS - 5)
stale = st.one_of(st.integers(TOLERANCE_SECONDS + 5, 10**6), st.integers(-(10**6), -TOLERANCE_SECONDS - 5))


def _tapstack_accepts(
    profile: hmac_profiles.Profile, headers: dict[str, str], body: bytes, key: str, **extras: str
) -> bool:
    material = ProviderMaterial((key,), extras)
    lowered = Headers({name.lower(): (value,) for name, value in headers.items()})
    try:
        hmac_profiles.verify_signature(profile, lowered, body, material, time.time())
    except RejectionError:
        return False
    return True


def _standard_webhooks_accepts(headers: dict[str, str], body: bytes, key: str) -> bool:
    try:
        Webhook(key).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def _signed_by_the_library(key: str, message_id: str, body: bytes, skew: int) -> dict[str, str]:
    moment = datetime.fromtimestamp(int(time.time()) + skew, UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(key).sign(message_id, moment, body.decode("utf-8")),
    }


@given(key=whsec_keys, other=whsec_keys, message_id=message_ids, body=bodies, tampered=bodies, skew=fresh)
def test_standard_webhooks_signed_by_the_library_is_judged_as_the_library_judges_it(
    key: str, other: str, message_id: str, body: bytes, tampered: bytes, skew: int
) -> None:
    profile = hmac_profiles.STANDARD_WEBHOOKS
    headers = _signed_by_the_library(key, message_id, body, skew)
    cases = [(headers, body, key), (headers, tampered, key), (headers, body, other)]
    for sent, received, verifying_key in cases:
        expected = _standard_webhooks_accepts(sent, received, verifying_key)
        assert _tapstack_accepts(profile, sent, received, verifying_key) == expected
    assert _tapstack_accepts(profile, headers, body, key)


@given(key=whsec_keys, message_id=message_ids, body=bodies, skew=stale)
def test_standard_webhooks_out_of_time_is_refused_by_both(
    key: str, message_id: str, body: bytes, skew: int
) -> None:
    headers = _signed_by_the_library(key, message_id, body, skew)
    assert not _standard_webhooks_accepts(headers, body, key)
    assert not _tapstack_accepts(hmac_profiles.STANDARD_WEBHOOKS, headers, body, key)


@given(key=whsec_keys, other=whsec_keys, body=bodies, tampered=bodies)
def test_standard_webhooks_signed_by_tapstack_is_accepted_by_the_library(
    key: str, other: str, body: bytes, tampered: bytes
) -> None:
    """`make send`, the load run and the tests sign as the catalogue's `sign` does: the library agrees."""
    entry = CATALOGUE["standard-webhooks"]
    _, headers = entry.sign(body, ProviderMaterial((key,)), int(time.time()))
    headers = {name.lower(): value for name, value in headers.items()}
    assert _standard_webhooks_accepts(headers, body, key)
    assert _standard_webhooks_accepts(headers, tampered, key) == (tampered == body)
    assert _standard_webhooks_accepts(headers, body, other) == (other == key)


@given(key=square_keys, other=square_keys, url=urls, body=bodies, tampered=bodies)
def test_square_agrees_with_the_sdk_both_ways(
    key: str, other: str, url: str, body: bytes, tampered: bytes
) -> None:
    profile = hmac_profiles.SQUARE
    entry = CATALOGUE["square"]
    _, headers = entry.sign(body, ProviderMaterial((key,), {"notification_url": url}), int(time.time()))
    signature = headers["x-square-hmacsha256-signature"]
    for received, verifying_key, at in [
        (body, key, url),
        (tampered, key, url),
        (body, other, url),
        (body, key, url + "/"),
    ]:
        expected = square_verifies(
            request_body=received.decode("utf-8"),
            signature_header=signature,
            signature_key=verifying_key,
            notification_url=at,
        )
        assert _tapstack_accepts(profile, headers, received, verifying_key, notification_url=at) == expected
    assert square_verifies(
        request_body=body.decode("utf-8"), signature_header=signature, signature_key=key, notification_url=url
    )
