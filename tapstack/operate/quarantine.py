"""Quarantined deliveries: list them, show one, and reprocess them once the code can normalise them.

A quarantined item is a verified delivery the receiver could not normalise (src/handlers/core/
receiving.py): stored with `quarantine_reason` and `quarantine_detail`, archived, never published.

Listing is a Scan filtered on `quarantine_reason`: the table's key is `transaction_id` and its one index,
by receipt time, holds no quarantined item (templates/storage.py). A scan reads the whole table (half a
read unit per 4 KB, eventually consistent), which is fine for a command run after the quarantine alarm; no
index is added for it, as one would cost every quarantined write for an occasional operator read. Should
the table grow so large that a scan matters, a sparse index on `quarantine_reason` would make this a
query.

Reprocessing re-runs the receiver's normalisation (`receiving.normalise_body`) on the archived raw
body; for a catalogue provider, whose archive is the whole delivery (a batch's too), it splits it as
the verifier does and normalises the one event the item is keyed by (`receiving.normalise_archived_event`;
GitHub's and Shopify's event types are headers, so their events are refused, saying so). The signature
is not checked again: it was verified at receipt, and the archive holds the body, not the headers. A
delivery that now normalises goes through the processor's and the notifier's own
steps (`processing.process`, `notifying.notify`), so storing and publishing stay exactly once, and the
event is ordered against its object's state like any other (stale if a later event is applied): the
processor's conditional write here replaces the item only while it is still the quarantined one that
was read (`ReplacingStore`), and the notifier publishes only an item without `published_at`. The
replacement records `reprocessed_at`, `former_quarantine_reason` and `former_audit_object_key`; one
interrupted between storing and publishing (stored, not published) is finished by the next reprocess.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from handlers.aws import (
    DynamoObjectStates,
    DynamoTransactions,
    S3Archive,
    SnsPublisher,
    from_attributes,
    to_attributes,
)
from handlers.core import receiving
from handlers.core.fields import utc_iso
from handlers.core.model import HandOff, Item, json_safe
from handlers.core.notifying import notify
from handlers.core.processing import process
from handlers.providers.catalogue import CATALOGUE
from tapstack.operate.cloud import Clients, outputs_of
from tapstack.operate.deployment import Deployment
from templates.contract import (
    AUDIT_BUCKET_NAME,
    OBJECTS_TABLE_NAME,
    PAYMENT_EVENTS_TOPIC_ARN,
    TRANSACTIONS_TABLE_NAME,
)

QUARANTINED = "attribute_exists(quarantine_reason)"
UNPUBLISHED_REPLACEMENT = "attribute_exists(reprocessed_at) AND attribute_not_exists(published_at)"
"""A replacement whose reprocess stopped between storing and publishing: the next one publishes it."""


def _now() -> str:
    return utc_iso(datetime.now(UTC))


@dataclass(frozen=True)
class Entry:
    """One line of `quarantine list`."""

    transaction_id: str
    provider: str
    reason: str
    detail: str
    received_at: str

    def line(self) -> str:
        return f"{self.received_at}  {self.transaction_id}  {self.provider}  {self.reason}: {self.detail}"


@dataclass(frozen=True)
class Outcome:
    """What `reprocess` did with one id; `resolved` is False when it is still quarantined or failed."""

    transaction_id: str
    message: str
    resolved: bool

    def line(self) -> str:
        return f"{self.transaction_id}: {self.message}"


class ReplacingStore(DynamoTransactions):
    """The processor's store, for one quarantined item: "absent" means "still that quarantined item".

    The normalised item replaces it under the same key with one conditional put, or, when the key
    changed (it was quarantined under `sha256:<body hash>`), with a transaction that writes the new key
    only if absent and deletes the quarantined one only if unchanged. A failed condition is a duplicate,
    as in the processor: another reprocess (or the provider's redelivery) stored it first.
    """

    def __init__(self, client: Any, table_name: str, quarantined: Item, now: str) -> None:
        super().__init__(client, table_name)
        self._quarantined = quarantined
        self._now = now

    def put_if_absent(self, item: Item) -> bool:
        quarantined = self._quarantined
        replacement = item | {
            "reprocessed_at": self._now,
            "former_quarantine_reason": quarantined["quarantine_reason"],
            "former_audit_object_key": quarantined["audit_object_key"],
        }
        serialized = to_attributes(replacement)
        still_quarantined = {
            "ConditionExpression": "quarantine_reason = :reason AND body_sha256 = :sha256",
            "ExpressionAttributeValues": {
                ":reason": {"S": str(quarantined["quarantine_reason"])},
                ":sha256": {"S": str(quarantined["body_sha256"])},
            },
        }
        try:
            if item["transaction_id"] == quarantined["transaction_id"]:
                self._client.put_item(TableName=self._table, Item=serialized, **still_quarantined)
            else:
                key = {"transaction_id": {"S": str(quarantined["transaction_id"])}}
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": serialized,
                                "ConditionExpression": "attribute_not_exists(transaction_id)",
                            }
                        },
                        {"Delete": {"TableName": self._table, "Key": key, **still_quarantined}},
                    ]
                )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                return False
            raise
        return True


@dataclass(frozen=True)
class StackQuarantine:
    """The quarantine of one deployed stack: its table, audit bucket and events topic."""

    clients: Clients
    table: str
    bucket: str
    topic_arn: str
    objects_table: str

    @classmethod
    def of_deployment(cls, deployment: Deployment) -> StackQuarantine:
        """Raises the ClientError "Stack with id … does not exist" when it is not deployed."""
        clients = deployment.clients
        described = clients("cloudformation").describe_stacks(StackName=deployment.stack)
        outputs = outputs_of(described["Stacks"][0])
        return cls(
            clients,
            outputs[TRANSACTIONS_TABLE_NAME],
            outputs[AUDIT_BUCKET_NAME],
            outputs[PAYMENT_EVENTS_TOPIC_ARN],
            outputs[OBJECTS_TABLE_NAME],
        )

    @property
    def _store(self) -> DynamoTransactions:
        return DynamoTransactions(self.clients("dynamodb"), self.table)

    def _scan(self, condition: str) -> Iterator[Item]:
        pages = (
            self.clients("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=self.table, FilterExpression=condition)
        )
        for page in pages:
            for stored in page["Items"]:
                yield from_attributes(stored)

    def entries(self) -> list[Entry]:
        """Every quarantined item, oldest receipt first."""
        found = [
            Entry(
                str(item["transaction_id"]),
                str(item.get("provider", "")),
                str(item["quarantine_reason"]),
                str(item.get("quarantine_detail", "")),
                str(item.get("received_at", "")),
            )
            for item in self._scan(QUARANTINED)
        ]
        return sorted(found, key=lambda entry: (entry.received_at, entry.transaction_id))

    def _archived_body(self, item: Item) -> bytes:
        """The raw body under the item's `audit_object_key`, checked against its `body_sha256`."""
        response = self.clients("s3").get_object(Bucket=self.bucket, Key=str(item["audit_object_key"]))
        body = bytes(response["Body"].read())
        if hashlib.sha256(body).hexdigest() != item["body_sha256"]:
            raise ValueError(f"the archived body {item['audit_object_key']} does not match body_sha256")
        return body

    def show(self, transaction_id: str) -> dict[str, Any]:
        """The stored item, its archive key and the archived body (text, or base64 if not UTF-8)."""
        item = self._store.get(transaction_id)
        if item is None:
            raise LookupError(f"no item {transaction_id} in {self.table}: `quarantine list` shows the ids")
        body = self._archived_body(item)
        try:
            shown: dict[str, str] = {"body": body.decode("utf-8")}
        except UnicodeDecodeError:
            shown = {"body_base64": base64.b64encode(body).decode("ascii")}
        return {"item": json_safe(item), "audit_object_key": str(item["audit_object_key"]), **shown}

    def reprocess(self, transaction_ids: list[str] | None) -> list[Outcome]:
        """Reprocess the given ids, or (None) every quarantined item and unpublished replacement."""
        if transaction_ids is None:
            items = list(self._scan(f"{QUARANTINED} OR ({UNPUBLISHED_REPLACEMENT})"))
            return [self._reprocess_item(str(item["transaction_id"]), item) for item in items]
        return [self._reprocess_item(tid, self._store.get(tid)) for tid in transaction_ids]

    def _reprocess_item(self, transaction_id: str, item: Item | None) -> Outcome:
        try:
            return self._reprocess(transaction_id, item)
        except (ClientError, LookupError, ValueError) as error:
            return Outcome(transaction_id, f"failed: {error}", resolved=False)

    def _reprocess(self, transaction_id: str, item: Item | None) -> Outcome:
        if item is None:
            return Outcome(transaction_id, "not found", resolved=False)
        if "quarantine_reason" not in item:
            if "reprocessed_at" in item and "published_at" not in item:
                return self._publish(transaction_id, transaction_id)
            published = f" (published at {item['published_at']})" if "published_at" in item else ""
            return Outcome(transaction_id, f"not quarantined{published}: nothing to do", resolved=True)
        provider = str(item["provider"])
        body = self._archived_body(item)
        if provider in CATALOGUE:  # its archive is the whole delivery: this one event of it
            transaction = receiving.normalise_archived_event(provider, body, str(item["provider_event_id"]))
        else:
            transaction = receiving.normalise_body(provider, body)
        if transaction.quarantine_reason is not None:
            message = f"still quarantined: {transaction.quarantine_reason}: {transaction.quarantine_detail}"
            return Outcome(transaction_id, message, resolved=False)
        handoff = HandOff(transaction, body, str(item["received_at"]), str(item["correlation_id"]))
        now = _now()
        store = ReplacingStore(self.clients("dynamodb"), self.table, item, now)
        archive = S3Archive(self.clients("s3"), self.bucket)
        states = DynamoObjectStates(self.clients("dynamodb"), self.objects_table)
        processed = process(handoff, store, archive, states, now)
        if processed.duplicate and self._store.get(transaction_id) == item:
            # Only a new key can be taken while the quarantined item stays: by another delivery.
            message = f"not stored: {transaction.transaction_id} holds another delivery; this one is kept"
            return Outcome(transaction_id, message, resolved=False)
        return self._publish(transaction_id, transaction.transaction_id)

    def _publish(self, transaction_id: str, stored_id: str) -> Outcome:
        """The notifier's step on the stored item."""
        publisher = SnsPublisher(self.clients("sns"), self.topic_arn)
        published = notify(stored_id, self._store, publisher, _now())
        stored_as = "" if stored_id == transaction_id else f" as {stored_id}"
        if published["published"]:
            message = f"stored{stored_as} and published (message {published['message_id']})"
            return Outcome(transaction_id, message, resolved=True)
        if published.get("quarantined"):
            return Outcome(transaction_id, f"not stored: {stored_id} is quarantined itself", resolved=False)
        message = f"stored{stored_as}, already published at {published['already_published_at']}"
        return Outcome(transaction_id, message, resolved=True)
