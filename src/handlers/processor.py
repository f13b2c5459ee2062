"""Lambda entry point of the processor (asynchronous; on success -> notifier, on failure -> DLQ).

Environment: TRANSACTIONS_TABLE_NAME, AUDIT_BUCKET_NAME, FUNCTION_TIMEOUT_SECONDS (the time budget of
every AWS call, handlers.aws.CallBudget), POWERTOOLS_* (logging, metrics).
Every failure raises, so that Lambda retries (twice) and then dead-letters the event.
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics

from handlers.asynchronous import run_counted
from handlers.aws import AwsClients, DynamoTransactions, Once, S3Archive
from handlers.core.fields import utc_iso
from handlers.core.processing import process

logger = Logger()
metrics = EphemeralMetrics()


@dataclass
class Dependencies:
    clients: AwsClients
    table_name: str
    bucket_name: str

    @cached_property
    def store(self) -> DynamoTransactions:
        return DynamoTransactions(self.clients("dynamodb"), self.table_name)

    @cached_property
    def archive(self) -> S3Archive:
        return S3Archive(self.clients("s3"), self.bucket_name)

    @classmethod
    def from_environment(cls) -> "Dependencies":
        return cls(AwsClients(), os.environ["TRANSACTIONS_TABLE_NAME"], os.environ["AUDIT_BUCKET_NAME"])


DEPENDENCIES = Once(Dependencies.from_environment)
QUARANTINED = "Quarantined"
"""The outcome (metric and log message) the template's quarantine metric filter and alarm count."""


def _outcome(result: dict[str, Any]) -> str:
    if result["duplicate"]:
        return "Duplicate"
    return QUARANTINED if "quarantine_reason" in result["transaction"] else "Stored"


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@metrics.log_metrics(capture_cold_start_metric=True)  # type: ignore[untyped-decorator]
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 (Lambda's signature)
    deps = DEPENDENCIES.get()
    return run_counted(
        lambda: process(event, deps.store, deps.archive, utc_iso(datetime.now(UTC))),
        lambda result: (_outcome(result), event["transaction"]["transaction_id"]),
        logger=logger,
        metrics=metrics,
        failure="processing failed",
    )
