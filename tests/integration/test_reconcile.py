"""Reconciliation on the local stack end to end: events sent with FAULT=unreachable are absent; a dry
run lists exactly them; applying stores each once with its exact money and publishes it once; a second
run finds nothing; a delivery racing the reconciler is stored and published once."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from handlers.core.reconciling import Window
from handlers.core.secrets import ApiCredentials
from tapstack.local.faults import UNREACHABLE
from tapstack.local.provider_apis.stand_ins import provider_api_server, reconcile_local_stack, record_creation
from tapstack.local.send import RECONCILER_MODULE, Delivery, LocalRuntime, send_event, stored_item
from tapstack.local.target import emulator_clients
from templates.contract import RECONCILIATION_TABLE_NAME, TRANSACTIONS_TABLE_NAME, WEBHOOK_SECRET_ARN
from tests.integration.conftest import DeployedStack, on_emulator


def _stripe_refund(directory: Path, cents: int) -> Path:
    event_id = f"evt_{uuid.uuid4().hex[:24]}"
    path = directory / "stripe" / f"{event_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "id": event_id,
                "object": "event",
                "api_version": "2024-06-20",
                "created": int(time.time()) - 120,
                "type": "refund.created",
                "data": {
                    "object": {
                        "id": f"re_{event_id[4:]}",
                        "object": "refund",
                        "amount": cents,
                        "currency": "usd",
                        "payment_intent": f"pi_{event_id[4:]}",
                        "status": "succeeded",
                    }
                },
            },
            separators=(",", ":"),
        ),
        encoding="utf-8",
    )
    return path


def _paypal_capture(directory: Path, value: str) -> Path:
    event_id = f"WH-{uuid.uuid4().hex[:17].upper()}"
    moment = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 120))
    path = directory / "paypal" / f"{event_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "id": event_id,
                "event_version": "1.0",
                "create_time": moment,
                "resource_type": "capture",
                "resource_version": "2.0",
                "event_type": "PAYMENT.CAPTURE.COMPLETED",
                "resource": {
                    "id": f"CAP{event_id[3:12]}",
                    "amount": {"currency_code": "USD", "value": value},
                    "final_capture": True,
                    "status": "COMPLETED",
                },
            }
        ),
        encoding="utf-8",
    )
    return path


def _runtime(moto_endpoint: str, deployed: DeployedStack, log_directory: Path) -> LocalRuntime:
    clients = emulator_clients(moto_endpoint)
    runtime = LocalRuntime.for_deployed_stack(clients, deployed.deployment.stack, deployed.environment)
    runtime.provider_log_directory = log_directory
    return runtime


def _reconcile(
    runtime: LocalRuntime, deployed: DeployedStack, log_directory: Path, apply: bool
) -> dict[str, Any]:
    now = int(time.time())
    deployment = on_emulator(runtime.clients, deployed.environment)
    return reconcile_local_stack(
        deployment, ["stripe", "paypal"], Window(now - 3600, now + 1), apply, log_directory
    )


def _item(runtime: LocalRuntime, transaction_id: str) -> dict[str, str] | None:
    return stored_item(runtime.clients("dynamodb"), runtime.outputs[TRANSACTIONS_TABLE_NAME], transaction_id)


def test_unreachable_events_are_listed_then_stored_and_published_once(
    moto_endpoint: str, deployment: DeployedStack, tmp_path: Path
) -> None:
    logs = tmp_path / "provider-log"
    runtime = _runtime(moto_endpoint, deployment, logs)
    lost = [_stripe_refund(tmp_path, 1999), _stripe_refund(tmp_path, 5), _paypal_capture(tmp_path, "10.99")]
    delivered = _stripe_refund(tmp_path, 700)
    with runtime.activated():
        for path in lost:
            document = send_event(runtime, path, fault=UNREACHABLE)
            assert (document["ok"], document["delivered"], document["logged"]) == (True, False, True)
        assert send_event(runtime, delivered)["ok"]
        runtime.drain_published()
    lost_ids = sorted(f"{path.parent.name}#{path.stem}" for path in lost)
    assert all(_item(runtime, transaction_id) is None for transaction_id in lost_ids)

    dry = _reconcile(runtime, deployment, logs, apply=False)
    assert sorted(dry["missing"]) == lost_ids
    assert "ingested" not in dry
    assert all(_item(runtime, transaction_id) is None for transaction_id in lost_ids)

    applied = _reconcile(runtime, deployment, logs, apply=True)
    assert sorted(applied["ingested"]) == sorted(applied["missing"]) == lost_ids
    amounts = {}
    for transaction_id in lost_ids:
        item = _item(runtime, transaction_id)
        assert item is not None
        assert item["ingested_via"] == "reconcile"
        assert item["provenance"].startswith(transaction_id.split("#")[0] + " GET http://127.0.0.1:")
        assert "published_at" in item
        amounts[transaction_id] = Decimal(item["amount"])
    assert sorted(amounts.values()) == [Decimal("0.05"), Decimal("10.99"), Decimal("19.99")]
    published = [m for m in runtime.drain_published() if m["message"]["transaction_id"] in lost_ids]
    assert sorted(m["message"]["transaction_id"] for m in published) == lost_ids
    assert {m["attributes"]["ingested_via"] for m in published} == {"reconcile"}

    again = _reconcile(runtime, deployment, logs, apply=True)
    assert (again["missing"], again["ingested"]) == ([], [])


def test_a_delivery_racing_the_reconciler_is_stored_and_published_once(
    moto_endpoint: str, deployment: DeployedStack, tmp_path: Path
) -> None:
    logs = tmp_path / "provider-log"
    runtime = _runtime(moto_endpoint, deployment, logs)
    path = _stripe_refund(tmp_path, 4242)
    transaction_id = f"stripe#{path.stem}"
    body = path.read_bytes()
    record_creation("stripe", body, True, logs)  # created, its delivery on the way
    deliveries: list[Delivery] = []

    def deliver_now(**_: Any) -> None:
        """The delivery lands right after the reconciler read the table and found the event missing."""
        if not deliveries:
            deliveries.append(runtime.deliver(runtime.sender().event("stripe", body)))

    with runtime.activated():
        runtime.drain_published()
        runtime.clients("dynamodb").meta.events.register("after-call.dynamodb.BatchGetItem", deliver_now)
        applied = _reconcile(runtime, deployment, logs, apply=True)
    assert deliveries[0].status == 202
    assert applied["ingested"] == [transaction_id]  # it was missing when the reconciler looked
    item = _item(runtime, transaction_id)
    assert item is not None
    assert (item["amount"], item["ingested_via"]) == ("42.42", "webhook")  # the delivery won the write
    published = [m for m in runtime.drain_published() if m["message"]["transaction_id"] == transaction_id]
    assert len(published) == 1


def test_the_scheduled_reconciler_recovers_them_and_resumes_from_its_cursor(
    moto_endpoint: str, deployment: DeployedStack, tmp_path: Path
) -> None:
    logs = tmp_path / "provider-log"
    runtime = _runtime(moto_endpoint, deployment, logs)
    lost = [_stripe_refund(tmp_path, 1234), _paypal_capture(tmp_path, "0.99")]
    secret = runtime.clients("secretsmanager").get_secret_value(SecretId=runtime.outputs[WEBHOOK_SECRET_ARN])
    credentials = ApiCredentials.from_secret_string(secret["SecretString"])
    with runtime.activated():
        for path in lost:
            assert send_event(runtime, path, fault=UNREACHABLE)["ok"]
        runtime.drain_published()
        with provider_api_server(credentials, logs).running() as server:
            first = runtime.run_schedule(server.url)
            second = runtime.run_schedule(server.url)
    (reconciler,) = [
        spec.name for spec in runtime.functions.values() if spec.module.__name__ == RECONCILER_MODULE
    ]
    (scheduled,) = [outcome for outcome in first if outcome.function == reconciler]
    assert scheduled.error is None
    reports = {report["provider"]: report for report in scheduled.response["reports"]}
    lost_ids = sorted(f"{path.parent.name}#{path.stem}" for path in lost)
    assert sorted(reports["stripe"]["ingested"] + reports["paypal"]["ingested"]) == lost_ids
    for transaction_id in lost_ids:
        item = _item(runtime, transaction_id)
        assert item is not None
        assert item["ingested_via"] == "reconcile"
    (again,) = [outcome for outcome in second if outcome.function == reconciler]
    assert [report["missing"] for report in again.response["reports"]] == [[], []]
    cursors = runtime.clients("dynamodb").scan(TableName=runtime.outputs[RECONCILIATION_TABLE_NAME])["Items"]
    assert {item["provider"]["S"] for item in cursors} == {"stripe", "paypal"}
