"""Stripe's event log: `GET /v1/events`, newest first, 100 a page, `created[gte]`/`created[lt]` the window,
paged by `starting_after` the last id of the page while `has_more`.

Authenticated with a restricted key with read access to events (`stripe_api_keys`, current first: a key
refused with 401 or 403 gives way to the next, so a rotation overlaps). Events are rendered in the API
version that was the account's when each was created (its `api_version`), whatever the endpoint's
version: handlers.providers.stripe.normalise reads both renderings the docs list (docs/reconciliation.md).
Stripe keeps events 30 days.
"""

import json
from collections.abc import Sequence
from urllib.parse import urlencode

from handlers.core.reconciling import ListedEvent, Page, ProviderUnavailableError, Window, raw_items
from handlers.providers.api_calls import ApiCall, Fetch, checked

API_BASE = "https://api.stripe.com"
EVENTS_PATH = "/v1/events"
RETENTION_SECONDS = 30 * 86400
PAGE_SIZE = 100


class StripeEvents:
    provider = "stripe"
    retention_seconds = RETENTION_SECONDS

    def __init__(self, api_keys: Sequence[str], fetch: Fetch, base_url: str = API_BASE) -> None:
        if not api_keys:
            raise ValueError("no Stripe API key is configured")
        self._keys = list(api_keys)
        self._fetch = fetch
        self._base = base_url.rstrip("/")
        self.endpoint = f"GET {self._base}{EVENTS_PATH}"

    def page(self, window: Window, token: str | None) -> Page:
        query: dict[str, str | int] = {
            "limit": PAGE_SIZE,
            "created[gte]": window.start,
            "created[lt]": window.end,
        }
        if token is not None:
            query["starting_after"] = token
        url = f"{self._base}{EVENTS_PATH}?{urlencode(query)}"
        for key in list(self._keys):
            answer = self._fetch(ApiCall("GET", url, {"Authorization": f"Bearer {key}"}))
            if answer.status in (401, 403) and len(self._keys) > 1 and key != self._keys[-1]:
                self._keys.remove(key)  # refused (revoked during a rotation): the next one from now on
                continue
            answer = checked(answer, "Stripe's event list")
            try:
                document, items = raw_items(answer.body, "data")
                events = tuple(_listed(item) for item in items)
            except (ValueError, KeyError) as error:
                raise ProviderUnavailableError(f"Stripe's event list is malformed: {error}") from None
            has_more = document.get("has_more") is True
            return Page(
                events,
                events[-1].event_id if has_more and events else None,
                answer.headers.get("request-id", "unknown"),
            )
        raise ProviderUnavailableError("every Stripe API key was refused")


def _listed(body: bytes) -> ListedEvent:
    # Only the id is read here: numbers stay text, so no value of the event can fail the parse.
    event_id = json.loads(body, parse_float=str).get("id")
    if not isinstance(event_id, str):
        raise ValueError("an event has no id")
    return ListedEvent(event_id, body)
