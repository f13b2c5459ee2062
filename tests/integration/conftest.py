"""A stack deployed into the moto emulator through the deploy code, once per xdist worker.

Each worker has its own moto server (tests/support/fixtures.py's `moto_endpoint`, on a free loopback
port), so two workers never share a stack. Tests find the stack the way deployed-stack tests do:
the name from STACK_NAME or ENVIRONMENT_SUFFIX (default `it`), the outputs from describe_stacks,
falling back to the flat outputs file.
"""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tapstack.cfn.model import read_template
from tapstack.local import emulator as local_emulator
from tapstack.local.send import LocalRuntime
from tapstack.local.target import EmulatorTarget, emulator_clients
from tapstack.operate.actions import deploy_environment, destroy_environment
from tapstack.operate.cloud import TEMPLATE_PATH, Clients, discover_outputs, discover_stack_name
from tapstack.operate.deployment import Deployment
from templates.naming import names_of
from tests.support import free_port

REPOSITORY = Path(__file__).resolve().parents[2]
LOCAL_PARAMETERS = REPOSITORY / "params" / "local.json"
DEFAULT_ENVIRONMENT = "it"
NAMES = names_of(read_template(TEMPLATE_PATH))


@dataclass
class DeployedStack:
    """A stack the deploy code deployed to the emulator, and what the deploy said."""

    deployment: Deployment
    outputs: dict[str, str]
    artifact: Path
    flat_outputs_path: Path
    log: list[str]

    @property
    def clients(self) -> Clients:
        return self.deployment.clients

    @property
    def environment(self) -> str:
        return self.deployment.environment

    def runtime(self) -> LocalRuntime:
        """Its functions, run in this process."""
        return LocalRuntime.for_deployed_stack(self.clients, self.deployment.stack, self.environment)


def on_emulator(clients: Clients, environment: str, template_path: Path = TEMPLATE_PATH) -> Deployment:
    return Deployment.load(EmulatorTarget(clients), environment, template_path)


def tiny_artifact(directory: Path) -> Path:
    """A stand-in Lambda zip: the emulator stores code but cannot run it, so its content is moot."""
    path = directory / "lambda.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handlers/__init__.py", "")
    return path


def deploy(
    clients: Clients, environment: str, directory: Path, template_path: Path = TEMPLATE_PATH
) -> DeployedStack:
    log: list[str] = []
    flat = directory / "flat-outputs.json"
    artifact = tiny_artifact(directory)
    deployment = on_emulator(clients, environment, template_path)
    outputs = deploy_environment(deployment, LOCAL_PARAMETERS, artifact, log.append, flat)
    return DeployedStack(deployment, outputs, artifact, flat, log)


@pytest.fixture(scope="session")
def emulator(moto_endpoint: str) -> Clients:
    return emulator_clients(moto_endpoint)


@pytest.fixture(scope="session")
def deployment(emulator: Clients, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployedStack]:
    environment = discover_stack_name(NAMES, DEFAULT_ENVIRONMENT).removeprefix(f"{NAMES.prefix}-")
    deployed = deploy(emulator, environment, tmp_path_factory.mktemp("deploy"))
    yield deployed
    left = destroy_environment(deployed.deployment, with_bootstrap=True, report=deployed.log.append)
    assert left == [], f"destroy left {left}"


@pytest.fixture(scope="session")
def runtime(deployment: DeployedStack) -> LocalRuntime:
    name = discover_stack_name(NAMES, DEFAULT_ENVIRONMENT)
    discovered = discover_outputs(deployment.clients("cloudformation"), name, deployment.flat_outputs_path)
    assert discovered.items() <= deployment.outputs.items()
    return deployment.runtime()


@pytest.fixture
def stack(runtime: LocalRuntime) -> Iterator[LocalRuntime]:
    """The runtime, with the functions' shared environment set for the test's duration."""
    with runtime.activated():
        yield runtime


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[Clients]:
    """An emulator process of its own (as `local up` starts it): what it holds is this test's alone."""
    files = local_emulator.EmulatorFiles(free_port(), tmp_path)
    local_emulator.start(files)
    try:
        yield emulator_clients(local_emulator.endpoint(files.port))
    finally:
        local_emulator.stop(files)


def named_resources(clients: Clients) -> set[str]:
    """The name of everything in the emulated account a stack deploy makes or destroy must remove."""
    cloudformation, apigateway = clients("cloudformation"), clients("apigateway")
    stacks = cloudformation.list_stacks()["StackSummaries"]
    return {
        *(stack["StackName"] for stack in stacks if stack["StackStatus"] != "DELETE_COMPLETE"),
        *(export["Name"] for export in cloudformation.list_exports()["Exports"]),
        *(bucket["Name"] for bucket in clients("s3").list_buckets()["Buckets"]),
        *clients("dynamodb").list_tables()["TableNames"],
        *(url.rsplit("/", 1)[-1] for url in clients("sqs").list_queues().get("QueueUrls", [])),
        *(topic["TopicArn"].rsplit(":", 1)[-1] for topic in clients("sns").list_topics()["Topics"]),
        *(function["FunctionName"] for function in clients("lambda").list_functions()["Functions"]),
        *(group["logGroupName"] for group in clients("logs").describe_log_groups()["logGroups"]),
        *(api["name"] for api in apigateway.get_rest_apis()["items"]),
        *(key["name"] for key in apigateway.get_api_keys()["items"]),
        *(secret["Name"] for secret in clients("secretsmanager").list_secrets()["SecretList"]),
    }
