"""One HMAC verifier driven by a declarative profile, and the built-in profiles of the catalogue.

A profile says where the signature is (its header, and the header's format), what is signed (a
template over the raw body, the timestamp, the id header and the notification URL), the algorithm,
how the signature and the key are encoded, the timestamp tolerance where the scheme has a timestamp,
and where each event's id comes from (a header, or a JSON pointer into each event of a batch).

Every configured key (the current one first, then the previous ones during rotation) is tried against
every candidate signature, and every pair is compared in constant time, so that the time taken does
not depend on which one matched. Where a scheme signs no timestamp, a captured delivery can be
replayed for ever: deduplication by event id (the table's conditional write) is then the replay
defence, and each profile says so in `replay_defence`.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.http import Headers
from handlers.core.jsonbody import parse_object
from handlers.core.secrets import ProviderMaterial
from handlers.providers import TOLERANCE_SECONDS, CatalogueVerifier, Splitter, VerifiedEvent

MAX_SIGNATURE_HEADER_LENGTH = 2048
"""Bounds the HMAC work an unauthenticated request can cause (a few keys x a few candidates)."""
MAX_CANDIDATES = 8
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_FIELD = re.compile(r"\{(body|timestamp|id|url)\}")


class SignatureFormat(StrEnum):
    """How a signature header carries its candidates."""

    BARE = "bare"
    """The whole value is one signature (Shopify, Checkout.com, Square, GoCardless)."""
    PREFIXED = "prefixed"
    """`<label><signature>`, such as GitHub's `sha256=<hex>`."""
    SPACED_LIST = "spaced-list"
    """Space-separated `<label>,<signature>` entries; other labels ignored (Standard Webhooks' `v1,<b64>`)."""
    KEYED_LIST = "keyed-list"
    """Comma-separated `t=<unix>,<label>=<signature>` entries: the timestamp travels in the same header."""


class Encoding(StrEnum):
    HEX = "hex"
    """Lower-case hex, compared as text (what the vendor's own libraries compare)."""
    HEX_ANY_CASE = "hex-any-case"
    """Hex of either case: the vendor compares case-insensitively (Checkout.com sends upper case)."""
    BASE64 = "base64"


class KeyDecoding(StrEnum):
    TEXT = "text"
    """The key's UTF-8 bytes."""
    BASE64 = "base64"
    WHSEC = "whsec"
    """Standard Webhooks: an optional `whsec_` prefix, then base64 (padding optional)."""
    HEX = "hex"


@dataclass(frozen=True, slots=True)
class Profile:
    """A declarative HMAC scheme (see the module docstring)."""

    signature_headers: tuple[str, ...]
    """The header that carries the signature; later names are aliases tried when the first is absent."""
    signed: str
    """The signed content: literal text with `{body}`, `{timestamp}`, `{id}` and `{url}` fields."""
    encoding: Encoding
    key_decoding: KeyDecoding = KeyDecoding.TEXT
    signature_format: SignatureFormat = SignatureFormat.BARE
    label: str = ""
    """The scheme label of PREFIXED (`sha256=`), SPACED_LIST (`v1`) and KEYED_LIST (`v1`) formats."""
    algorithm: str = "sha256"
    timestamp_headers: tuple[str, ...] = ()
    """Where the timestamp is, aliases as for the signature (KEYED_LIST formats carry it as `t=`)."""
    tolerance_seconds: int | None = None
    """Accepted clock difference either way; None when the scheme has no timestamp."""
    id_headers: tuple[str, ...] = ()
    """The header naming the delivery's event (signed when `{id}` is in `signed`)."""
    batch_pointer: str | None = None
    """A JSON pointer to the array of events in the body; None: the body is one event."""
    event_id_pointer: str | None = None
    """A JSON pointer into each event to its id; None: the id header names the event."""
    type_headers: tuple[str, ...] = ()
    """Where the event type is when the body does not say it (GitHub, Shopify): each event's document
    is then `{"type": <header value or null>, "object": <the body>}`."""
    replay_defence: str = ""

    def __post_init__(self) -> None:
        hashlib.new(self.algorithm)  # an unknown algorithm fails when the profile is defined
        if "{timestamp}" in self.signed and self.tolerance_seconds is None:
            raise ValueError("a signed timestamp needs a tolerance")

    @property
    def has_timestamp(self) -> bool:
        return self.tolerance_seconds is not None

    @property
    def header_names(self) -> tuple[str, ...]:
        """Every header the scheme reads (the WAF redacts the signature ones from its logs)."""
        return self.signature_headers + self.timestamp_headers + self.id_headers + self.type_headers


