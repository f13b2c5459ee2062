"""The notifier's work, pure over its ports: publish a stored transaction once it is not yet published.

Delivery is at least once: if the publication succeeds but recording `published_at` fails, the
retry publishes again. Subscribers deduplicate on `transaction_id`, which every message carries.
With the opt-in FIFO topic (OrderedDeliveryTopic), each message is published there too, after the
standard topic: message group the object whose state the event advances, deduplication id the
transaction, so SNS drops a retry's second copy within its 5-minute deduplication window.

`publication` is the one model of what is published for an item: the notifier's messages and
`tapstack republish`'s (tapstack/operate/republish.py), which marks its copies `republished`.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NotRequired, Protocol, TypedDict

from handlers.core.model import Item
from handlers.core.ordering import stored_object_key

REPUBLISHED = "republished"
"""Body field and message attribute (`true`) of a copy `tapstack republish` sent: never stored, so
absent on the original."""
PUBLISHED_ATTRIBUTES = (
    "transaction_id",
    "provider",
    "provider_event_id",
    "event_type",
    "occurred_at",
    "kind",
    "direction",
    "amount",
    "currency",
    "object_id",
    "related_object_id",
    "status",
    "body_sha256",
    "audit_object_key",
    "received_at",
    "stored_at",
    "stale",
    "superseded_by",
    "order_uncertain",
    "tied_with",
    "ingested_via",
    "provenance",
    "simulated",
    REPUBLISHED,
)
"""The message's fields (docs/webhooks.md, "Money model"); those the item lacks are absent, never null."""
FILTER_ATTRIBUTES = ("provider", "event_type", "currency", "stale", "ingested_via", "simulated", REPUBLISHED)
"""Published as SNS message attributes so subscriptions can filter on them (`stale` from version 3,
`ingested_via` from version 4; `simulated` on developer stacks that accept PayPal's simulator)."""
MAX_FIFO_ID_LENGTH = 128
"""SNS's limit on a message group id and a deduplication id; longer ones are sent as their hash."""
MAX_SUBJECT_LENGTH = 99
"""SNS wants a Subject of *less than* 100 characters: exactly 100 is refused, a poison message."""


class PublicationStore(Protocol):
    def get(self, transaction_id: str) -> Item | None: ...

    def mark_published(self, transaction_id: str, published_at: str, message_id: str) -> bool:
        """Set `published_at` unless already set; True when this call set it."""
        ...


class Publisher(Protocol):
    def publish(self, message: str, subject: str, attributes: Mapping[str, str]) -> str:
        """Publish and return the message id."""
        ...


class OrderedPublisher(Protocol):
    def publish_in_group(
        self, message: str, subject: str, attributes: Mapping[str, str], group_id: str, deduplication_id: str
    ) -> str:
        """Publish to the FIFO topic and return the message id."""
        ...


class Notification(TypedDict):
    """The notifier's result: whether this call published, and why not when it did not."""

    transaction_id: str
    published: bool
    quarantined: NotRequired[bool]
    already_published_at: NotRequired[str]
    message_id: NotRequired[str]
    ordered_message_id: NotRequired[str]
    recorded: NotRequired[bool]


def message(item: Item) -> str:
    """The event for subscribers: amounts as exact decimal strings, never JSON numbers.

    Its `version` is the item's schema version: items stored before version 2 (no `schema_version`)
    are published, if a replay publishes them, as the version 1 messages they are.
    """
    version = int(item.get("schema_version", 1))
    body = {"version": version} | {key: str(item[key]) for key in PUBLISHED_ATTRIBUTES if key in item}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def subject(item: Item) -> str:
    """What SNS requires of a Subject: ASCII without line breaks or control characters, beginning
    with a letter, number or punctuation mark, less than 100 characters long."""
    text = f"{item.get('provider', '')} {item.get('event_type', '')}".strip() or "transaction"
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:MAX_SUBJECT_LENGTH]


def fifo_id(text: str) -> str:
    """`text` as a FIFO message group or deduplication id: itself, or `sha256:<hex>` when too long
    (object and event ids are tokens of up to 255 characters SNS accepts, bar the length)."""
    if len(text) <= MAX_FIFO_ID_LENGTH:
        return text
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"


def message_group(item: Item) -> str:
    """The object whose state the event advances (handlers.core.ordering), else the transaction."""
    return fifo_id(stored_object_key(item) or str(item["transaction_id"]))


@dataclass(frozen=True, slots=True)
class Publication:
    """Everything published for one item: body, Subject and message attributes, and, for a FIFO
    topic or queue, its message group and deduplication id."""

    body: str
    subject: str
    attributes: dict[str, str]
    group_id: str
    deduplication_id: str


def publication(item: Item, republished: bool = False) -> Publication:
    """What is published for a stored item; a republished copy says so in its body and attributes."""
    source: Item = item | {REPUBLISHED: "true"} if republished else item
    return Publication(
        body=message(source),
        subject=subject(item),
        attributes={key: str(source[key]) for key in FILTER_ATTRIBUTES if key in source},
        group_id=message_group(item),
        deduplication_id=fifo_id(str(item["transaction_id"])),
    )


def notify(
    transaction_id: str,
    store: PublicationStore,
    publisher: Publisher,
    now: str,
    ordered: OrderedPublisher | None = None,
) -> Notification:
    """Publish the stored transaction unless it was published, to the FIFO topic too when `ordered`;
    raise on any failure."""
    item = store.get(transaction_id)
    if item is None:
        raise LookupError("the processor reported a transaction that is not stored")
    if "quarantine_reason" in item:  # not a payment event: the quarantine alarm tells operators
        return {"transaction_id": transaction_id, "published": False, "quarantined": True}
    if "published_at" in item:
        return {
            "transaction_id": transaction_id,
            "published": False,
            "already_published_at": str(item["published_at"]),
        }
    published = publication(item)
    message_id = publisher.publish(published.body, published.subject, published.attributes)
    notification: Notification = {
        "transaction_id": transaction_id,
        "published": True,
        "message_id": message_id,
    }
    if ordered is not None:
        notification["ordered_message_id"] = ordered.publish_in_group(
            published.body,
            published.subject,
            published.attributes,
            published.group_id,
            published.deduplication_id,
        )
    notification["recorded"] = store.mark_published(transaction_id, now, message_id)
    return notification
