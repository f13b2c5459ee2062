# ruff: noqa: PLC0415 -- cryptography is imported inside functions, only on the PayPal path, for cold start
"""PayPal: the certificate method of webhook verification, done locally (no call to PayPal's API).

The signed string is `"{transmission id}|{transmission time}|{webhook id}|{crc32 of raw body}"`
(CRC32 as an unsigned decimal), signed RSA-SHA256/PKCS#1 v1.5 with the key of the certificate at
PAYPAL-CERT-URL. The certificate is trusted the way PayPal's own SDKs trust it, and more strictly:

* the URL is `https://<PayPal API host of the configured environment>/v1/notifications/certs/...`
  (live: api.paypal.com, api-m.paypal.com; sandbox: api.sandbox.paypal.com, api-m.sandbox.paypal.com),
  no userinfo, no port but 443; redirects are refused by the fetcher;
* the leaf chains (cryptography's RFC 5280 path validation, at the time of verification, every
  certificate in the path within its validity) to the DigiCert root PayPal's SDKs pin, through the
  pinned DigiCert intermediate or one the URL serves with the leaf;
* the leaf names exactly PayPal's message-verification host of that environment
  (`messageverificationcerts.paypal.com`, or `messageverificationcerts.sandbox.paypal.com`), allows
  digital signatures, and holds an RSA key of at least 2048 bits.

The chain and name are checked once per URL and cached with the certificate (bounded cache); each
request then only re-checks the cached path's validity window. There is no freshness window on the
transmission time: PayPal does not document that retries are re-timestamped, and a replay is harmless
because storage deduplicates on the event id.

`cryptography` is imported only on this path: it costs cold start the other providers do not need.
Amounts are decimal strings, checked against the currency's ISO 4217 decimal places.
"""

import base64
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.http import Headers
from handlers.core.model import Transaction
from handlers.core.secrets import VerificationMaterial

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

ALGORITHM = "SHA256withRSA"
MAX_HEADER_LENGTH = 1024
MAX_CACHED_CERTIFICATES = 16
MIN_RSA_KEY_BITS = 2048
CERTIFICATE_PATH_PREFIX = "/v1/notifications/certs/"
API_HOSTS = {
    "live": ("api.paypal.com", "api-m.paypal.com"),
    "sandbox": ("api.sandbox.paypal.com", "api-m.sandbox.paypal.com"),
}
SIGNING_HOSTS = {
    "live": "messageverificationcerts.paypal.com",
    "sandbox": "messageverificationcerts.sandbox.paypal.com",
}
PLACEHOLDER_WEBHOOK_IDS = frozenset({"", "WEBHOOK_ID"})
"""Not configuration: empty (the template's placeholder), or the literal PayPal's simulator signs with."""
PINNED_TRUST = Path(__file__).with_name("paypal_trust")
"""DigiCert's root and EV intermediate, as PayPal's SDKs pin them (README: fingerprints, refreshing)."""
_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
)


def certificate_url_allowed(url: str, environment: str = "live") -> bool:
    """True only for `https://<environment's API host>[:443]/v1/notifications/certs/...`."""
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
        and host in API_HOSTS.get(environment, ())
        and parts.path.startswith(CERTIFICATE_PATH_PREFIX)
        and ".." not in parts.path
    )


@dataclass(frozen=True)
class TrustAnchors:
    """PEM bytes of the roots to trust and of intermediates that may complete a path to them."""

    roots: bytes
    intermediates: bytes = b""

    @classmethod
    def pinned(cls) -> "TrustAnchors":
        return cls(
            roots=(PINNED_TRUST / "DigiCertHighAssuranceEVRootCA.pem").read_bytes(),
            intermediates=(PINNED_TRUST / "DigiCertSHA2ExtendedValidationServerCA.pem").read_bytes(),
        )


@dataclass(frozen=True)
class SigningKey:
    """The key of a leaf whose path and name were verified, and the window in which that path is valid."""

    key: "RSAPublicKey"
    valid_from: datetime
    valid_until: datetime


class CertificateCache:
    """Verified signing certificates by URL; `fetch` does the I/O (HTTPS with a short timeout, or a stub)."""

    def __init__(self, fetch: Callable[[str], bytes], trust: TrustAnchors | None = None) -> None:
        self._fetch = fetch
        self._trust = trust or TrustAnchors.pinned()
        self._certificates: dict[tuple[str, str], SigningKey] = {}

    def get(self, url: str, environment: str, moment: datetime) -> "RSAPublicKey":
        """The signing key of the certificate at `url`, verified for `environment` at `moment`."""
        if not certificate_url_allowed(url, environment):
            raise RejectionError(
                Reason.SIGNATURE_INVALID, f"the certificate URL is not a PayPal {environment} certificate URL"
            )
        signing = self._certificates.get((url, environment))
        if signing is None:
            try:
                pem = self._fetch(url)
            except Exception as error:  # any I/O failure: the sender should retry later
                raise UnavailableError("fetching the PayPal certificate failed") from error
            signing = _verified(pem, environment, moment, self._trust)
            if len(self._certificates) >= MAX_CACHED_CERTIFICATES:
                del self._certificates[next(iter(self._certificates))]
            self._certificates[(url, environment)] = signing
        if not signing.valid_from <= moment <= signing.valid_until:
            raise RejectionError(
                Reason.SIGNATURE_INVALID, "a certificate of the chain is outside its validity"
            )
        return signing.key


def _verified(pem: bytes, environment: str, moment: datetime, trust: TrustAnchors) -> SigningKey:
    """Path-validate the first certificate of `pem` to the trusted roots, for PayPal's signing host."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    try:
        served = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise RejectionError(Reason.SIGNATURE_INVALID, "the certificate is unreadable") from None
    leaf, *served_intermediates = served
    host = SIGNING_HOSTS[environment]
    verifier = (
        PolicyBuilder()
        .store(Store(x509.load_pem_x509_certificates(trust.roots)))
        .time(moment)
        .build_server_verifier(x509.DNSName(host))
    )
    intermediates: list[x509.Certificate] = [
        *served_intermediates,
        *(x509.load_pem_x509_certificates(trust.intermediates) if trust.intermediates else []),
    ]
    try:
        path = verifier.verify(leaf, intermediates)
    except VerificationError:
        raise RejectionError(
            Reason.SIGNATURE_INVALID,
            f"the certificate does not chain to the pinned roots for {host} at the verification time",
        ) from None
    key = leaf.public_key()
    if not isinstance(key, RSAPublicKey) or key.key_size < MIN_RSA_KEY_BITS:
        raise RejectionError(Reason.SIGNATURE_INVALID, "the certificate key is not RSA of 2048 bits or more")
    try:
        signs = leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    except x509.ExtensionNotFound:
        signs = False
    if not signs:
        raise RejectionError(
            Reason.SIGNATURE_INVALID, "the certificate's key usage does not allow signatures"
        )
    return SigningKey(
        key,
        valid_from=max(certificate.not_valid_before_utc for certificate in path),
        valid_until=min(certificate.not_valid_after_utc for certificate in path),
    )


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
    from cryptography.hazmat.primitives.hashes import SHA256

    if material.paypal_webhook_id in PLACEHOLDER_WEBHOOK_IDS:
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
    key = certificates.get(cert_url, material.paypal_environment, datetime.fromtimestamp(now, UTC))
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
