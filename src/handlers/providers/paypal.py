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

Amounts are decimal strings; which money object of `resource` an event type carries, and what it
means, is `MEANINGS` (field names from PayPal's REST API references: Payments v2, Orders v2,
Disputes v1, Subscriptions v1, Payments v1).
"""

import base64
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from handlers.core import fields, money
from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.http import Headers
from handlers.core.model import Direction, Kind, Money, Transaction
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
SIMULATOR_WEBHOOK_ID = "WEBHOOK_ID"
"""The literal webhook id PayPal's webhook simulator signs with, whoever asks it to send."""
PLACEHOLDER_WEBHOOK_IDS = frozenset({"", SIMULATOR_WEBHOOK_ID})
"""Not configuration: empty (the template's placeholder), or the literal PayPal's simulator signs with."""
PINNED_TRUST = Path(__file__).with_name("paypal_trust")
"""DigiCert's root and EV intermediate, as PayPal's SDKs pin them (docs/webhooks.md: fingerprints)."""
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


def webhook_ids(material: VerificationMaterial) -> tuple[str, ...]:
    """The webhook ids a signature may be under: the configured one, then the previous ones still
    accepted during a rotation, and the simulator's literal `WEBHOOK_ID` where the stack opted in
    (AcceptPayPalSimulator, developer stacks only)."""
    configured = () if material.paypal_webhook_id in PLACEHOLDER_WEBHOOK_IDS else material.paypal_webhook_ids
    return configured + ((SIMULATOR_WEBHOOK_ID,) if material.paypal_accept_simulator else ())


def verify(
    headers: Headers, body: bytes, material: VerificationMaterial, now: float, certificates: CertificateCache
) -> None:
    verified_webhook_id(headers, body, material, now, certificates)


def verified_webhook_id(
    headers: Headers, body: bytes, material: VerificationMaterial, now: float, certificates: CertificateCache
) -> str:
    """The webhook id (of `webhook_ids`) the delivery is signed under, or a 401."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    candidates = webhook_ids(material)
    if not candidates:
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
    # The webhook id is part of the signed string: during a rotation the previous ids are tried after
    # the current one (a few RSA verifications at most; the list is the operator's).
    for webhook_id in candidates:
        message = signed_message(transmission_id, transmission_time, webhook_id, body)
        try:
            key.verify(signature, message, PKCS1v15(), SHA256())
        except InvalidSignature:
            continue
        return webhook_id
    raise RejectionError(Reason.SIGNATURE_INVALID)


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one event type's `resource` money means (docs/webhooks.md, "Money model")."""

    kind: Kind
    amount: str
    """Dotted path in `resource` to a money object, or `ORDER_TOTAL`."""
    direction: Direction | None = None
    """Which way this event moved the amount; None when it moved nothing."""
    related: tuple[str, ...] = ()
    """Paths (or `UP_LINK`) that may name the object this one belongs to; the first one present wins."""
    object_id: str = "id"
    optional: bool = False
    """The money object may be absent (a subscription before its first payment): then no money."""
    subscription_marker: str | None = None
    """A v1 sale carrying this field is a subscription's payment (PayPal names the subscription in it)."""


ORDER_TOTAL = "purchase_units[].amount"
"""An order's money: the sum of its purchase units' amounts, which must share one currency."""
UP_LINK = "links[rel=up]"
"""The id at the end of the resource's HATEOAS link to its parent (`rel: up`), as older captures,
refunds and authorizations name their order, authorization or capture only there."""

_CAPTURE_PARENT = (
    "supplementary_data.related_ids.authorization_id",
    "supplementary_data.related_ids.order_id",
    UP_LINK,
)
_AUTHORIZATION_PARENT = ("supplementary_data.related_ids.order_id", UP_LINK)
_REFUND_PARENT = ("supplementary_data.related_ids.capture_id", UP_LINK)
_SALE_PARENT = ("billing_agreement_id", "parent_payment")
_SALE_REFUND_PARENT = ("sale_id", "parent_payment")


def _every(types: str, meaning: Meaning) -> dict[str, Meaning]:
    return dict.fromkeys(types.split(), meaning)


