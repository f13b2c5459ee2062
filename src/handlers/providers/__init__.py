"""Signature verification and normalisation, one module per provider (pure: no I/O of their own)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from handlers.core.http import Headers
from handlers.core.model import Transaction
from handlers.core.secrets import ProviderMaterial, VerificationMaterial

Verifier = Callable[[Headers, bytes, VerificationMaterial, float], None]
"""Raise a 401 RejectionError unless the raw body is authentically signed at Unix time `now`."""

Normaliser = Callable[[Mapping[str, object], str, str], Transaction]
"""(parsed body, provider name, SHA-256 of the raw body) -> Transaction, or a 400 RejectionError."""

TOLERANCE_SECONDS = 300
"""Accepted clock difference, past or future, for timestamped signatures (Stripe's default)."""


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    """One event of an authenticated delivery (a batch has several): its document and its id.

    `event_id` is the provider's id of the event, its idempotency key; "" when the delivery names none
    (the receiver then keys it by the body's hash).
    """

    document: Mapping[str, object]
    event_id: str


CatalogueVerifier = Callable[[Headers, bytes, ProviderMaterial, float], list[VerifiedEvent]]
"""Authenticate a delivery at Unix time `now` and return its events (its `Splitter`'s).

A 401 RejectionError when it is not authentic; any other RejectionError means authentic but unreadable
(the receiver quarantines the delivery); UnavailableError when the material cannot be used (503).
"""

Splitter = Callable[[Headers, bytes], list[VerifiedEvent]]
"""The events of an authentic delivery: what its verifier returns once the signature holds, and what
`tapstack quarantine reprocess` reads again from an archived delivery (with no headers: the archive
keeps the body only).

A 400 RejectionError when the body cannot be read (the delivery is quarantined whole); a 401 one when
the events cannot be found without a header the delivery came with.
"""
