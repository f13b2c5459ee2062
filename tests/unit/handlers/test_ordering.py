"""The ordering core: each object's state is its latest event, whatever the arrival order, and exactly
the events that arrive after a later one of their object are stale (docs/webhooks.md, "Ordering")."""

import json
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core import ordering
from handlers.core.lifecycles import LIFECYCLES
from handlers.core.model import SCHEMA_VERSION, HandOff, Item, Transaction
from handlers.core.notifying import MAX_FIFO_ID_LENGTH, fifo_id, notify
from handlers.core.ordering import STATE_KEY, Verdict, decide, object_key
from handlers.core.processing import process
from tapstack import paths
from tests.support.lifecycles import LifecycleEvent, paypal_order, stripe_payment
from tests.support.memory_ports import (
    FakeArchive,
    FakeObjectStates,
    FakeOrderedPublisher,
    FakePublisher,
    FakeStore,
)

LIFECYCLE_CASES = {"stripe payment": stripe_payment(), "paypal order": paypal_order()}


class Run:
    """Deliveries through the processor's and the notifier's cores, over in-memory ports."""

    def __init__(self) -> None:
        self.store, self.archive, self.states = FakeStore(), FakeArchive(), FakeObjectStates()
        self.publisher = FakePublisher()

    def deliver(self, handoff: HandOff) -> Item:
        processed = process(handoff, self.store, self.archive, self.states, "2026-11-23T11:00:00.000Z")
        notify(processed.transaction_id, self.store, self.publisher, "2026-11-23T11:00:01.000Z")
        stored = self.store.get(processed.transaction_id)
        assert stored is not None
        return stored

    def state(self, key: str) -> Item:
        return self.states.records[key]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), case=st.sampled_from(sorted(LIFECYCLE_CASES)))
def test_every_arrival_order_leaves_the_latest_event_and_marks_exactly_the_late_ones(
    data: st.DataObject, case: str
) -> None:
    events = LIFECYCLE_CASES[case]
    redeliveries = data.draw(st.lists(st.sampled_from(events), max_size=4), label="redeliveries")
    arrivals: list[LifecycleEvent] = data.draw(st.permutations(events + redeliveries), label="arrivals")
    run = Run()
    latest: dict[str, LifecycleEvent] = {}
    expected: dict[str, tuple[str, str | None]] = {}
    for event in arrivals:
        item = run.deliver(event.handoff())
        tid = event.transaction.transaction_id
        if tid not in expected:  # first arrival: the verdict is decided now, and kept
            applied = latest.get(event.state_object)
            if applied is not None and applied.order > event.order:
                expected[tid] = ("true", applied.transaction.transaction_id)
            else:
                expected[tid] = ("false", None)
                latest[event.state_object] = event
        assert (item["stale"], item.get("superseded_by")) == expected[tid], tid
        assert "order_uncertain" not in item
    assert sorted(run.store.items) == sorted(e.transaction.transaction_id for e in events)  # once each
    for key, event in latest.items():
        assert event.order == max(e.order for e in events if e.state_object == key)
        assert run.state(key)["transaction_id"] == event.transaction.transaction_id
        assert run.state(key)["occurred_at"] == event.transaction.occurred_at
    published = [(json.loads(body), attributes) for body, _, attributes in run.publisher.sent]
    assert sorted(body["transaction_id"] for body, _ in published) == sorted(expected)  # once each
    for body, attributes in published:
        assert body["stale"] == attributes["stale"] == expected[body["transaction_id"]][0]
        assert body["version"] == SCHEMA_VERSION


def deliver_all(events: list[LifecycleEvent]) -> tuple[Run, list[Item]]:
    run = Run()
    return run, [run.deliver(event.handoff()) for event in events]


def test_same_second_stripe_events_are_ordered_by_their_lifecycle() -> None:
    created, action, *_ = stripe_payment()
    assert created.transaction.occurred_at == action.transaction.occurred_at
    run, (_, late) = deliver_all([action, created])
    assert (late["stale"], late["superseded_by"]) == ("true", action.transaction.transaction_id)
    assert run.state("stripe#pi_1")["event_type"] == "payment_intent.requires_action"


