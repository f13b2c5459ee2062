"""A stack generated with `--name-prefix acme` goes through the same commands as the default one: it
deploys to the emulator, takes a `send`, and is destroyed with nothing left."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.local import emulator
from tapstack.local.send import LocalRuntime, send_event
from tapstack.operate.actions import destroy_environment
from tapstack.operate.cloud import Clients
from templates.config import StackConfig
from templates.stack import build_template, render
from tests.conftest import _free_port
from tests.integration.conftest import deploy

PREFIX = "acme"
ENVIRONMENT = "it"
EVENT = paths.EVENTS / "stripe" / "payment_intent.succeeded.json"


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    """The template as `generate.py --name-prefix acme --output <path>` writes it."""
    path = tmp_path / "TapStack.json"
    path.write_text(render(build_template(StackConfig(name_prefix=PREFIX))), encoding="utf-8")
    return path


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[Clients]:
    """An emulator process of its own (as `local up` starts it): what it holds is this test's alone."""
    files = emulator.EmulatorFiles(_free_port(), tmp_path)
    emulator.start(files)
    try:
        yield Clients.for_emulator(emulator.endpoint(files.port))
    finally:
        emulator.stop(files)


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


def test_a_prefixed_stack_deploys_takes_a_send_and_is_destroyed_with_nothing_left(
    own_emulator: Clients, template_path: Path, tmp_path: Path
) -> None:
    deployed = deploy(own_emulator, ENVIRONMENT, tmp_path, template_path)
    made = named_resources(own_emulator)
    runtime = LocalRuntime.for_deployed_stack(own_emulator, ENVIRONMENT, template_path)
    with runtime.activated():
        document = send_event(runtime, EVENT)
    left = destroy_environment(
        own_emulator,
        ENVIRONMENT,
        with_bootstrap=True,
        report=deployed.log.append,
        template_path=template_path,
    )

    assert {"acme-it", "acme-bootstrap", "acme-it-ApiId", "acme/it/webhook-secrets"} <= made
    assert deployed.outputs["TransactionsTableName"] == "acme-transactions-it"
    assert document["ok"], document["failures"]
    assert document["item"]["transaction_id"] == document["response"]["body"]["transaction_id"]
    assert left == []
    assert named_resources(own_emulator) == set(), "destroy left these behind"
