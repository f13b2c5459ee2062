"""The reconciler's pure core against the local Stripe and PayPal stand-ins answered in process (no
socket): many pages, a 429 with Retry-After, a 5xx mid-window, a budget that runs out and resumes,
a cursor past the retention horizon. Nothing skipped, nothing handed over twice."""

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import reconciler
from handlers.core.model import HandOff, IngestedVia
from handlers.core.processing import process
from handlers.core.reconciling import (
    BATCH_READ_KEYS,
    Cursor,
    Reconciler,
    Settings,
    Window,
    raw_items,
)
from handlers.core.secrets import ApiCredentials, PaypalApiCredential
from handlers.providers.api_calls import ApiAnswer, ApiCall
from handlers.providers.paypal_events import PaypalEvents
from handlers.providers.stripe_events import StripeEvents
from tapstack.local.provider_apis import InjectedAnswer, ProviderApiServer
from tapstack.local.provider_apis.stand_ins import provider_api_server, record_creation
from templates.contract import PROVIDER_EVENT_RETENTION_DAYS, RECONCILED_PROVIDERS
from tests.support.memory_ports import FakeArchive, FakeObjectStates, FakeStore

KEY = "rk_test_reconcile"
CLIENT = PaypalApiCredential("local-client", "local-secret")
CLIENT_JSON = {"client_id": "local-client", "client_secret": "local-secret"}
NOW = 1_790_000_000
STRIPE_BASE = "https://api.stripe.com"


class Clock:
    """Seconds that move only when the code sleeps or a provider call takes its time."""

    def __init__(self, now: float = NOW, per_call: float = 0.0) -> None:
        self.now = now
        self.per_call = per_call
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Table:
    """The transactions table as the reconciler sees it: what is stored; a hand-off is stored at once."""

    def __init__(self, stored: set[str] | None = None) -> None:
        self.stored = set(stored or ())
        self.handed: Counter[str] = Counter()
        self.reads: list[int] = []

    def existing(self, transaction_ids: Sequence[str]) -> set[str]:
        assert len(transaction_ids) <= BATCH_READ_KEYS
        self.reads.append(len(transaction_ids))
        return self.stored & set(transaction_ids)

    def dispatch(self, handoff: HandOff) -> None:
        self.handed[handoff.transaction.transaction_id] += 1
        self.stored.add(handoff.transaction.transaction_id)


class Cursors:
    def __init__(self) -> None:
        self.saved: dict[str, Cursor] = {}

    def load(self, provider: str) -> Cursor | None:
        return self.saved.get(provider)

    def save(self, provider: str, cursor: Cursor) -> None:
        # Through its JSON, as the state table keeps it.
        self.saved[provider] = Cursor.from_json(json.loads(json.dumps(cursor.to_json())))


def stripe_body(number: int, created: int) -> bytes:
    return json.dumps(
        {
            "id": f"evt_{number:06d}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": created,
            "type": "refund.created",
            "data": {
                "object": {
                    "id": f"re_{number}",
                    "object": "refund",
                    "amount": 1999,
                    "currency": "usd",
                    "payment_intent": f"pi_{number}",
                    "status": "succeeded",
                }
            },
        },
        separators=(",", ":"),
    ).encode()


def stand_in(tmp_path: Path, count: int, start: int = NOW - 3000, spacing: float = 1) -> ProviderApiServer:
    for number in range(count):
        record_creation("stripe", stripe_body(number, int(start + number * spacing)), False, tmp_path)
    credentials = ApiCredentials((KEY,), (CLIENT,))
    return provider_api_server(credentials, tmp_path)


class Calls:
    """A Fetch into the stand-in that counts calls, lets the clock run per call, and from call number
    `failing_from` on answers 500 as a provider outage would."""

    def __init__(self, server: ProviderApiServer, clock: Clock) -> None:
        self.server = server
        self.clock = clock
        self.count = 0
        self.failing_from: int | None = None

    def __call__(self, call: ApiCall) -> ApiAnswer:
        self.count += 1
        self.clock.now += self.clock.per_call
        if self.failing_from is not None and self.count >= self.failing_from:
            return ApiAnswer(500, {}, b'{"error":{"type":"api_error"}}')
        return self.server.in_process(call)


