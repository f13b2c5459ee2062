"""The reconciler's work, pure: list a provider's events behind a stored cursor and hand each one the
table lacks to the processor, as the receiver hands a delivery.

Windows: the cursor says up to when every event the provider created is known to be in the table (or
handed to the processor). Each run lists `[cursor - overlap, now - settle)`, at most `max_window` at a
time, page after page; an event the provider's log shows late (it is eventually consistent) falls in the
next window's overlap. The window in progress and its next page are saved after every page, so a run
that stops (its time budget spent, the provider failing) resumes there next time: no page is skipped,
and none is handed over twice (an event already handed over is then in the table; the processor's
conditional write stores and publishes it once even when a delivery races it).

Rate limits: a 429 waits its `Retry-After` (within the budget) and asks again; a 5xx or an unreachable
provider is asked again after a short backoff, and after `attempts` the run stops for this provider and
counts a failure. A cursor older than the provider's retention horizon cannot be caught up: the span
already gone is counted (`beyond_retention_seconds`, an alarm) and the window starts at the horizon.

Each listed event's bytes are exactly those the provider rendered, so the hand-off's body hash and audit
key are those of a delivery of the same bytes. The event is normalised as the receiver normalises it
(quarantined if odd), marked `ingested_via: reconcile` with the API call as provenance.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from handlers.core.fields import utc_iso
from handlers.core.model import HandOff, IngestedVia
from handlers.core.receiving import normalise_body

BATCH_READ_KEYS = 100
"""DynamoDB's BatchGetItem limit: one table read per 100 listed events."""
PAGE_SIZE = 100
"""Stripe's largest `limit`; PayPal's `page_size` is asked the same."""


@dataclass(frozen=True, slots=True)
class ListedEvent:
    event_id: str
    body: bytes
    """The event exactly as the provider's list rendered it."""


@dataclass(frozen=True, slots=True)
class Window:
    """Events created in `[start, end)`, Unix seconds."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Page:
    events: tuple[ListedEvent, ...]
    next_token: str | None
    """What asks for the next page of the same window; None on the last."""
    request_id: str


class ProviderThrottledError(Exception):
    """A 429: ask again after `retry_after_seconds`."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"throttled; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class ProviderUnavailableError(Exception):
    """A 5xx, a refused credential or no answer: the message never carries a credential."""


class EventLog(Protocol):
    """One provider's event-log API (handlers.providers.stripe_events, paypal_events)."""

    provider: str
    endpoint: str
    """`GET https://api.stripe.com/v1/events`: the provenance of what it lists."""
    retention_seconds: int

    def page(self, window: Window, token: str | None) -> Page: ...


class KnownTransactions(Protocol):
    def existing(self, transaction_ids: Sequence[str]) -> set[str]:
        """Which of at most BATCH_READ_KEYS ids the table holds (one BatchGetItem, keys only)."""
        ...


@dataclass(frozen=True, slots=True)
class Cursor:
    """A provider's reconciliation state: everything created before `reconciled_until` is known, and
    the window in progress with its next page, if a run stopped inside one."""

    reconciled_until: int
    window: Window | None = None
    token: str | None = None

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {"reconciled_until": self.reconciled_until}
        if self.window is not None:
            document |= {"window_start": self.window.start, "window_end": self.window.end}
        if self.token is not None:
            document["token"] = self.token
        return document

    @classmethod
    def from_json(cls, document: dict[str, object]) -> "Cursor":
        def number(key: str) -> int:
            value = document[key]
            if not isinstance(value, int | Decimal) or isinstance(value, bool):
                raise ValueError(f"{key} must be a number")
            return int(value)

        window = None
        if "window_start" in document:
            window = Window(number("window_start"), number("window_end"))
        token = document.get("token")
        return cls(number("reconciled_until"), window, token if isinstance(token, str) else None)


class CursorStore(Protocol):
    def load(self, provider: str) -> Cursor | None: ...

    def save(self, provider: str, cursor: Cursor) -> None: ...


@dataclass(frozen=True, slots=True)
class Settings:
    overlap_seconds: int = 900
    """Each window starts this far behind the cursor: longer than the provider's log takes to show one."""
    settle_seconds: int = 60
    """A window ends this far before now."""
    max_window_seconds: int = 86400
    attempts: int = 5
    """Tries per page before the run stops for this provider."""
    backoff_seconds: float = 1.0
    """Before asking again after a 5xx (doubled each time); a 429 waits its Retry-After instead."""
    call_seconds: float = 10.0
    """The longest a page and its table read may take: no page starts with less of the budget left."""


@dataclass
class Report:
    """What one run did for one provider: every count the metrics and the commands report."""

    provider: str
    listed: int = 0
    missing: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    failures: int = 0
    provider_calls: int = 0
    table_reads: int = 0
    complete: bool = False
    """The windows reached `now - settle` (or the asked window's end)."""
    lag_seconds: int = 0
    """How far behind now the cursor is after the run."""
    beyond_retention_seconds: int = 0
    """How much of the span to reconcile was already past the provider's retention horizon."""

    def to_json(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "listed": self.listed,
            "missing": self.missing,
            "ingested": self.ingested,
            "failures": self.failures,
            "provider_calls": self.provider_calls,
            "table_reads": self.table_reads,
            "complete": self.complete,
            "lag_seconds": self.lag_seconds,
            "beyond_retention_seconds": self.beyond_retention_seconds,
        }


Dispatch = Callable[[HandOff], None]
"""The processor's asynchronous invoke, as the receiver makes it; raises when Lambda did not queue it."""


