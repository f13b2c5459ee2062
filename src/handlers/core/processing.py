"""The processor's work, pure over three ports: archive the raw body, order the event against its
object's state, then store exactly once.

Archive first, so a stored item never points at a missing object. Order before storing, so the stored
item records whether it arrived late (`stale`) from its first write: the item is never rewritten.
The audit key ends with the body's SHA-256: a redelivery of the same body rewrites the same bytes,
and a different body under a reused event id can never overwrite the first one's evidence.
"""

from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from handlers.core import ordering, windows
from handlers.core.model import SCHEMA_VERSION, HandOff, IngestedVia, Item, Processed, Transaction, json_safe


class TransactionStore(Protocol):
    def put_if_absent(self, item: Item) -> bool:
        """Write `item` unless its key exists (first writer wins); True when this call wrote it."""
        ...

    def get(self, transaction_id: str) -> Item | None:
        """The stored item (strongly consistent read), or None."""
        ...


class AuditArchive(Protocol):
    def put(self, key: str, body: bytes, sha256_hex: str) -> None:
        """Store `body` under `key`, integrity-checked against `sha256_hex` by the store."""
        ...


def audit_key(transaction: Transaction, received_at: str) -> str:
    """`raw/<provider>/<YYYY>/<MM>/<DD>/<event id>/<body sha256>.json`, dated by occurrence (UTC).

    A quarantined event has no trusted occurrence time: it is dated by its receipt.
    """
    date = (transaction.occurred_at or received_at)[:10].replace("-", "/")
    return f"raw/{transaction.provider}/{date}/{transaction.provider_event_id}/{transaction.body_sha256}.json"


def process(
    handoff: HandOff,
    store: TransactionStore,
    archive: AuditArchive,
    states: ordering.ObjectStates,
    now: str,
) -> Processed:
    """Archive, order and store one hand-off; the result's wire form is what the on-success
    destination gets.

    A duplicate (redelivery, provider retry, or a retry after a crash between the write and the
    return) changes nothing and returns the stored item: whether to publish is the notifier's
    decision, made on the item's `published_at`, so a crash here never loses the publication. Its
    ordering is decided again and discarded: applying an event already applied changes nothing.
    A version 1 hand-off carries no object and is stored as the version 1 item it is; one of version 2
    or 3 says nothing of how it came in, and came in as a webhook.
    Every item but a quarantined one carries the keys of the index by receipt time
    (handlers.core.windows), which `tapstack republish` reads.
    """
    transaction = handoff.transaction
    if handoff.version != 1 and transaction.ingested_via is None:
        transaction = replace(transaction, ingested_via=IngestedVia.WEBHOOK)  # before version 4: a webhook
    key = audit_key(transaction, handoff.received_at)
    archive.put(key, handoff.body, transaction.body_sha256)
    version = 1 if handoff.version == 1 else SCHEMA_VERSION
    verdict: Item = {} if version == 1 else ordering.apply(transaction, states, now).attributes()
    item: Item = {
        **transaction.attributes(),
        **verdict,
        "schema_version": Decimal(version),
        "audit_object_key": key,
        "received_at": handoff.received_at,
        "correlation_id": handoff.correlation_id,
        "stored_at": now,
    }
    if transaction.quarantine_reason is None:
        item |= windows.index_attributes(transaction.transaction_id, handoff.received_at)
    duplicate = not store.put_if_absent(item)
    if duplicate:
        stored = store.get(transaction.transaction_id)
        if stored is None:
            raise LookupError("the conditional write failed but the item is not there")
        item = stored
    return Processed(json_safe(item), duplicate)
