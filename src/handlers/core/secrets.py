"""Verification material from the webhook secret, and a TTL cache so rotation needs no deploy."""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeGuard, TypeVar

T = TypeVar("T")
PAYPAL_ENVIRONMENTS = ("live", "sandbox")


CATALOGUE_KEYS = "signing_keys"


@dataclass(frozen=True, slots=True)
class ProviderMaterial:
    """A catalogue provider's material: `{"signing_keys": [current, previous…], …extras}`.

    Keys are strings for HMAC providers (objects for providers whose keys are pairs, such as
    Braintree's `{"public_key", "private_key"}`); extras are the provider's other settings, such as
    Square's `notification_url`. Values are excluded from repr.
    """

    signing_keys: tuple[object, ...] = field(repr=False)
    extras: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_document(cls, name: str, document: object) -> "ProviderMaterial":
        """Parse one provider's object; a ValueError naming the provider (never a value) when malformed."""
        if not isinstance(document, dict):
            raise ValueError(f"{name} must be an object with signing_keys")
        keys = document.get(CATALOGUE_KEYS, [])
        if not isinstance(keys, list) or not all(_is_utf8_text(key) or _is_text_object(key) for key in keys):
            raise ValueError(f"{name}.signing_keys must be a list of strings or of objects of strings")
        extras = {key: value for key, value in document.items() if key != CATALOGUE_KEYS}
        if not all(_is_utf8_text(value) for value in extras.values()):
            raise ValueError(f"{name}: every setting besides signing_keys must be a string")
        return cls(tuple(key for key in keys if key), extras)


def _is_text_object(value: object) -> bool:
    return isinstance(value, dict) and all(_is_utf8_text(item) for item in value.values())


@dataclass(frozen=True, slots=True)
class VerificationMaterial:
    """Secret values per provider; empty means "not configured" and every request is refused.

    Values are excluded from repr so that logging this object cannot leak them.
    """

    stripe_signing_secrets: tuple[str, ...] = field(repr=False)
    paypal_webhook_id: str = field(repr=False)
    internal_hmac_keys: tuple[str, ...] = field(repr=False)
    """The current key first, then the previous ones still accepted during rotation."""
    paypal_environment: str = "live"
    """`live` or `sandbox`: which PayPal certificate URLs and signing host are accepted."""
    paypal_previous_webhook_ids: tuple[str, ...] = field(default=(), repr=False)
    """Webhook ids still accepted after `paypal_webhook_id` was replaced (`tapstack register --rotate`)."""
    catalogue: Mapping[str, ProviderMaterial] = field(default_factory=dict, repr=False)
    """Per catalogue provider (handlers.providers.catalogue), its material: the top-level object named
    by the provider (the other top-level keys are never objects)."""
    paypal_accept_simulator: bool = False
    """Not from the secret: the stack's AcceptPayPalSimulator, which the receiver's adapter sets."""

    @property
    def paypal_webhook_ids(self) -> tuple[str, ...]:
        """The current webhook id first, then the previous ones still accepted during rotation."""
        return (self.paypal_webhook_id, *self.paypal_previous_webhook_ids)

    @classmethod
    def from_secret_string(cls, secret_string: str) -> "VerificationMaterial":
        """Parse the SecretString JSON; raise ValueError (without the values) when it is malformed.

        Every top-level object is a catalogue provider's material, under the provider's name.
        """
        document = json.loads(secret_string, parse_float=Decimal)
        if not isinstance(document, dict):
            raise ValueError("the webhook secret must be a JSON object")
        current = _text(document, "internal_hmac_key")
        return cls(
            stripe_signing_secrets=_texts(document, "stripe_signing_secrets"),
            paypal_webhook_id=_text(document, "paypal_webhook_id"),
            internal_hmac_keys=((current,) if current else ())
            + _texts(document, "internal_hmac_previous_keys"),
            paypal_environment=_paypal_environment(document),
            paypal_previous_webhook_ids=_texts(document, "paypal_previous_webhook_ids"),
            catalogue={
                name: ProviderMaterial.from_document(name, value)
                for name, value in document.items()
                if isinstance(value, dict)
            },
        )


