"""`tapstack verify`: what the receiver would answer to a captured delivery, without AWS.

The captured headers and body become the request API Gateway would send (`delivery.api_gateway_event`),
and the receiver's own core decides on it (`Receiver.receive`) with the webhook secret's material from
a file and the clock at the given moment: route, media type, size, signature, then normalisation or
quarantine, exactly as deployed. What the function adds around the core (loading the secret, the
hand-off to the processor) is not run; neither is API Gateway's API key check on `/transactions`.

PayPal: the certificate at the delivery's PAYPAL-CERT-URL is fetched as the receiver fetches it, or
read from a PEM file (the leaf first, then any intermediates, as the URL serves them). Either way the
URL is checked and the chain is path-validated against the DigiCert anchors pinned in the artifact, at
the given moment: a captured real delivery verifies only if its real chain does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.http import HttpRequest
from handlers.core.model import Transaction, json_safe
from handlers.core.receiving import Receiver
from handlers.core.secrets import VerificationMaterial
from handlers.providers.paypal import CertificateCache, TrustAnchors
from tapstack.local.delivery import ApiIdentity, Route, api_gateway_event

UNIX_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")
ACCEPTED_STATUS = 202
"""The receiver's answer to an accepted delivery, quarantined or not (src/handlers/receiver.py)."""
CAPTURED_API = ApiIdentity(api_id="captured", stage="verify", api_key_id="captured")
"""Stands in for the deployed API in the request's envelope; the receiver reads none of it."""


def parse_moment(text: str) -> float:
    """Unix time from Unix seconds (`1431454454`) or ISO 8601 with an offset (`2015-05-12T18:14:14Z`)."""
    if UNIX_SECONDS.fullmatch(text):
        return datetime.fromtimestamp(float(text), UTC).timestamp()  # a year past 9999 is a ValueError
    moment = datetime.fromisoformat(text)  # a ValueError naming the text
    if moment.tzinfo is None:
        raise ValueError("no UTC offset")
    return moment.timestamp()


@dataclass(frozen=True)
class Verdict:
    """The receiver's answer: its HTTP status, the error code and detail of a refusal, and the
    transaction it would hand to the processor."""

    status: int
    code: str | None = None
    detail: str | None = None
    transaction: Transaction | None = None
    """The delivery's first (in a batch, every one is in `transactions`)."""
    transactions: tuple[Transaction, ...] = ()

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def document(self) -> dict[str, object]:
        """As JSON: the transaction's attributes as they would be stored, amounts as exact strings."""
        transaction = self.transaction
        return {
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "quarantined": transaction is not None and transaction.quarantine_reason is not None,
            "quarantine_reason": None if transaction is None else transaction.quarantine_reason,
            "quarantine_detail": None if transaction is None else transaction.quarantine_detail,
            "transaction": None if transaction is None else json_safe(transaction.attributes()),
            **(
                {"transactions": [json_safe(each.attributes()) for each in self.transactions]}
                if len(self.transactions) > 1
                else {}
            ),
        }


def verify_delivery(
    provider: str,
    headers: Mapping[str, str],
    body: bytes,
    material: VerificationMaterial,
    at: float,
    fetch_certificate: Callable[[str], bytes],
    trust: TrustAnchors | None = None,
) -> Verdict:
    """Decide on one captured delivery as the receiver would at Unix time `at`.

    `trust` None is the pinned anchors, as deployed (tests give their local PKI's).
    """
    # base64 carries any body byte for byte; the receiver decodes either form to the same bytes.
    event = api_gateway_event(Route.of(provider), body, headers, CAPTURED_API, base64_body=True)
    receiver = Receiver(lambda: material, CertificateCache(fetch_certificate, trust))
    try:
        received = receiver.receive(HttpRequest.from_api_gateway(event), at)
    except RejectionError as refusal:
        return Verdict(refusal.reason.status, refusal.reason.code, refusal.detail)
    except UnavailableError as error:
        cause = f": {error.__cause__}" if error.__cause__ is not None else ""
        return Verdict(Reason.UNAVAILABLE.status, Reason.UNAVAILABLE.code, f"{error}{cause}")
    transactions = tuple(accepted.transaction for accepted in received.accepted)
    status = ACCEPTED_STATUS if received.reply is None else received.reply.status
    return Verdict(status, transaction=transactions[0], transactions=transactions)