@dataclass(frozen=True, slots=True)
class _Signed:
    """What one delivery's signature is checked against."""

    candidates: tuple[str, ...]
    timestamp: int | None
    event_id: str | None


def _first(headers: Headers, names: tuple[str, ...]) -> str | None:
    return next((value for name in names if (value := headers.get(name)) is not None), None)


def _timestamp(text: str | None) -> int:
    if text is None or not _TIMESTAMP.fullmatch(text):
        raise RejectionError(Reason.SIGNATURE_MISSING)
    return int(text)


def _read(profile: Profile, headers: Headers) -> _Signed:
    """The candidate signatures, timestamp and event id of a delivery, or a 401 `signature_missing`."""
    header = _first(headers, profile.signature_headers)
    if not header or len(header) > MAX_SIGNATURE_HEADER_LENGTH:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    timestamp_text = _first(headers, profile.timestamp_headers)
    match profile.signature_format:
        case SignatureFormat.BARE:
            candidates = [header]
        case SignatureFormat.PREFIXED:
            candidates = [header.removeprefix(profile.label)] if header.startswith(profile.label) else []
        case SignatureFormat.SPACED_LIST:
            listed = [entry.partition(",") for entry in header.split(" ")]
            candidates = [value for label, _, value in listed if label == profile.label and value]
        case SignatureFormat.KEYED_LIST:
            entries = [entry.partition("=") for entry in header.split(",")]
            stamps = {value for key, _, value in entries if key == "t"}
            candidates = [value for key, _, value in entries if key == profile.label and value]
            timestamp_text = stamps.pop() if len(stamps) == 1 else None
    if not candidates or len(candidates) > MAX_CANDIDATES:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    event_id = _first(headers, profile.id_headers)
    if "{id}" in profile.signed and not event_id:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    timestamp = _timestamp(timestamp_text) if profile.has_timestamp else None
    return _Signed(tuple(candidates), timestamp, event_id)


@functools.lru_cache(maxsize=64)
def decode_key(key: str, decoding: KeyDecoding) -> bytes:
    """The HMAC key bytes of a configured key; a ValueError (without the key) when it cannot be decoded."""
    try:
        match decoding:
            case KeyDecoding.TEXT:
                return key.encode("utf-8")
            case KeyDecoding.HEX:
                return bytes.fromhex(key)
            case KeyDecoding.BASE64:
                return base64.b64decode(key, validate=True)
            case KeyDecoding.WHSEC:
                text = key.removeprefix("whsec_")
                return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        pass
    raise ValueError(f"a signing key is not {decoding}")


@functools.lru_cache(maxsize=32)
def _template(signed: str) -> list[str]:
    """The signed template split once per profile: literal text and field names, alternately."""
    return _FIELD.split(signed)


def _content(profile: Profile, body: bytes, signed: _Signed, material: ProviderMaterial) -> bytes:
    values = {
        "timestamp": str(signed.timestamp).encode(),
        "id": (signed.event_id or "").encode(),
        "url": material.extras.get("notification_url", "").encode(),
    }
    parts = _template(profile.signed)
    # split() alternates literal text and field names: even indexes are literals, odd ones fields.
    return b"".join(
        part.encode() if index % 2 == 0 else body if part == "body" else values[part]
        for index, part in enumerate(parts)
    )


def _encode(profile: Profile, digest: bytes) -> str:
    if profile.encoding is Encoding.BASE64:
        return base64.b64encode(digest).decode("ascii")
    return digest.hex()


