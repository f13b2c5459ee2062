"""In-memory implementations of the handlers' core ports, for tests of the pure cores."""

import hashlib
from collections.abc import Mapping

from handlers.core.model import Item
from handlers.core.ordering import STATE_KEY


class FakeStore:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def put_if_absent(self, item: Item) -> bool:
        if item["transaction_id"] in self.items:
            return False
        self.items[str(item["transaction_id"])] = dict(item)
        return True

    def get(self, transaction_id: str) -> Item | None:
        return self.items.get(transaction_id)

    def mark_published(self, transaction_id: str, published_at: str, message_id: str) -> bool:
        item = self.items[transaction_id]
        if "published_at" in item:
            return False
        item["published_at"] = published_at
        item["sns_message_id"] = message_id
        return True


class FakeArchive:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes, sha256_hex: str) -> None:
        assert hashlib.sha256(body).hexdigest() == sha256_hex
        self.objects[key] = body


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def publish(self, message: str, subject: str, attributes: Mapping[str, str]) -> str:
        self.sent.append((message, subject, dict(attributes)))
        return f"m-{len(self.sent)}"


class FakeObjectStates:
    """The objects table's conditional write: replace only the record that was read."""

    def __init__(self) -> None:
        self.records: dict[str, Item] = {}

    def get(self, object_key: str) -> Item | None:
        return self.records.get(object_key)

    def put_if_unchanged(self, state: Item, applied_transaction_id: str | None) -> bool:
        current = self.records.get(str(state[STATE_KEY]))
        if (None if current is None else current["transaction_id"]) != applied_transaction_id:
            return False
        self.records[str(state[STATE_KEY])] = dict(state)
        return True


class FakeOrderedPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str], str, str]] = []
        """(message, subject, attributes, group id, deduplication id)"""

    def publish_in_group(
        self, message: str, subject: str, attributes: Mapping[str, str], group_id: str, deduplication_id: str
    ) -> str:
        self.sent.append((message, subject, dict(attributes), group_id, deduplication_id))
        return f"fifo-{len(self.sent)}"
