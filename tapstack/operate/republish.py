"""Re-publish the stored events of a time window, in received order, to the stack's topic or to one
subscriber's queue: `tapstack republish` and `tapstack local republish`.

The window is read from the transactions table's index by receipt time (src/handlers/core/windows.py,
templates/storage.py): one Query per day and shard, merged in received order (ties by transaction
id), never a Scan. The index holds its keys and `kind` (for `--kind`), so the items themselves are
then read from the table (BatchGetItem, strongly consistent, 100 at a time, in order) and each
message is built by the notifier's own code (`handlers.core.notifying.publication`), marked
`republished` in its body and its message attributes so that subscribers can tell (and filter) a copy
from the original.

Only published items are republished: a quarantined item is never a payment event (and the index
holds none), and one not yet published is the notifier's to publish (its dead letters are replayed with
`tapstack replay`); both are listed as skipped. Items stored before the index existed lack its keys
and are not found until `backfill` writes them: a Scan of the table filtered on the window (the one
read here that is not a Query, run once per window after the upgrade), then one conditional update per
item, which sets the keys the processor would have written and nothing else.

To the topic, each event is published as the notifier publishes it: to the standard topic and, when
the stack has one, to the FIFO topic (message group and deduplication id as the notifier's). To a
queue (`--to`), each is sent as SNS delivers it to a subscription with raw message delivery: the
message as the body, its message attributes as String attributes; a FIFO queue gets the notifier's
message group and deduplication id. Dry run by default. Sending stops at the first failure, so that
what was sent is a prefix of the window in order; the document lists what was sent and what failed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from handlers.aws import SnsPublisher, from_attributes
from handlers.core.model import Item, Kind
from handlers.core.notifying import Publication, publication
from handlers.core.windows import RECEIVED_DAY, RECEIVED_ORDER, Window, in_received_order, index_attributes
from tapstack.operate.cloud import Clients, outputs_of
from tapstack.operate.deployment import Deployment
from templates.contract import (
    PAYMENT_EVENTS_FIFO_TOPIC_ARN,
    PAYMENT_EVENTS_TOPIC_ARN,
    RECEIVED_INDEX,
    TRANSACTIONS_TABLE_NAME,
)

BATCH_GET_LIMIT = 100
"""The most keys one BatchGetItem takes."""
MAX_BATCH_GET_CALLS = 10
"""Calls for one batch whose keys DynamoDB keeps leaving unprocessed (throttling), backing off between."""
NOT_PUBLISHED = "not yet published: the notifier publishes it (`tapstack replay` if it dead-lettered)"
UNKEYED = (
    "attribute_not_exists(#order) AND attribute_not_exists(quarantine_reason) "
    "AND received_at >= :lower AND received_at < :upper"
)
"""A stored item the index lacks: not keyed by the processor (stored before the index), not quarantined."""
QUARANTINED = "quarantined: never published as a payment event"


class Destination(Protocol):
    """Where republished messages go."""

    def describe(self) -> dict[str, str]: ...

    def send(self, published: Publication) -> list[str]:
        """Send one event; the message ids, one per copy sent."""
        ...


@dataclass(frozen=True)
class StackTopics:
    """The stack's events topic, and its FIFO topic when OrderedDeliveryTopic is on: as the notifier."""

    clients: Clients
    topic_arn: str
    fifo_topic_arn: str | None

    def describe(self) -> dict[str, str]:
        fifo = {} if self.fifo_topic_arn is None else {"fifo_topic": self.fifo_topic_arn}
        return {"topic": self.topic_arn, **fifo}

    def send(self, published: Publication) -> list[str]:
        sns = self.clients("sns")
        standard = SnsPublisher(sns, self.topic_arn)
        ids = [standard.publish(published.body, published.subject, published.attributes)]
        if self.fifo_topic_arn is not None:
            ids.append(
                SnsPublisher(sns, self.fifo_topic_arn).publish_in_group(
                    published.body,
                    published.subject,
                    published.attributes,
                    published.group_id,
                    published.deduplication_id,
                )
            )
        return ids


@dataclass(frozen=True)
class QueueArn:
    """`arn:<partition>:sqs:<region>:<account>:<name>`."""

    arn: str
    region: str
    account: str
    name: str

    @classmethod
    def parse(cls, arn: str) -> QueueArn:
        parts = arn.split(":")
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not all(parts[3:]):
            raise ValueError(f"{arn!r} is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)")
        return cls(arn, parts[3], parts[4], parts[5])

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


