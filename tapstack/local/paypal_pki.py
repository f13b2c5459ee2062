"""A local stand-in for PayPal's signing PKI, so that PayPal deliveries are verified as in production.

PayPal signs with a certificate fetched from PayPal's API host, which must chain to the pinned
DigiCert root and name PayPal's signing host. Locally a small PKI is made in memory (`LocalPaypal`:
a root, an intermediate and a leaf for `messageverificationcerts.paypal.com`), events are signed
with the leaf's key and name `LOCAL_PAYPAL_CERT_URL` (a live PayPal certificate URL, so the
receiver's URL, chain and name checks run unchanged), and the receiver is given a fetcher that
answers that one URL with the leaf and intermediate, and the local root as its trust anchor.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from handlers.providers import paypal

LOCAL_PAYPAL_CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-tapstack-local"


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None,
    start: datetime,
    days: int,
    host: str | None = None,
) -> x509.Certificate:
    """A CA certificate (`host` None) or a TLS-style leaf for `host`, with RFC 5280's extensions."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signing_key = (name, key) if issuer is None else (issuer[0].subject, issuer[1])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=host is None, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=host is not None,
                content_commitment=False,
                key_encipherment=host is not None,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=host is None,
                crl_sign=host is None,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if host is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


class LocalPaypal:
    """A stand-in for PayPal's signing PKI, made in memory once per process: root, intermediate, leaf.

    The options make the forgeries the receiver must refuse: a leaf for another `host`, a
    `self_signed` leaf, a chain whose intermediate has its own validity window.
    """

    def __init__(
        self,
        url: str = LOCAL_PAYPAL_CERT_URL,
        valid_days: int = 30,
        valid_from_days: int = -1,
        *,
        host: str = paypal.SIGNING_HOSTS["live"],
        self_signed: bool = False,
        intermediate_days: tuple[int, int] = (-365, 3650),
    ) -> None:
        self.url = url
        now = datetime.now(UTC)
        root_key, intermediate_key, self._key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)
        )
        root = _certificate("TapStack Local Root", root_key, None, now - timedelta(days=365), 3650)
        intermediate = _certificate(
            "TapStack Local Intermediate",
            intermediate_key,
            (root, root_key),
            now + timedelta(days=intermediate_days[0]),
            intermediate_days[1],
        )
        start = now + timedelta(days=valid_from_days)
        if self_signed:
            leaf = _certificate(host, self._key, None, start, valid_days, host)
            chain = [leaf]
        else:
            leaf = _certificate(host, self._key, (intermediate, intermediate_key), start, valid_days, host)
            chain = [leaf, intermediate]
        self.pem = b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in chain)
        self.trust = paypal.TrustAnchors(roots=root.public_bytes(serialization.Encoding.PEM))

    def fetch(self, url: str) -> bytes:
        """The receiver's certificate fetcher: only the local certificate's URL answers."""
        if url != self.url:
            raise LookupError(f"no local certificate at {url}")
        return self.pem

    def headers(self, body: bytes, webhook_id: str, now: int) -> dict[str, str]:
        transmission_id = str(uuid.uuid4())
        moment = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = paypal.signed_message(transmission_id, moment, webhook_id, body)
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": moment,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode("ascii"),
            "PAYPAL-CERT-URL": self.url,
            "PAYPAL-AUTH-ALGO": paypal.ALGORITHM,
        }