@dataclass
class Reconciler:
    """One provider's reconciliation over its ports; `clock` and `sleep` in seconds."""

    log: EventLog
    known: KnownTransactions
    dispatch: Dispatch | None
    """None: a dry run (lists what is missing, hands nothing over)."""
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    settings: Settings = field(default_factory=Settings)

    def run(self, cursors: CursorStore, deadline: float) -> Report:
        """The scheduled run: from the stored cursor towards now, saving progress after every page."""
        now = int(self.clock())
        report = Report(self.log.provider)
        cursor = cursors.load(self.log.provider) or Cursor(now - self.settings.overlap_seconds)
        horizon = now - self.log.retention_seconds
        while True:
            window = cursor.window or Window(
                cursor.reconciled_until - self.settings.overlap_seconds,
                min(
                    now - self.settings.settle_seconds,
                    cursor.reconciled_until + self.settings.max_window_seconds,
                ),
            )
            if window.start < horizon:
                # Gone from the provider's log: count it (the alarm) and start again at the horizon.
                report.beyond_retention_seconds = max(report.beyond_retention_seconds, horizon - window.start)
                cursor = Cursor(horizon + self.settings.overlap_seconds)
                continue
            if window.end <= window.start:
                report.complete = True
                break
            token, finished = self._window(window, cursor.token, deadline, report)
            if not finished:
                cursors.save(self.log.provider, Cursor(cursor.reconciled_until, window, token))
                break
            cursor = Cursor(window.end)
            cursors.save(self.log.provider, cursor)
            if window.end >= now - self.settings.settle_seconds:
                report.complete = True
                break
        report.lag_seconds = max(0, now - cursor.reconciled_until)
        return report

    def between(self, window: Window, deadline: float) -> Report:
        """An asked window (the backfill command): no cursor read or written."""
        report = Report(self.log.provider)
        horizon = int(self.clock()) - self.log.retention_seconds
        report.beyond_retention_seconds = max(0, horizon - window.start)
        _, report.complete = self._window(window, None, deadline, report)
        return report

    def _window(
        self, window: Window, token: str | None, deadline: float, report: Report
    ) -> tuple[str | None, bool]:
        """Page through `window` from `token`; (the next page's token, whether the window is done).

        Stops, leaving the token at the first page not yet handled, when the budget or the provider runs out.
        """
        while True:
            if deadline - self.clock() < self.settings.call_seconds:
                return token, False
            page = self._page(window, token, deadline, report)
            if page is None:
                report.failures += 1
                return token, False
            self._handle(page, report)
            if page.next_token is None:
                return None, True
            token = page.next_token

    def _page(self, window: Window, token: str | None, deadline: float, report: Report) -> Page | None:
        delay = self.settings.backoff_seconds
        for attempt in range(self.settings.attempts):
            report.provider_calls += 1
            try:
                return self.log.page(window, token)
            except ProviderThrottledError as throttled:
                wait = throttled.retry_after_seconds
            except ProviderUnavailableError:
                wait, delay = delay, delay * 2
            last = attempt == self.settings.attempts - 1
            if last or deadline - self.clock() - wait < self.settings.call_seconds:
                return None
            self.sleep(wait)
        return None

    def _handle(self, page: Page, report: Report) -> None:
        """Hand over the page's events the table lacks (one table read per 100 events)."""
        report.listed += len(page.events)
        by_id = {f"{self.log.provider}#{event.event_id}": event for event in page.events}
        ids = list(by_id)
        found: set[str] = set()
        for start in range(0, len(ids), BATCH_READ_KEYS):
            report.table_reads += 1
            found |= self.known.existing(ids[start : start + BATCH_READ_KEYS])
        provenance = f"{self.log.provider} {self.log.endpoint} request {page.request_id}"
        for transaction_id in ids:
            if transaction_id in found:
                continue
            report.missing.append(transaction_id)
            if self.dispatch is None:
                continue
            transaction = replace(
                normalise_body(self.log.provider, by_id[transaction_id].body),
                ingested_via=IngestedVia.RECONCILE,
                provenance=provenance,
            )
            received_at = utc_iso(datetime.fromtimestamp(self.clock(), UTC))
            self.dispatch(HandOff(transaction, by_id[transaction_id].body, received_at, page.request_id))
            report.ingested.append(transaction_id)


def raw_items(payload: bytes, key: str) -> tuple[dict[str, object], list[bytes]]:
    """The top-level object of a list response and, byte for byte, each element of its array `key`.

    Raises ValueError when the payload is not a JSON object whose `key` is an array of objects.
    """
    text = payload.decode("utf-8")
    decoder = json.JSONDecoder(parse_float=Decimal)
    document = decoder.decode(text)
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        raise ValueError(f"the answer has no {key} array")
    items: list[bytes] = []
    position = _skip(text, text.index("{") + 1)
    while text[position] != "}":
        name, position = json.decoder.scanstring(text, position + 1)  # type: ignore[attr-defined]
        position = _skip(text, _skip(text, position) + 1)  # past the colon
        if name == key:
            position = _skip(text, position + 1)  # past the bracket
            while text[position] != "]":
                element, end = decoder.raw_decode(text, position)
                if not isinstance(element, dict):
                    raise ValueError(f"an element of {key} is not an object")
                items.append(text[position:end].encode("utf-8"))
                position = _skip(text, end)
                position = _skip(text, position + 1) if text[position] == "," else position
            position += 1
        else:
            _, position = decoder.raw_decode(text, position)
        position = _skip(text, position)
        position = _skip(text, position + 1) if text[position] == "," else position
    return document, items


def _skip(text: str, position: int) -> int:
    while text[position] in " \t\r\n":
        position += 1
    return position
