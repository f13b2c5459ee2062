"""`tapstack reconcile`: list a provider's event log over a window and hand what the table lacks to
the processor (with --apply), through the deployed stack's secret, table and processor.

The same core as the scheduled reconciler (handlers.core.reconciling) over an asked window, with no
cursor read or written. The processor is invoked through the target's invoker: Lambda on AWS, the
functions run in this process on the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from handlers.aws import AwsClients
from handlers.core.reconciling import Window
from handlers.reconciler import Dependencies
from tapstack.exits import CommandError
from tapstack.operate.deployment import Deployment
from templates.contract import PROCESSOR, TRANSACTIONS_TABLE_NAME, WEBHOOK_SECRET_ARN, function_name_output

PROVIDERS = ("stripe", "paypal")
CREDENTIAL_KEYS = {"stripe": "stripe_api_keys", "paypal": "paypal_api_credentials"}
BUDGET_SECONDS = 3600.0
"""A command has no Lambda timeout; an hour bounds a backfill that a provider keeps throttling."""


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_of(since: int, until: int | None) -> Window:
    """The window [since, until or now), refused in one line when it is empty."""
    end = int(time.time()) if until is None else until
    if end <= since:
        raise CommandError(f"--until ({iso(end)}) must be after --since ({iso(since)}): give a later --until")
    return Window(since, end)


def reconcile_deployment(
    deployment: Deployment,
    provider: str,
    window: Window,
    apply: bool,
    api_bases: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the provider's log holds in `window` that the table lacks (`missing`) and, applying, what
    was handed to the processor (`ingested`): one JSON-ready document."""
    target = deployment.target
    outputs = target.stack_outputs(deployment.stack, deployment.environment, deployment.template)
    clients = deployment.clients
    with target.invoker(deployment.stack, deployment.environment) as invoker:
        dependencies = Dependencies(
            clients=AwsClients(
                given={
                    "dynamodb": clients("dynamodb"),
                    "secretsmanager": clients("secretsmanager"),
                    "lambda": invoker,
                }
            ),
            table_name=outputs[TRANSACTIONS_TABLE_NAME],
            state_table_name="",  # an asked window reads and writes no cursor
            processor_function_name=outputs[function_name_output(PROCESSOR)],
            secret_arn=outputs[WEBHOOK_SECRET_ARN],
            metrics_namespace="",
            api_bases=dict(api_bases or {}),
        )
        credentials = dependencies.credentials()
        if not credentials.configured(provider):
            raise CommandError(
                f"the stack's webhook secret has no {CREDENTIAL_KEYS[provider]}: put the provider's "
                "read-only credentials in it (docs/reconciliation.md, Credentials), then run this again"
            )
        reconciler = dependencies.reconciler(provider, credentials, apply=apply)
        report = reconciler.between(window, time.time() + BUDGET_SECONDS)
    document: dict[str, Any] = {
        "provider": provider,
        "since": iso(window.start),
        "until": iso(window.end),
        "applied": apply,
        "listed": report.listed,
        "missing": report.missing,
    }
    if apply:
        document["ingested"] = report.ingested
    document |= {
        "complete": report.complete,
        "failures": report.failures,
        "provider_calls": report.provider_calls,
        "table_reads": report.table_reads,
    }
    if report.beyond_retention_seconds:
        document["beyond_retention_seconds"] = report.beyond_retention_seconds
        document["warning"] = (
            "part of the window is older than the provider keeps events: they cannot be listed"
        )
    if not report.complete:
        document["next"] = "the provider failed or throttled past the budget: run the same command again"
    return document
