"""`tapstack local object` on the stack deployed in the emulator: a payment delivered backwards, then
the one command that answers "what happened to this payment"."""

import json
import uuid
from decimal import Decimal

import pytest

from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.local.send import LocalRuntime
from tests.support.lifecycles import stripe_payment


def _object(stack: LocalRuntime, capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    port = str(stack.clients.endpoint_url).rsplit(":", 1)[1]
    capsys.readouterr()
    status = main(["local", "object", *arguments, "--port", port, "--env", stack.environment])
    return status, capsys.readouterr().out


def test_an_object_prints_its_applied_state_and_its_events_in_the_order_they_happened(
    stack: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = uuid.uuid4().hex[:12]
    events = stripe_payment(tag)
    for event in reversed(events):
        delivery = stack.deliver(stack.sender().event("stripe", event.body))
        assert delivery.status == 202, delivery.body

    status, output = _object(stack, capsys, "stripe", f"pi_{tag}")

    assert status == ExitCode.OK, output
    document = json.loads(output)
    latest = events[-1].transaction
    assert document["state"]["transaction_id"] == latest.transaction_id
    assert document["state"]["event_type"] == "charge.refunded"
    assert Decimal(document["state"]["amount"]) == latest.amount
    assert [entry["transaction_id"] for entry in document["events"]] == [
        event.transaction.transaction_id for event in events
    ]
    assert [entry["stale"] for entry in document["events"]] == ["true"] * (len(events) - 1) + ["false"]


def test_an_object_the_stack_never_saw_is_a_failure(
    stack: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = _object(stack, capsys, "stripe", "pi_never")
    assert status == ExitCode.FAILED
    assert json.loads(output) == {"object_key": "stripe#pi_never", "state": None, "events": []}
