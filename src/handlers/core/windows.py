"""Reading stored events by the time they were received, without scanning the table.

The transactions table's global secondary index by receipt time (templates/storage.py) is keyed by
two attributes the processor writes on every item it stores, except a quarantined one (never
published, so never republished: the index is sparse and holds none):

- `received_day`, the partition key: the receipt's UTC day and a shard, `YYYY-MM-DD#n`, with `n` from
  the transaction id's hash, in `0 .. RECEIVED_DAY_SHARDS - 1`;
- `received_order`, the sort key: `<received_at>#<transaction_id>`, so items sort in received order,
  ties broken by the id, and no two items share a sort key.

Why shards: one index partition key value takes at most 1,000 write units a second, and a write the
index throttles throttles the table's own write, that is the processor. A bare day key would put the
whole day's traffic on one such value; `RECEIVED_DAY_SHARDS` of them take that many times more. The
price is on the read side: a window costs one Query per shard and day (8 a day, paginated), merged
in order here (`in_received_order`), which an operator's occasional replay can afford. The count is
part of every stored key: raise it only (the reads then query the new shards too, empty on older
days), never lower it, or the items in the dropped shards are no longer read.

`received_at` is the receiver's `utc_iso` (fixed width, milliseconds, `Z`), so text order is time
order and a window's bounds are compared as text.
"""

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from handlers.core.fields import utc_iso
from handlers.core.model import Item

RECEIVED_DAY = "received_day"
RECEIVED_ORDER = "received_order"
RECEIVED_DAY_SHARDS = 8
"""Index partition key values per day: 8,000 writes a second before the index throttles a write."""


def shard_of(transaction_id: str) -> int:
    """The shard of a transaction: stable across processes (a hash, not Python's `hash`)."""
    return int.from_bytes(hashlib.sha256(transaction_id.encode()).digest()[:4], "big") % RECEIVED_DAY_SHARDS


def index_attributes(transaction_id: str, received_at: str) -> Item:
    """The index keys the processor adds to an item it stores (not to a quarantined one)."""
    return {
        RECEIVED_DAY: f"{received_at[:10]}#{shard_of(transaction_id)}",
        RECEIVED_ORDER: f"{received_at}#{transaction_id}",
    }


@dataclass(frozen=True, slots=True)
class Window:
    """Receipts at or after `since` and before `until` (to the millisecond, as stored)."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("a window's bounds need a UTC offset")
        if self.since >= self.until:
            raise ValueError(f"the window is empty: {self.lower} is not before {self.upper}")

    @property
    def lower(self) -> str:
        return utc_iso(self.since)

    @property
    def upper(self) -> str:
        return utc_iso(self.until)

    def day_keys(self) -> list[list[str]]:
        """The index partition keys to query, day by day (in order), each day's shards together.

        `received_order BETWEEN lower AND upper` then selects exactly the window: every sort key is
        `<received_at>#…`, above `lower` when received at or after it, above `upper` when received at
        or after `until` (a key equal to `upper` cannot exist).
        """
        first = self.since.astimezone(UTC).date()
        last = (self.until.astimezone(UTC) - timedelta(milliseconds=1)).date()
        days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
        return [[f"{day.isoformat()}#{shard}" for shard in range(RECEIVED_DAY_SHARDS)] for day in days]


def in_received_order(days: Iterable[Iterable[Iterable[Item]]]) -> Iterator[Item]:
    """Index entries of consecutive days, each day as its shards' query results (each sorted by
    `received_order`, as a Query returns them), as one stream in received order.

    The days are disjoint and in order, so they are concatenated; a day's shards are merged lazily,
    a page at a time, so a long window is never held whole.
    """
    for shards in days:
        yield from heapq.merge(*shards, key=lambda entry: str(entry[RECEIVED_ORDER]))


def parse_moment(text: str, now: datetime) -> datetime:
    """A window bound: ISO 8601 with a UTC offset (`Z` or `+02:00`), a UTC date (`2026-12-01`), or a
    time before `now`: `<n>d`, `<n>h` or `<n>m` (days, hours, minutes ago).

    ValueError, saying what is accepted, for anything else (a time without an offset is ambiguous).
    """
    value = text.strip()
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if value[-1:] in units and value[:-1].isdigit():
        return now - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is not None and len(value) == len("YYYY-MM-DD"):
        return moment.replace(tzinfo=UTC)
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"{text!r} is not a time: give ISO 8601 with an offset (2026-12-01T09:00:00Z, "
            "2026-12-01T10:00:00+01:00), a UTC date (2026-12-01), or a time ago (90m, 24h, 7d)"
        )
    return moment