def test_same_second_refunds_are_ordered_by_the_refunds_to_date() -> None:
    *_, partial, full = stripe_payment()
    run, (_, late) = deliver_all([full, partial])
    assert late["stale"] == "true"
    assert run.state("stripe#pi_1")["amount"] == Decimal("20.00")
    assert run.state("stripe#pi_1")["kind"] == "refund_total"


def test_a_paypal_refund_in_its_captures_second_is_ordered_after_the_capture() -> None:
    *_, captured, refunded = paypal_order()
    same_time = replace(refunded.transaction, occurred_at=captured.transaction.occurred_at)
    run = Run()
    run.deliver(replace(refunded.handoff(), transaction=same_time))
    late = run.deliver(captured.handoff())
    assert (late["stale"], late["superseded_by"]) == ("true", refunded.transaction.transaction_id)
    assert run.state("paypal#CAPTURE-1")["event_type"] == "PAYMENT.CAPTURE.REFUNDED"


def test_a_charges_refunds_advance_its_payment_intent() -> None:
    succeeded, refunded = stripe_payment()[2], stripe_payment()[3]
    run, (_, late) = deliver_all([refunded, succeeded])  # "a refunded payment marked paid", prevented
    assert late["stale"] == "true"
    assert run.state("stripe#pi_1")["event_type"] == "charge.refunded"
    assert run.state("stripe#pi_1")["object_id"] == "pi_1"


def test_a_later_timestamp_wins_over_a_higher_rank() -> None:
    """Objects move backwards: a payment can ask for action again after a later failure."""
    _, action, succeeded, *_ = stripe_payment()
    again = replace(
        action.transaction, provider_event_id="evt_action_again", occurred_at="2026-11-23T10:00:02.000Z"
    )
    run = Run()
    run.deliver(succeeded.handoff())
    item = run.deliver(replace(action.handoff(), transaction=again))
    assert item["stale"] == "false"
    assert run.state("stripe#pi_1")["event_type"] == "payment_intent.requires_action"


def test_an_undecidable_tie_is_recorded_and_the_applied_event_stays() -> None:
    """`succeeded` and `canceled` are alternatives of one rank: which came last cannot be told."""
    succeeded = stripe_payment()[2]
    canceled = replace(
        succeeded.transaction, provider_event_id="evt_canceled", event_type="payment_intent.canceled"
    )
    run = Run()
    run.deliver(succeeded.handoff())
    item = run.deliver(replace(succeeded.handoff(), transaction=canceled))
    assert (item["stale"], item["order_uncertain"]) == ("false", "true")
    assert item["tied_with"] == succeeded.transaction.transaction_id
    assert run.state("stripe#pi_1")["transaction_id"] == succeeded.transaction.transaction_id


def generic(event_id: str, occurred_at: str) -> Transaction:
    return Transaction(
        "generic", event_id, "payment.updated", occurred_at, None, None, None, "0" * 64, object_id="pay-1"
    )


def test_without_a_lifecycle_only_the_timestamp_orders() -> None:
    first = generic("a", "2026-11-23T10:00:00.000Z")
    assert decide(
        generic("b", "2026-11-23T10:00:00.001Z"), ordering.state_record(first, "generic#pay-1", "t")
    )
    tie = decide(generic("b", "2026-11-23T10:00:00.000Z"), ordering.state_record(first, "generic#pay-1", "t"))
    assert tie == ordering.Ordering(Verdict.UNCERTAIN, "generic#a")


def test_an_event_without_an_object_or_a_time_has_no_state() -> None:
    assert object_key(replace(generic("a", "t"), object_id=None)) is None
    assert object_key(replace(generic("a", "t"), occurred_at=None)) is None
    assert object_key(replace(generic("a", "t"), quarantine_reason="invalid_event")) is None


