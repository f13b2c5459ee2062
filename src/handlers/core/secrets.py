"""Verification material from the webhook secret, and a TTL cache so rotation needs no deploy."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeGuard, TypeVar

T = TypeVar("T")
PAYPAL_ENVIRONMENTS = ("live", "sandbox")


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

    @classmethod
    def from_secret_string(cls, secret_string: str) -> "VerificationMaterial":
        """Parse the SecretString JSON; raise ValueError (without the values) when it is malformed."""
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
        )


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


@dataclass(frozen=True, slots=True)
class PaypalClient:
    """A PayPal REST app's credentials: its OAuth token is what lists the event log."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """Read-only provider API credentials from the webhook secret, current first; empty: not configured.

    `stripe_api_keys`: restricted keys with read access to events; `paypal_api_credentials`: a list of
    `{"client_id", "client_secret"}`. Excluded from repr so that logging this object cannot leak them.
    """

    stripe_api_keys: tuple[str, ...] = field(repr=False)
    paypal_clients: tuple[PaypalClient, ...] = field(repr=False)
    paypal_environment: str = "live"

    @classmethod
    def from_secret_string(cls, secret_string: str) -> "ApiCredentials":
        """Parse the SecretString JSON; raise ValueError (without the values) when it is malformed."""
        document = json.loads(secret_string, parse_float=Decimal)
        if not isinstance(document, dict):
            raise ValueError("the webhook secret must be a JSON object")
        clients = document.get("paypal_api_credentials", [])
        if not isinstance(clients, list) or not all(
            isinstance(item, dict)
            and _is_utf8_text(item.get("client_id"))
            and _is_utf8_text(item.get("client_secret"))
            for item in clients
        ):
            raise ValueError("paypal_api_credentials must be a list of {client_id, client_secret} strings")
        return cls(
            stripe_api_keys=_texts(document, "stripe_api_keys"),
            paypal_clients=tuple(
                PaypalClient(item["client_id"], item["client_secret"])
                for item in clients
                if item["client_id"] and item["client_secret"]
            ),
            paypal_environment=_paypal_environment(document),
        )

    def configured(self, provider: str) -> bool:
        return bool(self.stripe_api_keys if provider == "stripe" else self.paypal_clients)