def stripe_reconciler(
    server: ProviderApiServer, table: Table, clock: Clock, *, apply: bool = True, calls: Calls | None = None
) -> Reconciler:
    log = StripeEvents([KEY], calls or Calls(server, clock), STRIPE_BASE)
    dispatch = table.dispatch if apply else None
    return Reconciler(log, table, dispatch, clock, clock.sleep, Settings(call_seconds=5))


def test_many_pages_are_listed_in_full_pages_and_batched_reads(tmp_path: Path) -> None:
    server = stand_in(tmp_path, 1050)
    clock, table = Clock(), Table()
    report = stripe_reconciler(server, table, clock, apply=False).between(Window(NOW - 3000, NOW), NOW + 600)
    assert report.complete
    assert sorted(report.missing) == sorted(f"stripe#evt_{n:06d}" for n in range(1050))
    assert (report.listed, report.provider_calls, report.table_reads) == (1050, 11, 11)
    assert table.handed == Counter()  # a dry run hands nothing over


def test_events_already_stored_are_not_handed_over(tmp_path: Path) -> None:
    server = stand_in(tmp_path, 30)
    stored = {f"stripe#evt_{n:06d}" for n in range(0, 30, 3)}
    table = Table(stored)
    report = stripe_reconciler(server, table, Clock()).between(Window(NOW - 3000, NOW), NOW + 600)
    assert set(report.ingested) == {f"stripe#evt_{n:06d}" for n in range(30)} - stored
    assert all(count == 1 for count in table.handed.values())


def test_a_429_waits_its_retry_after_and_asks_again(tmp_path: Path) -> None:
    server = stand_in(tmp_path, 250)
    server.inject(InjectedAnswer(429, {"Retry-After": "3"}))
    clock, table = Clock(), Table()
    report = stripe_reconciler(server, table, clock).between(Window(NOW - 3000, NOW), NOW + 600)
    assert clock.slept == [3.0]
    assert (report.complete, report.failures, len(report.ingested)) == (True, 0, 250)


def test_a_5xx_mid_window_stops_the_run_and_the_next_resumes_where_it_stopped(tmp_path: Path) -> None:
    server = stand_in(tmp_path, 450)
    clock, table, cursors = Clock(), Table(), Cursors()
    cursors.save("stripe", Cursor(NOW - 3000 + 900))  # with the overlap, the window starts at NOW - 3000
    calls = Calls(server, clock)
    calls.failing_from = 3  # two pages answered, then every attempt at the third fails
    reconciler = stripe_reconciler(server, table, clock, calls=calls)
    first = reconciler.run(cursors, NOW + 600)
    assert (first.complete, first.failures, len(first.ingested)) == (False, 1, 200)
    assert clock.slept == [1.0, 2.0, 4.0, 8.0]  # backoff between the five attempts
    assert cursors.saved["stripe"].token == "evt_000250"  # the last event of the second page
    calls.failing_from = None
    second = reconciler.run(cursors, clock.now + 600)
    assert (second.complete, second.failures) == (True, 0)
    assert set(table.handed) == {f"stripe#evt_{n:06d}" for n in range(450)}
    assert max(table.handed.values()) == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 700), pages_per_run=st.integers(1, 4))