@dataclass(frozen=True)
class SubscriberQueue:
    """One subscriber's queue, sent what a raw-delivery subscription of the topic would receive."""

    sqs: Any
    queue: QueueArn
    url: str

    @classmethod
    def of_arn(cls, clients: Clients, queue: QueueArn) -> SubscriberQueue:
        """The ClientError of a queue that does not exist (or cannot be read).

        The queue may be in another region than the stack (SNS delivers across regions): it is
        addressed in its own.
        """
        sqs = (
            clients("sqs")
            if queue.region == clients.region
            else clients.session.client("sqs", region_name=queue.region, endpoint_url=clients.endpoint_url)
        )
        url = sqs.get_queue_url(QueueName=queue.name, QueueOwnerAWSAccountId=queue.account)["QueueUrl"]
        return cls(sqs, queue, str(url))

    def describe(self) -> dict[str, str]:
        return {"queue": self.queue.arn}

    def send(self, published: Publication) -> list[str]:
        fifo = (
            {"MessageGroupId": published.group_id, "MessageDeduplicationId": published.deduplication_id}
            if self.queue.fifo
            else {}
        )
        response = self.sqs.send_message(
            QueueUrl=self.url,
            MessageBody=published.body,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in published.attributes.items()
            },
            **fifo,
        )
        return [str(response["MessageId"])]


