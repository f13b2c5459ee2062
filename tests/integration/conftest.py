"""A stack deployed into the moto emulator through the deploy code, once per xdist worker.

Each worker has its own moto server (tests/conftest.py's `moto_endpoint`, on a free loopback
port), so two workers never share a stack. Tests find the stack the way deployed-stack tests do:
the name from STACK_NAME or ENVIRONMENT_SUFFIX (default `it`), the outputs from describe_stacks,
falling back to the flat outputs file.
"""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tapstack.local.send import LocalRuntime
from tapstack.operate.actions import deploy_environment, destroy_environment
from tapstack.operate.cloud import (
    TEMPLATE_PATH,
    Clients,
    discover_outputs,
    discover_stack_name,
    template_names,
)

REPOSITORY = Path(__file__).resolve().parents[2]
LOCAL_PARAMETERS = REPOSITORY / "params" / "local.json"
DEFAULT_ENVIRONMENT = "it"
NAMES = template_names()


@dataclass
class Deployment:
    clients: Clients
    environment: str
    outputs: dict[str, str]
    artifact: Path
    flat_outputs_path: Path
    log: list[str]


def tiny_artifact(directory: Path) -> Path:
    """A stand-in Lambda zip: the emulator stores code but cannot run it, so its content is moot."""
    path = directory / "lambda.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handlers/__init__.py", "")
    return path


def deploy(
    clients: Clients, environment: str, directory: Path, template_path: Path = TEMPLATE_PATH
) -> Deployment:
    log: list[str] = []
    flat = directory / "flat-outputs.json"
    artifact = tiny_artifact(directory)
    outputs = deploy_environment(
        clients, environment, LOCAL_PARAMETERS, artifact, log.append, flat, template_path
    )
    return Deployment(clients, environment, outputs, artifact, flat, log)


@pytest.fixture(scope="session")
def emulator(moto_endpoint: str) -> Clients:
    return Clients.for_emulator(moto_endpoint)


@pytest.fixture(scope="session")
def deployment(emulator: Clients, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    environment = discover_stack_name(NAMES, DEFAULT_ENVIRONMENT).removeprefix(f"{NAMES.prefix}-")
    deployed = deploy(emulator, environment, tmp_path_factory.mktemp("deploy"))
    yield deployed
    left = destroy_environment(emulator, environment, with_bootstrap=True, report=deployed.log.append)
    assert left == [], f"destroy left {left}"


@pytest.fixture(scope="session")
def runtime(deployment: Deployment) -> LocalRuntime:
    name = discover_stack_name(NAMES, DEFAULT_ENVIRONMENT)
    discovered = discover_outputs(deployment.clients("cloudformation"), name, deployment.flat_outputs_path)
    assert discovered.items() <= deployment.outputs.items()
    return LocalRuntime.for_deployed_stack(deployment.clients, deployment.environment)


@pytest.fixture
def stack(runtime: LocalRuntime) -> Iterator[LocalRuntime]:
    """The runtime, with the functions' shared environment set for the test's duration."""
    with runtime.activated():
        yield runtime
