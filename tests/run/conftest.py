"""Fixtures for the handler tests."""

from collections.abc import Iterator

import pytest

from handlers import notifier, processor, receiver
from tapstack.local.delivery import Signer
from tapstack.local.paypal_pki import LocalPaypal
from tests.run.support import WEBHOOK_SECRET, Pipeline, Stack, signer_for


@pytest.fixture(scope="session")
def paypal_keys() -> LocalPaypal:
    return LocalPaypal()


@pytest.fixture
def signer(paypal_keys: LocalPaypal) -> Signer:
    return signer_for(paypal_keys)


@pytest.fixture
def stack(moto_endpoint: str) -> Stack:
    return Stack.create(moto_endpoint, WEBHOOK_SECRET)


@pytest.fixture
def pipeline(stack: Stack, signer: Signer) -> Iterator[Pipeline]:
    yield Pipeline.wire(stack, signer)
    for module in (receiver, processor, notifier):
        module.DEPENDENCIES.set(None)