@dataclass
class Republication:
    """What one run sent or would send, as the command prints it."""

    stack: str
    window: Window
    kinds: tuple[Kind, ...]
    destination: dict[str, str]
    applied: bool
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: dict[str, str] | None = None

    def document(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "since": self.window.lower,
            "until": self.window.upper,
            "kinds": [str(kind) for kind in self.kinds] or None,
            "destination": self.destination,
            "applied": self.applied,
            "sent" if self.applied else "would_send": self.events,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def _listed(item: Item) -> dict[str, str]:
    fields = ("transaction_id", "received_at", "kind", "event_type", "provider")
    return {name: str(item[name]) for name in fields if name in item}


@dataclass(frozen=True)
class StackEvents:
    """The stored events of one deployed stack, read by receipt time."""

    clients: Clients
    stack: str
    table: str
    topics: StackTopics

    @classmethod
    def of_deployment(cls, deployment: Deployment) -> StackEvents:
        """Raises the ClientError "Stack with id … does not exist" when it is not deployed."""
        clients = deployment.clients
        described = clients("cloudformation").describe_stacks(StackName=deployment.stack)
        outputs = outputs_of(described["Stacks"][0])
        topics = StackTopics(
            clients, outputs[PAYMENT_EVENTS_TOPIC_ARN], outputs.get(PAYMENT_EVENTS_FIFO_TOPIC_ARN) or None
        )
        return cls(clients, deployment.stack, outputs[TRANSACTIONS_TABLE_NAME], topics)

    def _shard(self, day_key: str, window: Window, kinds: tuple[Kind, ...]) -> Iterator[Item]:
        """One shard of one day, within the window, in `received_order` (a Query's order), page by page."""
        kind_values = {f":kind{number}": {"S": str(kind)} for number, kind in enumerate(kinds)}
        kind_filter = {"FilterExpression": f"#kind IN ({', '.join(kind_values)})"} if kinds else {}
        pages = (
            self.clients("dynamodb")
            .get_paginator("query")
            .paginate(
                TableName=self.table,
                IndexName=RECEIVED_INDEX,
                KeyConditionExpression="#day = :day AND #order BETWEEN :lower AND :upper",
                ExpressionAttributeNames={
                    "#day": RECEIVED_DAY,
                    "#order": RECEIVED_ORDER,
                    **({"#kind": "kind"} if kinds else {}),
                },
                ExpressionAttributeValues={
                    ":day": {"S": day_key},
                    ":lower": {"S": window.lower},
                    ":upper": {"S": window.upper},
                    **kind_values,
                },
                **kind_filter,
            )
        )
        for page in pages:
            for entry in page["Items"]:
                yield from_attributes(entry)

    def indexed(self, window: Window, kinds: tuple[Kind, ...] = ()) -> Iterator[Item]:
        """The window's index entries (keys and `kind`), in received order."""
        days = ([self._shard(key, window, kinds) for key in shards] for shards in window.day_keys())
        return in_received_order(days)

    def _read(self, transaction_ids: list[str]) -> dict[str, Item]:
        """The items of up to 100 ids, strongly consistent, however many calls BatchGetItem needs."""
        requested: dict[str, Any] = {
            self.table: {
                "Keys": [{"transaction_id": {"S": tid}} for tid in transaction_ids],
                "ConsistentRead": True,
            }
        }
        found: dict[str, Item] = {}
        for attempt in range(MAX_BATCH_GET_CALLS):
            response = self.clients("dynamodb").batch_get_item(RequestItems=requested)
            for stored in response["Responses"].get(self.table, []):
                item = from_attributes(stored)
                found[str(item["transaction_id"])] = item
            requested = response.get("UnprocessedKeys") or {}
            if not requested:
                return found
            time.sleep(min(0.05 * 2**attempt, 5.0))  # throttled: back off, as AWS asks
        raise RuntimeError(
            f"DynamoDB left keys unread after {MAX_BATCH_GET_CALLS} calls (throttled): run again later"
        )

    def items(self, entries: Iterable[Item]) -> Iterator[Item]:
        """The stored items of index entries, in the entries' order (one gone since is left out)."""
        remaining = iter(entries)
        while batch := [str(entry["transaction_id"]) for entry in islice(remaining, BATCH_GET_LIMIT)]:
            found = self._read(batch)
            yield from (found[tid] for tid in batch if tid in found)

    def republish(
        self, window: Window, kinds: tuple[Kind, ...], destination: Destination, apply: bool
    ) -> Republication:
        """Send (with `apply`) or list the window's published events in received order."""
        result = Republication(self.stack, window, kinds, destination.describe(), apply)
        for item in self.items(self.indexed(window, kinds)):
            listed = _listed(item)
            if "quarantine_reason" in item:
                result.skipped.append(listed | {"reason": QUARANTINED})
                continue
            if "published_at" not in item:
                result.skipped.append(listed | {"reason": NOT_PUBLISHED})
                continue
            published = publication(item, republished=True)
            if apply:
                try:
                    sent: dict[str, Any] = {"message_ids": destination.send(published)}
                except (ClientError, BotoCoreError) as error:
                    result.failed = listed | {"error": str(error)}
                    return result
            else:
                sent = {"message": json.loads(published.body)}
            result.events.append(listed | sent)
        return result

    def unkeyed(self, window: Window) -> list[Item]:
        """The window's items stored before the index existed, in received order (a Scan)."""
        pages = (
            self.clients("dynamodb")
            .get_paginator("scan")
            .paginate(
                TableName=self.table,
                FilterExpression=UNKEYED,
                ProjectionExpression="transaction_id, received_at, #kind",
                ExpressionAttributeNames={"#order": RECEIVED_ORDER, "#kind": "kind"},
                ExpressionAttributeValues={":lower": {"S": window.lower}, ":upper": {"S": window.upper}},
            )
        )
        found = [from_attributes(stored) for page in pages for stored in page["Items"]]
        return sorted(found, key=lambda item: (str(item["received_at"]), str(item["transaction_id"])))

    def backfill(self, window: Window, apply: bool) -> dict[str, Any]:
        """Give the window's items stored before the index its keys (with `apply`), or list them."""
        keyed: list[dict[str, str]] = []
        for item in self.unkeyed(window):
            transaction_id, received_at = str(item["transaction_id"]), str(item["received_at"])
            if apply:
                keys = index_attributes(transaction_id, received_at)
                try:
                    self.clients("dynamodb").update_item(
                        TableName=self.table,
                        Key={"transaction_id": {"S": transaction_id}},
                        UpdateExpression="SET #day = :day, #order = :order",
                        # Only the item that was read: unkeyed still, received when it was.
                        ConditionExpression="attribute_not_exists(#order) AND received_at = :received_at",
                        ExpressionAttributeNames={"#day": RECEIVED_DAY, "#order": RECEIVED_ORDER},
                        ExpressionAttributeValues={
                            ":day": {"S": str(keys[RECEIVED_DAY])},
                            ":order": {"S": str(keys[RECEIVED_ORDER])},
                            ":received_at": {"S": received_at},
                        },
                    )
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                        raise
                    continue  # keyed since it was read
            keyed.append(_listed(item))
        return {
            "stack": self.stack,
            "since": window.lower,
            "until": window.upper,
            "applied": apply,
            "keyed" if apply else "would_key": keyed,
        }
