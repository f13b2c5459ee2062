"""PayPal's event log on loopback: its OAuth token and `GET /v1/notifications/webhooks-events`.

`POST /v1/oauth2/token` (`grant_type=client_credentials`, the client id and secret as HTTP Basic)
answers an access token; the list takes it as a Bearer token and answers `events` (newest first),
`count` and `links`, with a `next` link while more remain (its query is opaque to clients: they follow
it). Parameters: `page_size` (default 10), `start_time` and `end_time` (RFC 3339, both inclusive),
`event_type`.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlencode

from tapstack.local.provider_apis import ApiRequest, ApiResponse, EventLog, LoggedEvent, RouteTable, json_list

TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 (a path)
EVENTS_PATH = "/v1/notifications/webhooks-events"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 300
TOKEN_SECONDS = 32400


def logged(body: bytes, delivered: bool) -> LoggedEvent:
    """The log record of a PayPal event body."""
    event = json.loads(body)
    created = datetime.fromisoformat(event["create_time"]).timestamp()
    return LoggedEvent(event["id"], created, event["event_type"], delivered, body.decode("utf-8"))


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def _error(status: int, name: str, message: str) -> ApiResponse:
    return ApiResponse.of(status, {"name": name, "message": message, "debug_id": secrets.token_hex(6)})


def _moment(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(f"{name} is not an RFC 3339 date-time") from None


class PaypalApi:
    """The PayPal stand-in: its log and the REST app credentials it accepts."""

    def __init__(self, log: EventLog, credentials: Sequence[ClientCredentials]) -> None:
        self.log = log
        self.credentials = {item.client_id: item.client_secret for item in credentials}
        self._tokens: set[str] = set()

    def routes(self) -> RouteTable:
        return {("POST", TOKEN_PATH): self.token, ("GET", EVENTS_PATH): self.list_events}

    def token(self, request: ApiRequest) -> ApiResponse:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id, client_secret = "", ""
        if scheme.lower() != "basic" or self.credentials.get(client_id) != client_secret or not client_id:
            return ApiResponse.of(
                401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
            )
        if parse_qs(request.body.decode()).get("grant_type") != ["client_credentials"]:
            return ApiResponse.of(400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        token = f"A21AA{secrets.token_urlsafe(32)}"
        self._tokens.add(token)
        return ApiResponse.of(
            200,
            {
                "scope": "https://uri.paypal.com/services/applications/webhooks",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": f"APP-{client_id[:12]}",
                "expires_in": TOKEN_SECONDS,
                "nonce": secrets.token_hex(16),
            },
        )

    def list_events(self, request: ApiRequest) -> ApiResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self._tokens:
            return _error(401, "AUTHENTICATION_FAILURE", "Authentication failed due to invalid credentials.")
        try:
            events, next_query = select(self.log.events(), request.query)
        except ValueError as error:
            return _error(400, "VALIDATION_ERROR", str(error))
        links = []
        if next_query is not None:
            # Absolute, as PayPal's are: on the host the request named.
            scheme = request.headers.get("x-forwarded-proto", "http")
            origin = f"{scheme}://{request.headers.get('host', '127.0.0.1')}"
            href = f"{origin}{EVENTS_PATH}?{urlencode(next_query)}"
            links.append({"href": href, "rel": "next", "method": "GET"})
        head = {"count": len(events), "links": links}
        return ApiResponse(200, json_list(head, "events", [event.body for event in events]))


def select(
    events: Sequence[LoggedEvent], query: Mapping[str, list[str]]
) -> tuple[list[LoggedEvent], dict[str, str] | None]:
    """The page asked for, and the query of the next one while more remain (pure)."""

    def first(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    size_text = first("page_size") or str(DEFAULT_PAGE_SIZE)
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    size = int(size_text)
    start, end = _moment(first("start_time"), "start_time"), _moment(first("end_time"), "end_time")
    event_type = first("event_type")
    kept = [
        event
        for event in events
        if (start is None or event.created >= start)
        and (end is None or event.created <= end)
        and (event_type is None or event.event_type == event_type)
    ]
    offset_text = first("index_id") or "0"
    if not offset_text.isdigit():
        raise ValueError("index_id is not a page position")
    offset = int(offset_text)
    page = kept[offset : offset + size]
    if offset + size >= len(kept):
        return page, None
    following = {name: values[0] for name, values in query.items() if values}
    return page, following | {"page_size": str(size), "move_to": "next", "index_id": str(offset + size)}
