"""A bounded load run through the local stack: N signed deliveries, a share of them duplicates, K senders.

Everything stays on loopback (moto plus the in-process functions). The run proves that exactly the
unique events are stored and each is published, none lost (both dead-letter queues empty); its
deliveries-per-second figure is written to build/load.json for `make bench`, never asserted on.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tapstack import paths
from tapstack.local.send import LocalRuntime
from tapstack.operate.actions import deploy_environment, destroy_environment
from tapstack.operate.deployment import Deployment
from templates.contract import ASYNCHRONOUS_ROLES, TRANSACTIONS_TABLE_NAME, dead_letter_queue_url_output

LOAD_REPORT_PATH = paths.LOAD_REPORT
LOAD_ENVIRONMENT = "load"
PROVIDERS = ("stripe", "generic", "checkout-com", "standard-webhooks")
"""Stripe and the generic route, and two of the catalogue: an untimestamped HMAC and a timestamped one."""


def _body(provider: str, index: int) -> bytes:
    if provider == "stripe":
        document: dict[str, object] = {
            "id": f"evt_load_{index:07d}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": 1763892000 + index,
            "data": {
                "object": {
                    "id": f"pi_load_{index:07d}",
                    "object": "payment_intent",
                    "amount": 1000 + index,
                    "amount_received": 1000 + index,
                    "currency": "usd",
                    "status": "succeeded",
                }
            },
        }
    elif provider == "checkout-com":
        document = {
            "id": f"evt_load_{index:07d}",
            "type": "payment_captured",
            "created_on": "2026-11-23T10:00:00Z",
            "data": {
                "id": f"pay_load_{index:07d}",
                "action_id": f"act_load_{index:07d}",
                "amount": 1000 + index,
                "currency": "GBP",
            },
        }
    elif provider == "standard-webhooks":
        # The delivery's webhook-id is the body's `id` (the catalogue's signer): unique per event.
        document = {
            "id": f"msg_load_{index:07d}",
            "type": "invoice.paid",
            "timestamp": "2026-11-23T10:00:00Z",
        }
    else:
        document = {
            "id": f"load-{index:07d}",
            "type": "payment.succeeded",
            "occurred_at": "2026-11-23T10:00:00Z",
            "amount": f"{index}.{index % 100:02d}",
            "currency": "EUR",
        }
    return json.dumps(document, separators=(",", ":")).encode()


def deliveries_plan(deliveries: int, duplicate_share: float, seed: int = 7) -> list[tuple[str, bytes]]:
    """`deliveries` (provider, body) pairs: the unique events, then repeats of random ones, shuffled."""
    unique = deliveries - round(deliveries * duplicate_share)
    events = [
        (PROVIDERS[index % len(PROVIDERS)], _body(PROVIDERS[index % len(PROVIDERS)], index))
        for index in range(unique)
    ]
    shuffler = random.Random(seed)  # noqa: S311 (test data, not security)
    plan = events + [shuffler.choice(events) for _ in range(deliveries - unique)]
    shuffler.shuffle(plan)
    return plan


@dataclass(frozen=True)
class LoadResult:
    deliveries: int
    unique_events: int
    senders: int
    seconds: float
    deliveries_per_second: float
    accepted: int
    stored: int
    published: int
    dead_letters: int


def run_load(
    runtime: LocalRuntime, deliveries: int, duplicate_share: float, senders: int, time_budget_seconds: float
) -> LoadResult:
    plan = deliveries_plan(deliveries, duplicate_share)
    sender = runtime.sender()
    deadline = time.monotonic() + time_budget_seconds

    def deliver(provider_and_body: tuple[str, bytes]) -> int:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the load run exceeded its {time_budget_seconds:.0f} s budget")
        provider, body = provider_and_body
        return runtime.deliver(sender.event(provider, body)).status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        statuses = list(pool.map(deliver, plan))
    seconds = time.perf_counter() - started
    clients, outputs = runtime.clients, runtime.outputs
    stored = (
        clients("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=outputs[TRANSACTIONS_TABLE_NAME], Select="COUNT")
    )
    published = {message["message"]["transaction_id"] for message in runtime.drain_published()}
    dead_letters = sum(
        int(
            clients("sqs").get_queue_attributes(
                QueueUrl=outputs[key], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        for key in map(dead_letter_queue_url_output, ASYNCHRONOUS_ROLES)
    )
    return LoadResult(
        deliveries=deliveries,
        unique_events=len(set(plan)),
        senders=senders,
        seconds=round(seconds, 3),
        deliveries_per_second=round(deliveries / seconds, 1),
        accepted=statuses.count(202),
        stored=sum(page["Count"] for page in stored),
        published=len(published),
        dead_letters=dead_letters,
    )


def write_load_report(result: LoadResult, source: str, path: Path = LOAD_REPORT_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"source": source, **asdict(result)}, indent=2) + "\n", encoding="utf-8")
    return path


def load_run(
    deployment: Deployment,
    parameter_file: Path,
    artifact: Path | None,
    deliveries: int,
    duplicates: float,
    senders: int,
    budget: float,
) -> tuple[Path, LoadResult]:
    """Deploy a throwaway stack, run the bounded load on it, destroy it; the report's path and result."""
    deploy_environment(deployment, parameter_file, artifact, print)
    try:
        runtime = LocalRuntime.for_deployed_stack(
            deployment.clients, deployment.stack, deployment.environment
        )
        with runtime.activated():
            result = run_load(runtime, deliveries, duplicates, senders, budget)
        return write_load_report(result, "make load"), result
    finally:
        destroy_environment(deployment, with_bootstrap=False, report=print)