def test_a_budget_that_runs_out_resumes_next_run_and_nothing_is_skipped_or_repeated(
    tmp_path_factory: pytest.TempPathFactory, count: int, pages_per_run: int
) -> None:
    server = stand_in(tmp_path_factory.mktemp("log"), count)
    clock, table, cursors = Clock(per_call=10), Table(), Cursors()
    cursors.save("stripe", Cursor(NOW - 3000 + 900))
    reconciler = stripe_reconciler(server, table, clock)
    runs = 0
    while True:
        runs += 1
        # Room for `pages_per_run` calls of 10 s before the last 5 s the settings keep.
        report = reconciler.run(cursors, clock.now + pages_per_run * 10 + 5)
        if report.complete:
            break
        assert runs < 100
    assert set(table.handed) == {f"stripe#evt_{n:06d}" for n in range(count)}
    assert all(times == 1 for times in table.handed.values())
    assert cursors.saved["stripe"].window is None


def test_a_cursor_past_the_retention_horizon_is_counted_and_the_run_goes_on(tmp_path: Path) -> None:
    server = stand_in(tmp_path, 20)
    clock, table, cursors = Clock(), Table(), Cursors()
    forty_days_ago = NOW - 40 * 86400
    cursors.save("stripe", Cursor(forty_days_ago))
    report = stripe_reconciler(server, table, clock).run(cursors, NOW + 600)
    assert report.beyond_retention_seconds == (NOW - 30 * 86400) - (forty_days_ago - 900)
    assert report.complete
    assert len(report.ingested) == 20
    assert report.lag_seconds == 60  # the settle time: up to date


def test_a_reconciled_handoff_is_marked_and_stored_once_when_a_delivery_races_it(tmp_path: Path) -> None:
    server = stand_in(tmp_path, 1)
    handed: list[HandOff] = []
    table = Table()
    log = StripeEvents([KEY], Calls(server, Clock()), STRIPE_BASE)
    reconciler = Reconciler(log, table, handed.append, Clock(), Clock().sleep)
    reconciler.between(Window(0, NOW), NOW + 600)
    (reconciled,) = handed
    transaction = reconciled.transaction
    assert (transaction.ingested_via, transaction.amount, transaction.currency) == (
        IngestedVia.RECONCILE,
        Decimal("19.99"),
        "USD",
    )
    assert transaction.provenance is not None
    assert transaction.provenance.startswith("stripe GET https://api.stripe.com/v1/events request req_")
    assert reconciled.body == stripe_body(0, NOW - 3000)  # the provider's bytes: the delivery's hash
    webhook = dataclasses.replace(transaction, ingested_via=None, provenance=None)  # as the receiver makes it
    delivered = HandOff(webhook, reconciled.body, "t0", "api-request")
    store, archive, states = FakeStore(), FakeArchive(), FakeObjectStates()
    outcomes = [process(handoff, store, archive, states, "t1") for handoff in (delivered, reconciled)]
    assert [outcome.duplicate for outcome in outcomes] == [False, True]
    assert len(store.items) == 1
    assert store.items["stripe#evt_000000"]["ingested_via"] == "webhook"
    assert len(archive.objects) == 1  # the same bytes under the same key


def test_paypal_pages_through_its_token_and_next_links(tmp_path: Path) -> None:
    for number in range(230):
        body = json.dumps(
            {
                "id": f"WH-{number:06d}",
                "create_time": f"2026-09-21T12:{number // 60:02d}:{number % 60:02d}.000Z",
                "event_type": "PAYMENT.CAPTURE.COMPLETED",
                "resource": {"id": f"CAP{number}", "amount": {"currency_code": "USD", "value": "10.99"}},
            }
        ).encode()
        record_creation("paypal", body, False, tmp_path)
    server = provider_api_server(ApiCredentials((), (PaypalApiCredential("wrong", "x"), CLIENT)), tmp_path)
    clock, table = Clock(), Table()
    calls = Calls(server, clock)
    log = PaypalEvents(
        [PaypalApiCredential("revoked", "old"), CLIENT], calls, "https://api-m.paypal.com", clock
    )
    report = Reconciler(log, table, table.dispatch, clock, clock.sleep).between(Window(0, NOW), NOW + 600)
    assert (report.complete, len(report.ingested), report.provider_calls) == (True, 230, 3)
    assert calls.count == 5  # a refused token request, a token, three pages
    assert max(table.handed.values()) == 1


