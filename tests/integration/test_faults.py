"""`make send FAULT=…`: each injected fault dead-letters the event, and a replay without it recovers it.

Each test gets clients and a runtime of its own: a fault lasts as long as its runtime, as it does for
the one `tapstack local send` process that injects it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tapstack.local.faults import DEAD_LETTERING_FAULTS
from tapstack.local.send import LocalRuntime, send_event, stored_item
from tapstack.local.target import emulator_clients
from tapstack.operate.actions import replay_environment
from templates.contract import TRANSACTIONS_TABLE_NAME
from tests.integration.conftest import DeployedStack, on_emulator

EXPECTED_DEAD_LETTERS = {
    "processor": "processor",
    "table": "processor",
    "bucket": "processor",
    "notifier": "notifier",
    "topic": "notifier",
}


def _fresh_runtime(moto_endpoint: str, deployment: DeployedStack) -> LocalRuntime:
    clients = emulator_clients(moto_endpoint)
    return LocalRuntime.for_deployed_stack(clients, deployment.deployment.stack, deployment.environment)


def _unique_event(tmp_path: Path) -> Path:
    """An internal transaction of its own, so no other test's delivery makes it a duplicate."""
    event = tmp_path / "internal" / "payment.json"
    event.parent.mkdir()
    event.write_text(
        json.dumps(
            {
                "id": f"fault-{uuid.uuid4().hex}",
                "type": "transaction.created",
                "occurred_at": "2026-11-30T10:00:00Z",
                "amount": "12.50",
                "currency": "EUR",
            }
        ),
        encoding="utf-8",
    )
    return event


@pytest.mark.parametrize("fault", DEAD_LETTERING_FAULTS)
def test_a_fault_dead_letters_the_event_and_replay_recovers_it_once(
    fault: str, moto_endpoint: str, deployment: DeployedStack, tmp_path: Path
) -> None:
    faulty = _fresh_runtime(moto_endpoint, deployment)
    with faulty.activated():
        document = send_event(faulty, _unique_event(tmp_path), fault=fault)

    assert document["ok"], document["failures"]
    assert document["fault"] == fault
    assert document["dead_lettered"] == {EXPECTED_DEAD_LETTERS[fault]: 1}
    assert document["published"] == []
    transaction_id = document["response"]["body"]["transaction_id"]

    healthy = _fresh_runtime(moto_endpoint, deployment)
    # Other tests of this worker may leave letters that replay keeps; this event's must be recovered.
    replay_environment(
        on_emulator(healthy.clients, deployment.environment), ["processor", "notifier"], True, print
    )

    item = stored_item(healthy.clients("dynamodb"), healthy.outputs[TRANSACTIONS_TABLE_NAME], transaction_id)
    assert item is not None
    assert item["amount"] == "12.50"
    assert "published_at" in item
    published = [m for m in healthy.drain_published() if m["message"]["transaction_id"] == transaction_id]
    assert len(published) == 1


def test_a_redelivery_says_it_is_a_duplicate(stack: LocalRuntime, tmp_path: Path) -> None:
    event = _unique_event(tmp_path)
    first = send_event(stack, event)
    second = send_event(stack, event)
    assert (first["ok"], first["duplicate"]) == (True, False)
    assert (second["ok"], second["duplicate"]) == (True, True)
    assert second["published"] == []
