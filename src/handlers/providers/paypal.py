# ruff: noqa: PLC0415 -- cryptography is imported inside functions, only on the PayPal path, for cold start
"""PayPal: the certificate method of webhook verification, done locally (no call to PayPal's API).

The signed string is `"{transmission id}|{transmission time}|{webhook id}|{crc32 of raw body}"`
(CRC32 as an unsigned decimal), signed RSA-SHA256/PKCS#1 v1.5 with the key of the certificate at
PAYPAL-CERT-URL. The certificate is trusted because it is fetched over verified HTTPS from a
paypal.com host only; its validity window is checked, its chain is not. There is no freshness
window on the transmission time: PayPal does not document that retries are re-timestamped, and a
replay is harmless because storage deduplicates on the event id.

`cryptography` is imported only on this path: it costs cold start the other providers do not need.
Amounts are decimal strings, checked against the currency's ISO 4217 decimal places.
"""

import base64
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.http import Headers
from handlers.core.model import Transaction
from handlers.core.secrets import VerificationMaterial

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

ALGORITHM = "SHA256withRSA"
MAX_HEADER_LENGTH = 1024
MAX_CACHED_CERTIFICATES = 16
_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
)


def certificate_url_allowed(url: str) -> bool:
    """True only for `https://paypal.com/...` or `https://<sub>.paypal.com[:443]/...`."""
    if not url.isascii() or not url.isprintable() or "\\" in url or " " in url:
        return False  # urlsplit silently drops tabs and newlines; refuse anything it might rewrite
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and "@" not in parts.netloc
        and port in (None, 443)
        and parts.netloc.lower() in (host, f"{host}:443")
        and (host == "paypal.com" or host.endswith(".paypal.com"))
    )


class CertificateCache:
    """Signing certificates by URL; `fetch` does the I/O (HTTPS with a short timeout, or a test stub)."""

    def __init__(self, fetch: Callable[[str], bytes]) -> None:
        self._fetch = fetch
        self._certificates: dict[str, Certificate] = {}

    def get(self, url: str) -> "Certificate":
        from cryptography import x509

        if not certificate_url_allowed(url):
            raise RejectionError(
                Reason.SIGNATURE_INVALID, "the certificate URL is not a paypal.com HTTPS URL"
            )
        certificate = self._certificates.get(url)
        if certificate is None:
            try:
                pem = self._fetch(url)
            except Exception as error:  # any I/O failure: the sender should retry later
                raise UnavailableError("fetching the PayPal certificate failed") from error
            try:
                certificate = x509.load_pem_x509_certificate(pem)
            except ValueError:
                raise RejectionError(Reason.SIGNATURE_INVALID, "the certificate is unreadable") from None
            if len(self._certificates) >= MAX_CACHED_CERTIFICATES:
                del self._certificates[next(iter(self._certificates))]
            self._certificates[url] = certificate
        return certificate


def _header(headers: Headers, name: str) -> str:
    value = headers.get(name)
    if not value or len(value) > MAX_HEADER_LENGTH or "|" in value:  # "|" would shift the signed fields
        raise RejectionError(Reason.SIGNATURE_MISSING)
    return value


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()


def verify(
    headers: Headers, body: bytes, material: VerificationMaterial, now: float, certificates: CertificateCache
) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.hashes import SHA256

    if not material.paypal_webhook_id:
        raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
    if headers.get("paypal-auth-algo") != ALGORITHM:
        raise RejectionError(Reason.SIGNATURE_MISSING)
    transmission_id, transmission_time, encoded_signature, cert_url = (
        _header(headers, name) for name in _HEADERS
    )
    try:
        signature = base64.b64decode(encoded_signature, validate=True)
    except ValueError:
        raise RejectionError(Reason.SIGNATURE_MISSING) from None
    certificate = certificates.get(cert_url)
    moment = datetime.fromtimestamp(now, UTC)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise RejectionError(Reason.SIGNATURE_INVALID, "the certificate is outside its validity window")
    key = certificate.public_key()
    if not isinstance(key, RSAPublicKey):
        raise RejectionError(Reason.SIGNATURE_INVALID, "the certificate key is not RSA")
    message = signed_message(transmission_id, transmission_time, material.paypal_webhook_id, body)
    try:
        key.verify(signature, message, PKCS1v15(), SHA256())
    except InvalidSignature:
        raise RejectionError(Reason.SIGNATURE_INVALID) from None


def normalise(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """`{"id": "WH-...", "event_type", "create_time", "resource": {"amount", "status"|"state"}}`.

    `resource.amount` is `{"value", "currency_code"}` (v2 APIs) or `{"total", "currency"}` (v1).
    """
    resource = fields.mapping(document, "resource")
    amount = currency = None
    if resource.get("amount") is not None:
        money_object = fields.mapping(resource, "amount")
        currency, exponent = money.currency_exponent(
            money_object.get("currency_code", money_object.get("currency"))
        )
        amount = money.from_decimal_text(money_object.get("value", money_object.get("total")), exponent)
    status_key = "status" if "status" in resource else "state"
    return Transaction(
        provider=provider,
        provider_event_id=fields.token(document, "id"),
        event_type=fields.token(document, "event_type"),
        occurred_at=fields.iso_timestamp(document, "create_time"),
        amount=amount,
        currency=currency,
        status=fields.optional_token(resource, status_key),
        body_sha256=body_sha256,
    )
