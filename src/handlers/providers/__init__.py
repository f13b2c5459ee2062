"""Signature verification and normalisation, one module per provider (pure: no I/O of their own)."""

from collections.abc import Callable, Mapping

from handlers.core.http import Headers
from handlers.core.model import Transaction
from handlers.core.secrets import VerificationMaterial

Verifier = Callable[[Headers, bytes, VerificationMaterial, float], None]
"""Raise a 401 RejectionError unless the raw body is authentically signed at Unix time `now`."""

Normaliser = Callable[[Mapping[str, object], str, str], Transaction]
"""(parsed body, provider name, SHA-256 of the raw body) -> Transaction, or a 400 RejectionError."""

TOLERANCE_SECONDS = 300
"""Accepted clock difference, past or future, for timestamped signatures (Stripe's default)."""