@dataclass(frozen=True, slots=True)
class PaypalApiCredential:
    """One PayPal REST app's client id and secret, exchanged for an OAuth token."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """Provider API credentials from the webhook secret, the current one of each first (rotation keeps
    the previous ones after it). Not verification material: the receiver never reads them; registration
    and reconciliation call the providers' APIs with them. Excluded from repr so logging cannot leak them.
    """

    stripe_api_keys: tuple[str, ...] = field(repr=False)
    """Stripe restricted keys (`rk_...`): read events, write webhook endpoints."""
    paypal_api_credentials: tuple[PaypalApiCredential, ...] = field(repr=False)
    paypal_environment: str = "live"
    """Which PayPal API the credentials belong to (the webhook secret's `paypal_environment`)."""

    @classmethod
    def from_secret_string(cls, secret_string: str) -> "ApiCredentials":
        """Parse the SecretString JSON; raise ValueError (without the values) when it is malformed."""
        document = json.loads(secret_string, parse_float=Decimal)
        if not isinstance(document, dict):
            raise ValueError("the webhook secret must be a JSON object")
        return cls(
            stripe_api_keys=_texts(document, "stripe_api_keys"),
            paypal_api_credentials=_paypal_credentials(document),
            paypal_environment=_paypal_environment(document),
        )

    def configured(self, provider: str) -> bool:
        """Whether the secret holds credentials for `provider`'s API (else it is not reconciled)."""
        return bool(self.stripe_api_keys if provider == "stripe" else self.paypal_api_credentials)


def _paypal_credentials(document: dict[str, object]) -> tuple[PaypalApiCredential, ...]:
    entries = document.get("paypal_api_credentials", [])
    problem = 'paypal_api_credentials must be a list of {"client_id": ..., "client_secret": ...}'
    if not isinstance(entries, list):
        raise ValueError(problem)
    credentials = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"client_id", "client_secret"}:
            raise ValueError(problem)
        client_id, client_secret = entry["client_id"], entry["client_secret"]
        if not (_is_utf8_text(client_id) and _is_utf8_text(client_secret)):
            raise ValueError(problem)
        if client_id and client_secret:
            credentials.append(PaypalApiCredential(client_id, client_secret))
    return tuple(credentials)


def _is_utf8_text(value: object) -> TypeGuard[str]:
    """A str UTF-8 can encode: a JSON `\\ud800` escape yields a lone surrogate, which cannot key an HMAC."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _paypal_environment(document: dict[str, object]) -> str:
    environment = document.get("paypal_environment", "live")
    if environment not in PAYPAL_ENVIRONMENTS:
        raise ValueError("paypal_environment must be live or sandbox")
    return str(environment)


def _text(document: dict[str, object], key: str) -> str:
    value = document.get(key, "")
    if not _is_utf8_text(value):
        raise ValueError(f"{key} must be a string")
    return value


def _texts(document: dict[str, object], key: str) -> tuple[str, ...]:
    values = document.get(key, [])
    if not isinstance(values, list) or not all(_is_utf8_text(value) for value in values):
        raise ValueError(f"{key} must be a list of strings")
    return tuple(value for value in values if value)


class TtlCache(Generic[T]):
    """A value loaded on first use and reloaded once it is older than `ttl_seconds`.

    A failed reload raises rather than serving the stale value: a revoked key must stop working.
    """

    def __init__(
        self, load: Callable[[], T], ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ):
        self._load = load
        self._ttl = ttl_seconds
        self._clock = clock
        self._value: T | None = None
        self._loaded_at = 0.0

    def get(self) -> T:
        now = self._clock()
        if self._value is None or now - self._loaded_at >= self._ttl:
            self._value = self._load()
            self._loaded_at = now
        return self._value
