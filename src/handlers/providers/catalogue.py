"""The catalogue: every provider verified from `{"<provider>": {"signing_keys": [...], ...}}` material.

One entry per provider says everything the stack needs of it: its route and `--provider` name, the
verifier (authenticate, then split the delivery into its events with its splitter, which reprocessing
calls on an archived delivery), the normaliser of one event, the
media types it posts, the headers that carry its signature (the WAF redacts them from its logs), the
secret's placeholder for it, the answer it expects, its replay defence, and how it signs (the local
stack, the load run and the tests sign as the provider does).

Stripe, PayPal and the generic route keep their own modules and material (handlers.core.secrets).
"""

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from handlers.core.secrets import ProviderMaterial
from handlers.providers import (
    CatalogueVerifier,
    Normaliser,
    Splitter,
    adyen,
    braintree,
    hmac_profiles,
    profiled,
)
from handlers.providers.hmac_profiles import KeyDecoding, Profile

JSON = "application/json"
Signed = tuple[bytes, dict[str, str]]
"""A delivery as the provider sends it: the body (form-encoded providers build their own) and headers."""
Sign = Callable[[bytes, ProviderMaterial, int], Signed]


@dataclass(frozen=True, slots=True)
class Reply:
    """What the provider expects as the answer to a delivery it may stop retrying."""

    status: int
    body: str
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    """The route `/webhooks/{name}`, the `--provider` name and the secret's key."""
    title: str
    verify: CatalogueVerifier
    split: Splitter
    """The events of an authentic delivery: the verifier's last step, and reprocessing's first."""
    normalise: Normaliser
    signature_headers: tuple[str, ...]
    """Header names (lower case) that carry signatures or keys: redacted from the WAF's logs."""
    placeholder: Mapping[str, object]
    """The secret's placeholder object: empty keys refuse every delivery until the operator sets them."""
    replay_defence: str
    """How a replayed delivery is defeated: a signed timestamp, else deduplication by event id."""
    sign: Sign
    media_types: tuple[str, ...] = (JSON,)
    has_timestamp: bool = False
    reply: Reply | None = None
    """None: the receiver's usual JSON answer."""
    event_type_field: str = "type"
    """Where an event's document names its type (read for a quarantined event)."""
    extras: tuple[str, ...] = field(default=())
    """The provider's settings besides its keys, by name (Square's `notification_url`)."""
    new_key: Callable[[], object] = lambda: secrets.token_hex(32)
    """A fresh key in the form the provider issues them: the local stack's and the tests' material."""
    type_header: str | None = None
    """The header naming the event type when the body does not (GitHub, Shopify): a local send sets it."""

    def local_material(self, route_url: str) -> dict[str, object]:
        """Material for the local stack: a fresh key, and `route_url` as a notification URL it signs."""
        return {"signing_keys": [self.new_key()], **dict.fromkeys(self.extras, route_url)}


def _json_signer(profile: Profile, event_id: Callable[[bytes], str] | None = None) -> Sign:
    headers_of = hmac_profiles.signer(profile, event_id)

    def sign(body: bytes, material: ProviderMaterial, now: int) -> Signed:
        return body, {"Content-Type": f"{JSON}; charset=utf-8", **headers_of(body, material, now)}

    return sign


def _body_id(body: bytes) -> str:
    """The id header of a delivery signed here: the body's own `id` when it has one, else one derived
    from the body, so that a resend is the same delivery (Standard Webhooks' webhook-id is signed)."""
    try:
        document = json.loads(body, parse_float=str)  # only the id is read: numbers stay text
    except ValueError:
        document = None
    value = document.get("id") if isinstance(document, dict) else None
    return value if isinstance(value, str) else f"msg_{hashlib.sha256(body).hexdigest()[:24]}"


_NEW_KEYS: dict[KeyDecoding, Callable[[], object]] = {
    KeyDecoding.TEXT: lambda: secrets.token_urlsafe(32),
    KeyDecoding.HEX: lambda: secrets.token_hex(32),
    KeyDecoding.BASE64: lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    KeyDecoding.WHSEC: lambda: "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
}


def _profile_entry(
    name: str,
    title: str,
    profile: Profile,
    normalise: Normaliser,
    extras: tuple[str, ...] = (),
    event_type_field: str = "type",
) -> Entry:
    return Entry(
        name=name,
        title=title,
        verify=hmac_profiles.verifier(profile),
        split=hmac_profiles.splitter(profile),
        normalise=normalise,
        signature_headers=profile.signature_headers,
        placeholder={"signing_keys": [], **dict.fromkeys(extras, "")},
        replay_defence=profile.replay_defence,
        sign=_json_signer(profile, _body_id),
        has_timestamp=profile.has_timestamp,
        event_type_field=event_type_field,
        extras=extras,
        new_key=_NEW_KEYS[profile.key_decoding],
        type_header=profile.type_headers[0] if profile.type_headers else None,
    )


ADYEN = Entry(
    name="adyen",
    title="Adyen",
    verify=adyen.verify,
    split=adyen.events,
    normalise=adyen.normalise,
    signature_headers=(adyen.SIGNATURE_HEADER.lower(),),
    placeholder={"signing_keys": []},
    replay_defence=hmac_profiles.NO_TIMESTAMP + " (each item's pspReference:eventCode:success)",
    sign=adyen.sign,
    reply=Reply(200, adyen.ACKNOWLEDGEMENT),
    event_type_field="eventCode",
    new_key=lambda: secrets.token_hex(32).upper(),  # as Adyen's Customer Area shows an HMAC key
)
"""Adyen: an HMAC per notification item inside the body (or `HmacSignature` over a platform webhook's)."""

BRAINTREE = Entry(
    name="braintree",
    title="Braintree",
    verify=braintree.verify,
    split=braintree.events,
    normalise=braintree.normalise,
    signature_headers=(),  # the signature is a form field of the body
    placeholder={"signing_keys": []},
    replay_defence=hmac_profiles.NO_TIMESTAMP + " (the SHA-256 of the notification XML)",
    sign=braintree.sign,
    media_types=(braintree.MEDIA_TYPE,),
    event_type_field="kind",
    new_key=lambda: {"public_key": secrets.token_hex(8), "private_key": secrets.token_hex(16)},
)
"""Braintree: `bt_signature`/`bt_payload` form fields, HMAC-SHA1 under SHA-1 of the private key."""

CATALOGUE: dict[str, Entry] = {
    entry.name: entry
    for entry in (
        _profile_entry(
            "standard-webhooks",
            "Standard Webhooks",
            hmac_profiles.STANDARD_WEBHOOKS,
            profiled.standard_webhooks,
        ),
        _profile_entry("github", "GitHub", hmac_profiles.GITHUB, profiled.github),
        _profile_entry("shopify", "Shopify", hmac_profiles.SHOPIFY, profiled.shopify),
        _profile_entry("checkout-com", "Checkout.com", hmac_profiles.CHECKOUT_COM, profiled.checkout_com),
        _profile_entry(
            "square", "Square", hmac_profiles.SQUARE, profiled.square, extras=("notification_url",)
        ),
        _profile_entry(
            "gocardless",
            "GoCardless",
            hmac_profiles.GOCARDLESS,
            profiled.gocardless,
            event_type_field="resource_type",
        ),
        ADYEN,
        BRAINTREE,
    )
}
"""Every catalogue provider by name; a stack accepts those its `providers` setting names."""