def signature(
    profile: Profile, body: bytes, key: str, timestamp: int | None, event_id: str | None, url: str
) -> str:
    """The signature of `body` as the provider computes it (without the header's label)."""
    material = ProviderMaterial((key,), {"notification_url": url})
    content = _content(profile, body, _Signed((), timestamp, event_id), material)
    digest = hmac.new(decode_key(key, profile.key_decoding), content, profile.algorithm).digest()
    return _encode(profile, digest)


def verify_signature(
    profile: Profile, headers: Headers, body: bytes, material: ProviderMaterial, now: float
) -> None:
    """Check the delivery's signature (`events` then reads its events).

    401 `signature_missing` (malformed or absent headers), `signature_invalid`, `signature_expired`;
    503 (UnavailableError) when a configured key cannot be decoded, so that the provider retries
    after the operator fixes the secret.
    """
    keys = [key for key in material.signing_keys if isinstance(key, str)]
    if not keys:
        raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
    if "{url}" in profile.signed and not material.extras.get("notification_url"):
        raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
    signed = _read(profile, headers)
    content = _content(profile, body, signed, material)
    try:
        expected = [
            _encode(
                profile, hmac.new(decode_key(key, profile.key_decoding), content, profile.algorithm).digest()
            )
            for key in keys
        ]
    except ValueError as error:
        raise UnavailableError(str(error)) from None
    folded = profile.encoding is Encoding.HEX_ANY_CASE
    matched = False
    for candidate in signed.candidates:
        text = candidate.lower() if folded else candidate
        for digest in expected:
            matched |= hmac.compare_digest(text.encode("utf-8", "replace"), digest.encode())
    if not matched:
        raise RejectionError(Reason.SIGNATURE_INVALID)
    tolerance = profile.tolerance_seconds
    if signed.timestamp is not None and tolerance is not None and abs(now - signed.timestamp) > tolerance:
        raise RejectionError(Reason.SIGNATURE_EXPIRED)


def pointer(document: object, path: str) -> object:
    """The value at a JSON pointer (RFC 6901), or None where a step is missing."""
    value = document
    for raw in path.split("/")[1:]:
        step = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def events(profile: Profile, headers: Headers, body: bytes) -> list[VerifiedEvent]:
    """The events of an authenticated body: one, or each item of the batch (the profile's `Splitter`).

    Raises a 400 RejectionError when the body cannot be read: the receiver quarantines the delivery.
    An event's id is "" when it has none; the receiver then keys it by the body's hash.
    """
    document = parse_object(body)
    if profile.batch_pointer is None:
        items: list[object] = [document]
    else:
        batch = pointer(document, profile.batch_pointer)
        if not isinstance(batch, list) or not batch:
            raise RejectionError(Reason.INVALID_EVENT, f"{profile.batch_pointer} is not a list of events")
        items = batch
    found: list[VerifiedEvent] = []
    for item in items:
        if not isinstance(item, dict):
            raise RejectionError(Reason.INVALID_EVENT, "an event of the batch is not an object")
        if profile.event_id_pointer is None:
            event_id = _first(headers, profile.id_headers) or ""
        else:
            value = pointer(item, profile.event_id_pointer)
            event_id = value if isinstance(value, str) else ""
        event: Mapping[str, object] = item
        if profile.type_headers:
            event = {"type": _first(headers, profile.type_headers), "object": item}
        found.append(VerifiedEvent(event, event_id))
    return found


def splitter(profile: Profile) -> Splitter:
    """The events of an authenticated delivery signed as `profile` says (`events`)."""
    return functools.partial(events, profile)


def verifier(profile: Profile) -> CatalogueVerifier:
    """The catalogue verifier of `profile`: authenticate, then split into events."""

    def verify(headers: Headers, body: bytes, material: ProviderMaterial, now: float) -> list[VerifiedEvent]:
        verify_signature(profile, headers, body, material, now)
        return events(profile, headers, body)

    return verify


