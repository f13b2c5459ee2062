"""A catalogue provider's verification material, read from its object in the webhook secret."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ProviderMaterial:
    """`{"<provider>": {"signing_keys": [current, previous...], ...extras}}` from the webhook secret.

    The keys are as the provider documents them (Adyen: hex strings; Braintree: objects with
    `public_key` and `private_key`); every one is accepted, so a key can be rolled without a gap.
    Values are excluded from repr so that logging this object cannot leak them.
    """

    signing_keys: tuple[object, ...] = field(repr=False)
    extras: Mapping[str, str] = field(default_factory=dict, repr=False)
