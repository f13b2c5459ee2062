"""The handler pipeline fixtures, shared with the handler tests (one definition, imported)."""

from tests.run.conftest import paypal_keys, pipeline, signer, stack

__all__ = ["paypal_keys", "pipeline", "signer", "stack"]
