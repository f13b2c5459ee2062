"""The fixtures every tier shares (a pytest plugin, loaded by tests/conftest.py): the generated template
and its settings, and the handler pipeline over the emulator."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

# Imported here, under the tests' Powertools settings (tests/conftest.py), before LocalRuntime would import
# them under each function's: so every handler logs through the one logger tests/support/telemetry reads.
from handlers import notifier, processor, receiver
from tapstack.local.delivery import Signer
from tapstack.local.paypal_pki import LocalPaypal
from tapstack.local.target import EmulatorTarget
from tapstack.operate.deployment import Deployment
from templates.config import StackConfig
from templates.stack import build_template, render
from tests.support import FAKE_ENVIRONMENT, free_port
from tests.support.pipeline import WEBHOOK_SECRET, Pipeline, Stack, signer_for
from tests.support.settings import CONFIG_IN_FORCE


@pytest.fixture(scope="session")
def config_in_force() -> StackConfig:
    """The settings the committed template is generated with (tapstack.toml): a fork's customised
    settings are the ones its tests check."""
    return CONFIG_IN_FORCE


@pytest.fixture(scope="session")
def template(config_in_force: StackConfig) -> dict[str, Any]:
    rendered: dict[str, Any] = json.loads(render(build_template(config_in_force)))
    return rendered


@pytest.fixture(scope="session")
def paypal_keys() -> LocalPaypal:
    return LocalPaypal()


@pytest.fixture
def signer(paypal_keys: LocalPaypal) -> Signer:
    return signer_for(paypal_keys)


@pytest.fixture
def stack(moto_endpoint: str) -> Stack:
    return Stack.create(moto_endpoint, WEBHOOK_SECRET)


@pytest.fixture(scope="session")
def generated_deployment(moto_endpoint: str) -> Deployment:
    """The committed generated template, loaded as the commands load it, with the emulator as its target:
    what each test's pipeline runs, over resources of the test's own (no CloudFormation deploy per test)."""
    return Deployment.load(EmulatorTarget.at(moto_endpoint), "test")


@pytest.fixture
def pipeline(generated_deployment: Deployment, stack: Stack, signer: Signer) -> Iterator[Pipeline]:
    wired = Pipeline.wire(generated_deployment, stack, signer)
    # Bound for the whole test too, for the tests that call the receiver's handler themselves.
    with wired.runtime.activated(), wired.runtime.router.bound(wired.lambda_):
        yield wired
    for module in (receiver, processor, notifier):
        module.DEPENDENCIES.set(None)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on loopback for the whole session (one per xdist worker), as `http://localhost:PORT`.

    Sets fake credentials and a region, and AWS_ENDPOINT_URL, so that any boto3 client or awscli
    call made during the session reaches the emulator and never AWS.
    """
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://localhost:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        for name, value in FAKE_ENVIRONMENT.items():
            patch.setenv(name, value)
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        try:
            yield endpoint
        finally:
            server.stop()
