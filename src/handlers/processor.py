"""Lambda entry point of the processor (asynchronous; on success -> notifier, on failure -> DLQ).

Environment: TRANSACTIONS_TABLE_NAME, OBJECTS_TABLE_NAME, AUDIT_BUCKET_NAME, FUNCTION_TIMEOUT_SECONDS
(the time budget of every AWS call, handlers.aws.CallBudget), POWERTOOLS_* (logging, metrics).
Every failure raises, so that Lambda retries (twice) and then dead-letters the event.
"""

import os
from dataclasses import dataclass
from functools import cached_property

from handlers.asynchronous import AsynchronousFunction, Outcome
from handlers.aws import SEQUENTIAL_CALLS, AwsClients, DynamoObjectStates, DynamoTransactions, S3Archive
from handlers.core.model import HandOff, Processed
from handlers.core.processing import process


@dataclass
class Dependencies:
    clients: AwsClients
    table_name: str
    bucket_name: str
    objects_table_name: str

    @cached_property
    def store(self) -> DynamoTransactions:
        return DynamoTransactions(self.clients("dynamodb"), self.table_name)

    @cached_property
    def archive(self) -> S3Archive:
        return S3Archive(self.clients("s3"), self.bucket_name)

    @cached_property
    def states(self) -> DynamoObjectStates:
        return DynamoObjectStates(self.clients("dynamodb"), self.objects_table_name)

    @classmethod
    def from_environment(cls) -> "Dependencies":
        return cls(
            AwsClients(sequential_calls=SEQUENTIAL_CALLS["processor"]),
            os.environ["TRANSACTIONS_TABLE_NAME"],
            os.environ["AUDIT_BUCKET_NAME"],
            os.environ["OBJECTS_TABLE_NAME"],
        )


QUARANTINED = "Quarantined"
"""The outcome (metric and log message) the template's quarantine metric filter and alarm count."""


def _outcome(processed: Processed) -> str:
    if processed.duplicate:
        return "Duplicate"
    return QUARANTINED if processed.quarantined else "Stored"


def _store(handoff: HandOff, deps: Dependencies, now: str) -> Outcome:
    processed = process(handoff, deps.store, deps.archive, deps.states, now)
    return Outcome(_outcome(processed), processed.transaction_id, processed.to_json())


FUNCTION = AsynchronousFunction(
    decode=HandOff.from_json,
    step=_store,
    dependencies=Dependencies.from_environment,
    correlation_id_path="correlation_id",
    failure="processing failed",
)
DEPENDENCIES = FUNCTION.dependencies
handler = FUNCTION.handler
