"""What a verifier hands on: each authentic event of a delivery, with its idempotency key."""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    """One event of a verified delivery; a batch (Adyen's `notificationItems`) gives one per item.

    `document` is what the provider's normaliser reads; `event_id` is the provider's idempotency key
    for it (a token: `[A-Za-z0-9][A-Za-z0-9._:-]{0,127}`), the same on every redelivery.
    """

    document: Mapping[str, object]
    event_id: str