def signer(
    profile: Profile, id_header_value: Callable[[bytes], str] | None = None
) -> Callable[[bytes, ProviderMaterial, int], dict[str, str]]:
    """Sign as the provider does with the current key: the headers of a delivery of `body` at `now`."""

    def sign(body: bytes, material: ProviderMaterial, now: int) -> dict[str, str]:
        key = material.signing_keys[0]
        assert isinstance(key, str)
        event_id = id_header_value(body) if id_header_value and profile.id_headers else None
        timestamp = now if profile.has_timestamp else None
        value = signature(
            profile, body, key, timestamp, event_id, material.extras.get("notification_url", "")
        )
        headers: dict[str, str] = {}
        match profile.signature_format:
            case SignatureFormat.BARE:
                headers[profile.signature_headers[0]] = value
            case SignatureFormat.PREFIXED:
                headers[profile.signature_headers[0]] = profile.label + value
            case SignatureFormat.SPACED_LIST:
                headers[profile.signature_headers[0]] = f"{profile.label},{value}"
            case SignatureFormat.KEYED_LIST:
                headers[profile.signature_headers[0]] = f"t={now},{profile.label}={value}"
        if profile.timestamp_headers:
            headers[profile.timestamp_headers[0]] = str(now)
        if event_id is not None:
            headers[profile.id_headers[0]] = event_id
        return headers

    return sign


NO_TIMESTAMP = "no timestamp is signed: deduplication by event id is the replay defence"

STANDARD_WEBHOOKS = Profile(
    signature_headers=("webhook-signature", "svix-signature"),
    timestamp_headers=("webhook-timestamp", "svix-timestamp"),
    id_headers=("webhook-id", "svix-id"),
    signed="{id}.{timestamp}.{body}",
    signature_format=SignatureFormat.SPACED_LIST,
    label="v1",
    encoding=Encoding.BASE64,
    key_decoding=KeyDecoding.WHSEC,
    tolerance_seconds=TOLERANCE_SECONDS,
    replay_defence="the signed timestamp (±300 s), then deduplication by the signed webhook-id",
)
"""Standard Webhooks (Svix and the services it powers): `webhook-signature: v1,<b64> …`.

The Svix-branded `svix-*` headers are accepted as aliases, as the Svix libraries accept them. Only
symmetric `v1` signatures are verified; an asymmetric `v1a` (Ed25519) signature alone is refused.
"""

GITHUB = Profile(
    signature_headers=("x-hub-signature-256",),
    id_headers=("x-github-delivery",),
    type_headers=("x-github-event",),
    signed="{body}",
    signature_format=SignatureFormat.PREFIXED,
    label="sha256=",
    encoding=Encoding.HEX,
    replay_defence=NO_TIMESTAMP + " (X-GitHub-Delivery, unsigned, else the body's hash)",
)

SHOPIFY = Profile(
    signature_headers=("x-shopify-hmac-sha256", "shopify-hmac-sha256"),
    id_headers=("x-shopify-webhook-id", "shopify-webhook-id"),
    type_headers=("x-shopify-topic", "shopify-topic"),
    signed="{body}",
    encoding=Encoding.BASE64,
    replay_defence=NO_TIMESTAMP + " (X-Shopify-Webhook-Id, unsigned, else the body's hash)",
)

CHECKOUT_COM = Profile(
    signature_headers=("cko-signature",),
    signed="{body}",
    encoding=Encoding.HEX_ANY_CASE,
    event_id_pointer="/id",
    replay_defence=NO_TIMESTAMP + " (the body's `id`)",
)

SQUARE = Profile(
    signature_headers=("x-square-hmacsha256-signature",),
    signed="{url}{body}",
    encoding=Encoding.BASE64,
    event_id_pointer="/event_id",
    replay_defence=NO_TIMESTAMP + " (the body's `event_id`)",
)
"""The notification URL is the subscription's, exactly as configured: the material's `notification_url`."""

GOCARDLESS = Profile(
    signature_headers=("webhook-signature",),
    signed="{body}",
    encoding=Encoding.HEX,
    batch_pointer="/events",
    event_id_pointer="/id",
    replay_defence=NO_TIMESTAMP + " (each event's `id`)",
)
