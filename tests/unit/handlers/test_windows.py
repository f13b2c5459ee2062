"""Reading by receipt time (handlers.core.windows): the index keys the processor writes, the window's
partition keys and sort-key bounds, and the merge of the shards' query results in received order.

The index is modelled as DynamoDB documents a Query over it: one partition key value at a time, sort
keys compared as text with BETWEEN inclusive at both ends, results in sort-key order, a page at a time.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.core.fields import utc_iso
from handlers.core.model import HandOff, Item, Transaction
from handlers.core.processing import process
from handlers.core.windows import (
    RECEIVED_DAY,
    RECEIVED_DAY_SHARDS,
    RECEIVED_ORDER,
    Window,
    in_received_order,
    index_attributes,
    parse_moment,
    shard_of,
)
from tests.support.lifecycles import stripe_payment
from tests.support.memory_ports import FakeArchive, FakeObjectStates, FakeStore

START = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)

# Receipts over three days around midnights, many in the same millisecond (ties broken by the id).
moments = st.integers(0, 3 * 24 * 3600 * 1000).map(lambda ms: START + timedelta(milliseconds=ms))
tied_moments = st.sampled_from([START, START + timedelta(hours=2), START + timedelta(days=1, hours=2)])
receipts = st.dictionaries(
    st.from_regex(r"stripe#evt_[a-z0-9]{1,8}", fullmatch=True),
    st.one_of(moments, tied_moments).map(utc_iso),
    max_size=60,
)


def _index(stored: dict[str, str]) -> list[Item]:
    """The index entries of items received at these times, as the processor keys them."""
    return [
        {"transaction_id": tid, **index_attributes(tid, received_at)} for tid, received_at in stored.items()
    ]


def _query(index: list[Item], day_key: str, window: Window, page_size: int) -> Iterator[Item]:
    """One partition key value's entries with BETWEEN on the sort key, in sort-key order, page by page."""
    in_partition = [entry for entry in index if entry[RECEIVED_DAY] == day_key]
    matching = sorted(
        (entry for entry in in_partition if window.lower <= str(entry[RECEIVED_ORDER]) <= window.upper),
        key=lambda entry: str(entry[RECEIVED_ORDER]),
    )
    for start in range(0, len(matching), page_size):
        yield from matching[start : start + page_size]


@given(receipts, moments, moments, st.integers(1, 5))
def test_a_window_reads_exactly_its_receipts_in_received_order_ties_by_id(
    stored: dict[str, str], first: datetime, second: datetime, page_size: int
) -> None:
    since, until = sorted([first, second])
    if since == until:
        until += timedelta(milliseconds=1)
    window = Window(since, until)
    index = _index(stored)

    days = ([_query(index, key, window, page_size) for key in shards] for shards in window.day_keys())
    read = [str(entry["transaction_id"]) for entry in in_received_order(days)]

    expected = sorted(
        (tid for tid, at in stored.items() if utc_iso(since) <= at < utc_iso(until)),
        key=lambda tid: (stored[tid], tid),
    )
    assert read == expected


@given(receipts)
def test_every_receipt_is_in_one_of_its_days_shards(stored: dict[str, str]) -> None:
    for entry in _index(stored):
        day, _, shard = str(entry[RECEIVED_DAY]).partition("#")
        assert day == stored[str(entry["transaction_id"])][:10]
        assert int(shard) == shard_of(str(entry["transaction_id"])) in range(RECEIVED_DAY_SHARDS)


def test_a_day_s_traffic_spreads_over_every_shard() -> None:
    shards = [shard_of(f"stripe#evt_{number}") for number in range(8000)]
    counts = [shards.count(shard) for shard in range(RECEIVED_DAY_SHARDS)]
    assert min(counts) > 0.8 * len(shards) / RECEIVED_DAY_SHARDS, counts


def test_a_window_ending_at_midnight_does_not_query_the_next_day() -> None:
    window = Window(datetime(2026, 12, 1, 23, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
    assert [keys[0] for keys in window.day_keys()] == ["2026-12-01#0"]
    assert len(window.day_keys()[0]) == RECEIVED_DAY_SHARDS


def test_a_window_is_refused_when_empty_or_without_an_offset() -> None:
    with pytest.raises(ValueError, match="empty"):
        Window(NOW, NOW)
    with pytest.raises(ValueError, match="offset"):
        Window(NOW.replace(tzinfo=None), NOW + timedelta(hours=1))


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-01T09:00:00Z", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("2026-12-01T10:00:00+01:00", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("90m", NOW - timedelta(minutes=90)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
    ],
)
def test_a_bound_is_iso_8601_with_an_offset_a_utc_date_or_a_time_ago(text: str, moment: datetime) -> None:
    assert parse_moment(text, NOW) == moment


@pytest.mark.parametrize("text", ["2026-12-01T09:00:00", "yesterday", "7w", "", "-1d", "d"])
def test_a_bound_that_is_not_a_time_or_lacks_an_offset_is_refused_saying_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601 with an offset"):
        parse_moment(text, NOW)


def test_the_processor_keys_every_stored_item_but_a_quarantined_one() -> None:
    store = FakeStore()
    event = stripe_payment("windows")[0]
    received_at = "2026-12-01T09:00:00.123Z"
    handoff = HandOff(event.transaction, event.body, received_at, "corr")
    process(handoff, store, FakeArchive(), FakeObjectStates(), "2026-12-01T09:00:00.200Z")
    item = store.get(event.transaction.transaction_id)
    assert item is not None
    assert item[RECEIVED_ORDER] == f"{received_at}#{event.transaction.transaction_id}"
    assert item[RECEIVED_DAY] == f"2026-12-01#{shard_of(event.transaction.transaction_id)}"

    quarantined = HandOff(
        Transaction(
            provider="stripe",
            provider_event_id="evt_odd",
            event_type=None,
            occurred_at=None,
            amount=None,
            currency=None,
            status=None,
            body_sha256=event.transaction.body_sha256,
            quarantine_reason="invalid_event",
            quarantine_detail="odd",
        ),
        event.body,
        received_at,
        "corr",
    )
    process(quarantined, store, FakeArchive(), FakeObjectStates(), "2026-12-01T09:00:00.200Z")
    stored = store.get("stripe#evt_odd")
    assert stored is not None
    assert RECEIVED_DAY not in stored
    assert RECEIVED_ORDER not in stored