class RacedStates(FakeObjectStates):
    """Another processor applies `rival` between this one's read and its write, `times` times."""

    def __init__(self, rival: LifecycleEvent, times: int) -> None:
        super().__init__()
        self.rival, self.times = rival, times

    def put_if_unchanged(self, state: Item, applied_transaction_id: str | None) -> bool:
        if self.times:
            self.times -= 1
            key = str(state[STATE_KEY])
            rival = ordering.state_record(self.rival.transaction, key, "t")
            rival["transaction_id"] = f"{rival['transaction_id']}-{self.times}"  # a new winner each time
            self.records[key] = rival
        return super().put_if_unchanged(state, applied_transaction_id)


@pytest.mark.parametrize(("mine", "rivals"), [(2, 1), (1, 2)])
def test_a_write_lost_to_another_processor_is_decided_again(mine: int, rivals: int) -> None:
    events = stripe_payment()
    states = RacedStates(events[rivals], times=1)
    verdict = ordering.apply(events[mine].transaction, states, "t")
    assert (verdict.verdict is Verdict.STALE) == (rivals > mine)
    winner = events[max(mine, rivals)].transaction.event_type
    assert states.records["stripe#pi_1"]["event_type"] == winner


def test_a_state_that_keeps_changing_fails_the_invocation_for_a_retry() -> None:
    events = stripe_payment()
    states = RacedStates(events[0], times=ordering.MAX_CONTENDED_WRITES)
    with pytest.raises(RuntimeError, match="kept changing"):
        ordering.apply(events[2].transaction, states, "t")


@pytest.mark.parametrize("version", [2, 3])
def test_a_version_2_or_3_handoff_in_flight_is_ordered_and_stored_as_a_webhook_of_the_current_version(
    version: int,
) -> None:
    event = stripe_payment()[0]
    run = Run()
    item = run.deliver(HandOff.from_json(event.handoff().to_json() | {"version": version}))
    assert (item["schema_version"], item["stale"]) == (Decimal(SCHEMA_VERSION), "false")
    assert item["ingested_via"] == "webhook"


def test_the_docs_lifecycle_table_is_the_code() -> None:
    page = (paths.REPOSITORY / "docs" / "webhooks.md").read_text()
    documented: dict[str, dict[str, tuple[int, bool]]] = {}
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in ("Stripe", "PayPal") and cells[1].isdigit():
            for event_type in re.findall(r"`([^`]+)`", cells[2]):
                related = cells[3].startswith("the related object")
                documented.setdefault(cells[0].lower(), {})[event_type] = (int(cells[1]), related)
    code = {
        provider: {name: (stage.rank, stage.advances_related) for name, stage in stages.items()}
        for provider, stages in LIFECYCLES.items()
    }
    assert documented == code


def test_the_fifo_topic_gets_each_message_in_its_objects_group_deduplicated_by_transaction() -> None:
    run, ordered = Run(), FakeOrderedPublisher()
    for event in stripe_payment():
        processed = process(event.handoff(), run.store, run.archive, run.states, "t1")
        notification = notify(processed.transaction_id, run.store, run.publisher, "t2", ordered)
        assert notification["ordered_message_id"].startswith("fifo-")
    assert [(group, dedup) for *_, group, dedup in ordered.sent] == [
        ("stripe#pi_1", event.transaction.transaction_id) for event in stripe_payment()
    ]  # the charge's refunds too: they advance the PaymentIntent
    assert [sent[:3] for sent in ordered.sent] == run.publisher.sent  # the same message, subject, attributes


def test_fifo_ids_longer_than_sns_allows_are_sent_as_their_hash() -> None:
    assert fifo_id("x" * MAX_FIFO_ID_LENGTH) == "x" * MAX_FIFO_ID_LENGTH
    hashed = fifo_id("x" * (MAX_FIFO_ID_LENGTH + 1))
    assert hashed.startswith("sha256:")
    assert len(hashed) <= MAX_FIFO_ID_LENGTH
