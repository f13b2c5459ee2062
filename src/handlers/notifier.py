"""Lambda entry point of the notifier: the processor's on-success destination record -> SNS.

Environment: TRANSACTIONS_TABLE_NAME, EVENTS_TOPIC_ARN, EVENTS_FIFO_TOPIC_ARN (empty: no FIFO topic),
FUNCTION_TIMEOUT_SECONDS (the time budget of every AWS call, handlers.aws.CallBudget), POWERTOOLS_*
(logging, metrics).
Every failure raises, so that Lambda retries (twice) and then dead-letters the record.
"""

import os
from dataclasses import dataclass
from functools import cached_property

from handlers.asynchronous import AsynchronousFunction, Outcome
from handlers.aws import SEQUENTIAL_CALLS, AwsClients, DynamoTransactions, SnsPublisher
from handlers.core.model import Processed
from handlers.core.notifying import Notification, notify


@dataclass
class Dependencies:
    clients: AwsClients
    table_name: str
    topic_arn: str
    fifo_topic_arn: str = ""

    @cached_property
    def store(self) -> DynamoTransactions:
        return DynamoTransactions(self.clients("dynamodb"), self.table_name)

    @cached_property
    def publisher(self) -> SnsPublisher:
        return SnsPublisher(self.clients("sns"), self.topic_arn)

    @cached_property
    def ordered_publisher(self) -> SnsPublisher | None:
        return SnsPublisher(self.clients("sns"), self.fifo_topic_arn) if self.fifo_topic_arn else None

    @classmethod
    def from_environment(cls) -> "Dependencies":
        return cls(
            AwsClients(sequential_calls=SEQUENTIAL_CALLS["notifier"]),
            os.environ["TRANSACTIONS_TABLE_NAME"],
            os.environ["EVENTS_TOPIC_ARN"],
            os.environ.get("EVENTS_FIFO_TOPIC_ARN", ""),
        )


def _outcome(notification: Notification) -> str:
    if notification["published"]:
        return "Published"
    return "QuarantineNotPublished" if notification.get("quarantined") else "AlreadyPublished"


def _publish(processed: Processed, deps: Dependencies, now: str) -> Outcome:
    notification = notify(processed.transaction_id, deps.store, deps.publisher, now, deps.ordered_publisher)
    return Outcome(_outcome(notification), notification["transaction_id"], notification)


FUNCTION = AsynchronousFunction(
    decode=Processed.from_destination_record,
    step=_publish,
    dependencies=Dependencies.from_environment,
    correlation_id_path="requestPayload.correlation_id",
    failure="notifying failed",
)
DEPENDENCIES = FUNCTION.dependencies
handler = FUNCTION.handler
