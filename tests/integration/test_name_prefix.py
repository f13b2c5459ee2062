"""A stack generated with `--name-prefix acme` goes through the same commands as the default one: it
deploys to the emulator, takes a `send`, and is destroyed with nothing left."""

from pathlib import Path

import pytest

from tapstack import paths
from tapstack.local.send import send_event
from tapstack.operate.actions import destroy_environment
from tapstack.operate.cloud import Clients
from templates.config import StackConfig
from templates.stack import build_template, render
from tests.integration.conftest import deploy, named_resources

PREFIX = "acme"
ENVIRONMENT = "it"
EVENT = paths.EVENTS / "stripe" / "payment_intent.succeeded.json"


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    """The template as `generate.py --name-prefix acme --output <path>` writes it."""
    path = tmp_path / "TapStack.json"
    path.write_text(render(build_template(StackConfig(name_prefix=PREFIX))), encoding="utf-8")
    return path


def test_a_prefixed_stack_deploys_takes_a_send_and_is_destroyed_with_nothing_left(
    own_emulator: Clients, template_path: Path, tmp_path: Path
) -> None:
    deployed = deploy(own_emulator, ENVIRONMENT, tmp_path, template_path)
    made = named_resources(own_emulator)
    runtime = deployed.runtime()
    with runtime.activated():
        document = send_event(runtime, EVENT)
    left = destroy_environment(deployed.deployment, with_bootstrap=True, report=deployed.log.append)

    assert {"acme-it", "acme-bootstrap", "acme-it-ApiId", "acme/it/webhook-secrets"} <= made
    assert deployed.outputs["TransactionsTableName"] == "acme-transactions-it"
    assert document["ok"], document["failures"]
    assert document["item"]["transaction_id"] == document["response"]["body"]["transaction_id"]
    assert left == []
    assert named_resources(own_emulator) == set(), "destroy left these behind"
