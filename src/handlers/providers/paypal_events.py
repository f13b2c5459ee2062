"""PayPal's event log: an OAuth token (`POST /v1/oauth2/token`, client credentials), then `GET
/v1/notifications/webhooks-events` with `start_time`/`end_time` the window and `page_size`, following
each answer's `next` link (only on PayPal's own origin: it carries the token).

Credentials: `paypal_api_credentials`, current first; a pair refused at the token endpoint gives way to
the next. The token is kept until shortly before it expires. PayPal does not document how long the
event list reaches back; the reconciler assumes the 30 days its dashboard shows (docs/reconciliation.md).
"""

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from handlers.core.reconciling import ListedEvent, Page, ProviderUnavailableError, Window, raw_items
from handlers.core.secrets import PaypalApiCredential
from handlers.providers.api_calls import ApiCall, Fetch, checked, same_origin

API_BASES = {"live": "https://api-m.paypal.com", "sandbox": "https://api-m.sandbox.paypal.com"}
TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 (a path)
EVENTS_PATH = "/v1/notifications/webhooks-events"
RETENTION_SECONDS = 30 * 86400
PAGE_SIZE = 100
TOKEN_MARGIN_SECONDS = 300


def _rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PaypalEvents:
    provider = "paypal"
    retention_seconds = RETENTION_SECONDS

    def __init__(
        self, clients: Sequence[PaypalApiCredential], fetch: Fetch, base_url: str, clock: Callable[[], float]
    ) -> None:
        if not clients:
            raise ValueError("no PayPal API credentials are configured")
        self._clients = list(clients)
        self._fetch = fetch
        self._base = base_url.rstrip("/")
        self._clock = clock
        self._token: tuple[str, float] | None = None
        self.endpoint = f"GET {self._base}{EVENTS_PATH}"

    def _access_token(self) -> str:
        if self._token is not None and self._token[1] > self._clock():
            return self._token[0]
        for client in list(self._clients):
            basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
            answer = self._fetch(
                ApiCall(
                    "POST",
                    f"{self._base}{TOKEN_PATH}",
                    {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
                    b"grant_type=client_credentials",
                )
            )
            if answer.status == 401 and client is not self._clients[-1]:
                self._clients.remove(client)
                continue
            document = json.loads(checked(answer, "PayPal's token endpoint").body, parse_float=Decimal)
            token, expires_in = document.get("access_token"), document.get("expires_in", 0)
            if not isinstance(token, str) or not isinstance(expires_in, int):
                raise ProviderUnavailableError("PayPal's token answer is malformed")
            self._token = (token, self._clock() + expires_in - TOKEN_MARGIN_SECONDS)
            return token
        raise ProviderUnavailableError("every PayPal client credential was refused")

    def page(self, window: Window, token: str | None) -> Page:
        if token is not None and not same_origin(token, self._base):
            raise ProviderUnavailableError("PayPal's next link leaves its API origin")
        url = token or f"{self._base}{EVENTS_PATH}?" + urlencode(
            {"page_size": PAGE_SIZE, "start_time": _rfc3339(window.start), "end_time": _rfc3339(window.end)}
        )
        answer = self._fetch(ApiCall("GET", url, {"Authorization": f"Bearer {self._access_token()}"}))
        if answer.status == 401:  # the token expired early: one new token, one more try
            self._token = None
            answer = self._fetch(ApiCall("GET", url, {"Authorization": f"Bearer {self._access_token()}"}))
        answer = checked(answer, "PayPal's event list")
        try:
            document, items = raw_items(answer.body, "events")
            events = tuple(ListedEvent(_event_id(item), item) for item in items)
        except ValueError as error:
            raise ProviderUnavailableError(f"PayPal's event list is malformed: {error}") from None
        links = document.get("links", [])
        following = [
            link.get("href")
            for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict) and link.get("rel") == "next"
        ]
        next_url = following[0] if following and isinstance(following[0], str) else None
        return Page(events, next_url, answer.headers.get("paypal-debug-id", "unknown"))


def _event_id(body: bytes) -> str:
    # Only the id is read here: numbers stay text, so no value of the event can fail the parse.
    event_id = json.loads(body, parse_float=str).get("id")
    if not isinstance(event_id, str):
        raise ValueError("an event has no id")
    return event_id