def test_a_next_link_off_the_providers_origin_is_refused(tmp_path: Path) -> None:
    server = provider_api_server(ApiCredentials((), (CLIENT,)), tmp_path)
    clock = Clock()
    log = PaypalEvents([CLIENT], Calls(server, clock), "https://api-m.paypal.com", clock)
    with pytest.raises(Exception, match="leaves its API origin"):
        log.page(Window(0, 1), "https://attacker.example/v1/notifications/webhooks-events")


@pytest.mark.parametrize(
    "payload",
    [
        rb'{"object":"list","data":[{"a":1.10,"b":"\u00e9"} ,  {"c":[1,2,{"d":"]"}]}],"has_more":false}',
        b'{ "has_more" : true , "data" : [ ] , "url" : "/v1/events" }',
    ],
)
def test_raw_items_are_the_exact_bytes_of_each_element(payload: bytes) -> None:
    document, items = raw_items(payload, "data")
    assert len(items) == len(document["data"])  # type: ignore[arg-type]
    for item in items:
        assert item in payload
    if items:
        assert items[0] == rb'{"a":1.10,"b":"\u00e9"}'


def test_the_template_alarms_on_the_horizons_and_providers_the_handler_uses() -> None:
    assert reconciler.PROVIDERS == RECONCILED_PROVIDERS
    assert StripeEvents.retention_seconds == PROVIDER_EVENT_RETENTION_DAYS["stripe"] * 86400
    assert PaypalEvents.retention_seconds == PROVIDER_EVENT_RETENTION_DAYS["paypal"] * 86400


def test_api_credentials_never_show_in_a_repr_and_malformed_ones_are_refused() -> None:
    secret = {"stripe_api_keys": ["rk_live_secretvalue"], "paypal_api_credentials": [CLIENT_JSON]}
    credentials = ApiCredentials.from_secret_string(json.dumps(secret))
    assert credentials.configured("stripe")
    assert credentials.configured("paypal")
    assert "secretvalue" not in repr(credentials)
    assert "local-secret" not in repr(credentials.paypal_api_credentials)
    half = {"paypal_api_credentials": [{"client_id": "client-id-value"}]}
    with pytest.raises(ValueError, match="paypal_api_credentials") as refused:
        ApiCredentials.from_secret_string(json.dumps(half))
    assert "client-id-value" not in str(refused.value)
    assert not ApiCredentials.from_secret_string("{}").configured("stripe")


def test_an_invoice_listed_in_either_api_version_is_read_the_same(tmp_path: Path) -> None:
    """The log renders each event in the API version of its creation, whatever the endpoint's: an
    invoice names its subscription at `subscription` before 2025-03-31.basil, under `parent` from it."""
    rendered: dict[str, dict[str, object]] = {
        "2024-06-20": {"subscription": "sub_1"},
        "2025-03-31.basil": {
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_1"}}
        },
    }
    for number, (version, naming) in enumerate(rendered.items()):
        invoice = {
            "id": f"in_{number}",
            "object": "invoice",
            "amount_paid": 2500,
            "currency": "gbp",
            **naming,
        }
        event = {
            "id": f"evt_invoice{number}",
            "object": "event",
            "api_version": version,
            "created": NOW - 100,
            "type": "invoice.paid",
            "data": {"object": invoice},
        }
        record_creation("stripe", json.dumps(event).encode(), False, tmp_path)
    server = provider_api_server(ApiCredentials((KEY,), ()), tmp_path)
    handed: list[HandOff] = []
    log = StripeEvents([KEY], Calls(server, Clock()), STRIPE_BASE)
    Reconciler(log, Table(), handed.append, Clock(), Clock().sleep).between(Window(0, NOW), NOW + 600)
    read = {
        (h.transaction.related_object_id, h.transaction.amount, h.transaction.quarantine_reason)
        for h in handed
    }
    assert len(handed) == 2
    assert read == {("sub_1", Decimal("25.00"), None)}
