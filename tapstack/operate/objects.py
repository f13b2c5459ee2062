"""One provider object as the stack knows it: its applied state (the objects table) and its events
(the transactions table), for `tapstack object` and `tapstack local object`.

The events are found with a Scan of the transactions table filtered on the object's id: the table's key is
`transaction_id` and its one index is by receipt time (templates/storage.py). A scan reads the whole table
(half a read unit per 4 KB, eventually consistent), which is fine for an operator's question about one
payment; an index on the object would cost every stored event a second write for an occasional read, as
for `tapstack quarantine list`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from handlers.aws import DynamoObjectStates, from_attributes
from handlers.core.model import Item, json_safe
from handlers.core.ordering import Position, stored_object_key
from tapstack.operate.cloud import Clients, outputs_of
from tapstack.operate.deployment import Deployment
from templates.contract import OBJECTS_TABLE_NAME, TRANSACTIONS_TABLE_NAME

EVENT_FIELDS = ("transaction_id", "event_type", "occurred_at", "stale", "superseded_by", "order_uncertain")
"""What `events` shows of each stored event, those it has."""


def _history_order(item: Item) -> tuple[object, ...]:
    """The ordering core's position made total for display: unranked types first within a tie, then
    arrival. Items with an object always have an `occurred_at` (quarantined ones have no object)."""
    position = Position.of(item)
    return (position.at, position.rank or 0, position.progress or 0, str(item["received_at"]))


@dataclass(frozen=True)
class StackObjects:
    clients: Clients
    transactions_table: str
    objects_table: str

    @classmethod
    def of_deployment(cls, deployment: Deployment) -> StackObjects:
        """Raises the ClientError "Stack with id … does not exist" when it is not deployed."""
        described = deployment.clients("cloudformation").describe_stacks(StackName=deployment.stack)
        outputs = outputs_of(described["Stacks"][0])
        return cls(deployment.clients, outputs[TRANSACTIONS_TABLE_NAME], outputs[OBJECTS_TABLE_NAME])

    def _candidates(self, provider: str, object_id: str) -> Iterator[Item]:
        """Items naming the object as theirs or as the one they belong to."""
        pages = (
            self.clients("dynamodb")
            .get_paginator("scan")
            .paginate(
                TableName=self.transactions_table,
                FilterExpression="provider = :provider AND (object_id = :id OR related_object_id = :id)",
                ExpressionAttributeValues={":provider": {"S": provider}, ":id": {"S": object_id}},
            )
        )
        for page in pages:
            for stored in page["Items"]:
                yield from_attributes(stored)

    def describe(self, provider: str, object_id: str) -> dict[str, Any]:
        """`state`: the applied event (null when none was applied); `events`: those that advance this
        object's state, in the order they happened."""
        key = f"{provider}#{object_id}"
        state = DynamoObjectStates(self.clients("dynamodb"), self.objects_table).get(key)
        events = sorted(
            (item for item in self._candidates(provider, object_id) if stored_object_key(item) == key),
            key=_history_order,
        )
        return {
            "object_key": key,
            "state": None if state is None else json_safe(state),
            "events": [{name: str(item[name]) for name in EVENT_FIELDS if name in item} for item in events],
        }