MEANINGS: dict[str, Meaning] = {
    # Payments v2: authorizations, captures and refunds carry `amount` ({currency_code, value}).
    **_every(
        "PAYMENT.AUTHORIZATION.CREATED PAYMENT.AUTHORIZATION.VOIDED",
        Meaning(Kind.AUTHORIZATION, "amount", None, _AUTHORIZATION_PARENT),
    ),
    "PAYMENT.CAPTURE.COMPLETED": Meaning(Kind.CAPTURE, "amount", Direction.IN, _CAPTURE_PARENT),
    **_every(
        "PAYMENT.CAPTURE.PENDING PAYMENT.CAPTURE.DENIED PAYMENT.CAPTURE.DECLINED",
        Meaning(Kind.CAPTURE, "amount", None, _CAPTURE_PARENT),
    ),
    "PAYMENT.CAPTURE.REFUNDED": Meaning(Kind.REFUND, "amount", Direction.OUT, _REFUND_PARENT),
    "PAYMENT.CAPTURE.REVERSED": Meaning(Kind.REVERSAL, "amount", Direction.OUT, _REFUND_PARENT),
    # Orders v2: what the buyer approved; the money moves on the captures' own events.
    **_every("CHECKOUT.ORDER.APPROVED CHECKOUT.ORDER.COMPLETED", Meaning(Kind.CHECKOUT, ORDER_TOTAL)),
    # Disputes v1: the disputed amount; PayPal moves the money with PAYMENT.CAPTURE.REVERSED.
    **_every(
        "CUSTOMER.DISPUTE.CREATED CUSTOMER.DISPUTE.UPDATED CUSTOMER.DISPUTE.RESOLVED",
        Meaning(
            Kind.DISPUTE,
            "dispute_amount",
            related=("disputed_transactions.0.seller_transaction_id",),
            object_id="dispute_id",
        ),
    ),
    # Subscriptions v1: the last payment, reported again on every subscription event; the payment
    # itself is PAYMENT.SALE.COMPLETED.
    **_every(
        "BILLING.SUBSCRIPTION.CREATED BILLING.SUBSCRIPTION.ACTIVATED BILLING.SUBSCRIPTION.UPDATED "
        "BILLING.SUBSCRIPTION.SUSPENDED BILLING.SUBSCRIPTION.CANCELLED BILLING.SUBSCRIPTION.EXPIRED",
        Meaning(
            Kind.SUBSCRIPTION_PAYMENT, "billing_info.last_payment.amount", None, ("plan_id",), optional=True
        ),
    ),
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED": Meaning(
        Kind.SUBSCRIPTION_PAYMENT, "billing_info.last_failed_payment.amount", None, ("plan_id",)
    ),
    # Payments v1 sales ({total, currency}); subscriptions' payments are sales too.
    "PAYMENT.SALE.COMPLETED": Meaning(
        Kind.PAYMENT, "amount", Direction.IN, _SALE_PARENT, subscription_marker="billing_agreement_id"
    ),
    **_every(
        "PAYMENT.SALE.PENDING PAYMENT.SALE.DENIED",
        Meaning(Kind.PAYMENT, "amount", None, _SALE_PARENT, subscription_marker="billing_agreement_id"),
    ),
    # Payments v1 refunds: PayPal writes their totals negative; stored as magnitudes going out.
    "PAYMENT.SALE.REFUNDED": Meaning(Kind.REFUND, "amount", Direction.OUT, _SALE_REFUND_PARENT),
    "PAYMENT.SALE.REVERSED": Meaning(Kind.REVERSAL, "amount", Direction.OUT, _SALE_REFUND_PARENT),
}


def normalise(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
    """`{"id": "WH-...", "event_type", "create_time", "resource": {...}}`, read as `MEANINGS` says;
    a type it does not list is kind `other`, with the resource's id and no money.

    Money objects are `{"value", "currency_code"}` (v2 APIs) or `{"total", "currency"}` (v1).
    """
    resource = fields.mapping(document, "resource")
    event_type = fields.token(document, "event_type")
    event = Transaction(
        provider=provider,
        provider_event_id=fields.token(document, "id"),
        event_type=event_type,
        occurred_at=fields.iso_timestamp(document, "create_time"),
        amount=None,
        currency=None,
        status=fields.optional_token(resource, "status" if "status" in resource else "state"),
        body_sha256=body_sha256,
        kind=Kind.OTHER,
        object_id=fields.readable_reference(resource, "id"),
    )
    meaning = MEANINGS.get(event_type)
    if meaning is None:
        return event
    marker = meaning.subscription_marker
    return event.with_meaning(
        Kind.SUBSCRIPTION_PAYMENT if marker and resource.get(marker) is not None else meaning.kind,
        _money(resource, meaning),
        fields.reference_text(resource.get(meaning.object_id), f"resource.{meaning.object_id}"),
        fields.first_present(_related(resource, path) for path in meaning.related),
    )


def _money(resource: Mapping[str, object], meaning: Meaning) -> Money | None:
    if meaning.amount == ORDER_TOTAL:
        amount, currency, exponent = _order_total(resource)
    else:
        value = fields.at_path(resource, meaning.amount)
        if value is None and meaning.optional:
            return None
        amount, currency, exponent = _money_object(value, meaning.amount)
    return money.provider_money(amount, currency, exponent, meaning.direction)


def _money_object(value: object, where: str) -> tuple[Decimal, str, int]:
    """The signed amount, currency code and exponent of a v2 or v1 money object."""
    if not isinstance(value, Mapping):
        raise RejectionError(Reason.INVALID_EVENT, f"resource.{where} is missing or not an object")
    currency, exponent = money.currency_exponent(value.get("currency_code", value.get("currency")))
    return money.from_decimal_text(value.get("value", value.get("total"))), currency, exponent


def _order_total(order: Mapping[str, object]) -> tuple[Decimal, str, int]:
    """Several purchase units are one order under one event id: stored as their sum, in their
    one currency (the units stay in the archived body)."""
    units = order.get("purchase_units")
    if not isinstance(units, list) or not units:
        raise RejectionError(Reason.INVALID_EVENT, "resource.purchase_units is missing or empty")
    amounts = [
        _money_object(unit.get("amount") if isinstance(unit, Mapping) else None, "purchase_units[].amount")
        for unit in units
    ]
    currencies = {currency for _, currency, _ in amounts}
    if len(currencies) != 1:
        raise RejectionError(Reason.INVALID_EVENT, "purchase units are in different currencies")
    total = money.exact_sum(money.provider_money(*unit, None).amount for unit in amounts)
    _, currency, exponent = amounts[0]
    return total, currency, exponent


def _related(resource: Mapping[str, object], path: str) -> str | None:
    return _up_link(resource) if path == UP_LINK else fields.reference(resource, path)


def _up_link(resource: Mapping[str, object]) -> str | None:
    links = resource.get("links")
    hrefs = [
        link.get("href")
        for link in (links if isinstance(links, list) else [])
        if isinstance(link, Mapping) and link.get("rel") == "up"
    ]
    if not hrefs:
        return None
    tail = urlsplit(hrefs[0]).path.rpartition("/")[2] if isinstance(hrefs[0], str) else None
    return fields.reference_text(tail, "resource.links[rel=up].href")
