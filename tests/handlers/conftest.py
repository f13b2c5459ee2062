"""Fixtures for the handler tests."""

import os
from collections.abc import Iterator

import pytest

# Powertools reads these when the handler modules are imported, which happens at collection, so
# they must be set before any test module imports a handler.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "TapStack")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tapstack-tests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")

from handlers import notifier, processor, receiver
from tapstack.local.send import LocalPaypal
from tests.handlers.support import Pipeline, Signer, Stack
from tests.handlers.support import paypal_keys as make_paypal_keys


@pytest.fixture(scope="session")
def paypal_keys() -> LocalPaypal:
    return make_paypal_keys()


@pytest.fixture
def signer(paypal_keys: LocalPaypal) -> Signer:
    return Signer(paypal_keys)


@pytest.fixture
def stack(moto_endpoint: str, signer: Signer) -> Stack:
    return Stack.create(moto_endpoint, signer.secret())


@pytest.fixture
def pipeline(stack: Stack, signer: Signer) -> Iterator[Pipeline]:
    yield Pipeline.wire(stack, signer)
    for module in (receiver, processor, notifier):
        module.DEPENDENCIES.set(None)
