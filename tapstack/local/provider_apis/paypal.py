"""The local PayPal on loopback: its OAuth token, its event log and its webhooks, as documented.

`POST /v1/oauth2/token` (`grant_type=client_credentials`, the client id and secret of one of the stack's
apps as HTTP Basic) answers an access token; every other call takes it as a Bearer token and acts for
the app it was issued to.

`GET /v1/notifications/webhooks-events` answers `events` (newest first), `count` and `links`, with a
`next` link while more remain (its query is opaque to clients: they follow it). Parameters: `page_size`
(default 10), `start_time` and `end_time` (RFC 3339, both inclusive), `event_type`.

Webhooks (https://developer.paypal.com/api/webhooks/v1/), JSON, each app's own:
    GET    /v1/notifications/webhooks         `{"webhooks": [...]}`
    POST   /v1/notifications/webhooks         `{"url", "event_types": [{"name"}]}` -> 201, the webhook with
                                              its `id`; an app's second webhook for a URL is refused
                                              `WEBHOOK_URL_ALREADY_EXISTS`, its eleventh
                                              `WEBHOOK_NUMBER_LIMIT_EXCEEDED`
    GET    /v1/notifications/webhooks/{id}
    PATCH  /v1/notifications/webhooks/{id}    a JSON patch replacing `/url` or `/event_types`
    DELETE /v1/notifications/webhooks/{id}    204
Errors are `{"name", "message", "debug_id", "details"}`; OAuth's `{"error", "error_description"}`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from tapstack.local.provider_apis import (
    ApiRequest,
    ApiResponse,
    EventLog,
    Handler,
    KeptRegistrations,
    LoggedEvent,
    RouteTable,
    json_list,
)

TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 (a path)
EVENTS_PATH = "/v1/notifications/webhooks-events"
WEBHOOKS_PATH = "/v1/notifications/webhooks"
WEBHOOK_PATH = WEBHOOKS_PATH + "/{id}"
WEBHOOK_LIMIT = 10
EVENT_TYPE = re.compile(r"\*|[A-Z_-]+(\.[A-Z_-]+)+")
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
    return ApiResponse.of(
        status, {"name": name, "message": message, "debug_id": secrets.token_hex(6), "details": []}
    )


def _invalid() -> ApiResponse:
    return _error(400, "VALIDATION_ERROR", "Invalid request - see details.")


def _not_found() -> ApiResponse:
    return _error(404, "INVALID_RESOURCE_ID", "Resource id is invalid.")


def _origin(request: ApiRequest) -> str:
    """The origin the request was sent to, for PayPal's absolute links."""
    return f"{request.headers.get('x-forwarded-proto', 'http')}://{request.headers.get('host', '127.0.0.1')}"


def _moment(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(f"{name} is not an RFC 3339 date-time") from None


AppHandler = Callable[[ApiRequest, str], ApiResponse]
"""A handler of a call made with an access token, given the client id of the app it was issued to."""


class PaypalStandIn:
    """The local PayPal: its log, the REST app credentials it accepts (the stack's), the tokens it issued,
    and each app's webhooks (kept in `directory`)."""

    def __init__(self, directory: Path, credentials: Sequence[ClientCredentials]) -> None:
        self.log = EventLog("paypal", directory)
        self.credentials = {item.client_id: item.client_secret for item in credentials}
        self._apps_of_tokens: dict[str, str] = {}
        self._kept = KeptRegistrations(directory / "paypal-webhooks.json")
        self.webhooks: dict[str, list[dict[str, Any]]] = self._kept.load() or {}
        """Each app's webhooks, by client id."""

    def routes(self) -> RouteTable:
        return {
            ("POST", TOKEN_PATH): self.token,
            ("GET", EVENTS_PATH): self._authenticated(self.list_events),
            ("GET", WEBHOOKS_PATH): self._authenticated(self.list_webhooks),
            ("POST", WEBHOOKS_PATH): self._authenticated(self._changing(self.create_webhook)),
            ("GET", WEBHOOK_PATH): self._authenticated(self.get_webhook),
            ("PATCH", WEBHOOK_PATH): self._authenticated(self._changing(self.update_webhook)),
            ("DELETE", WEBHOOK_PATH): self._authenticated(self._changing(self.delete_webhook)),
        }

    def token(self, request: ApiRequest) -> ApiResponse:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, client_secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id, client_secret = "", ""
        if scheme.lower() != "basic" or self.credentials.get(client_id) != client_secret or not client_id:
            return ApiResponse.of(
                401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
            )
        if parse_qs(request.body.decode()).get("grant_type") != ["client_credentials"]:
            return ApiResponse.of(
                400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL or invalid"}
            )
        token = f"A21AA{secrets.token_urlsafe(32)}"
        self._apps_of_tokens[token] = client_id
        return ApiResponse.of(
            200,
            {
                "scope": "https://uri.paypal.com/services/applications/webhooks",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": f"APP-{client_id[:12].upper()}",
                "expires_in": TOKEN_SECONDS,
                "nonce": secrets.token_hex(16),
            },
        )

    def _authenticated(self, handler: AppHandler) -> Handler:
        def answer(request: ApiRequest) -> ApiResponse:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            app = self._apps_of_tokens.get(token) if scheme.lower() == "bearer" else None
            if app is None:
                return _error(
                    401, "AUTHENTICATION_FAILURE", "Authentication failed due to invalid credentials."
                )
            return handler(request, app)

        return answer

    def _changing(self, handler: AppHandler) -> AppHandler:
        """`handler` under the registrations' lock, which are saved after it."""

        def answer(request: ApiRequest, app: str) -> ApiResponse:
            with self._kept.lock:
                response = handler(request, app)
                self._kept.save(self.webhooks)
            return response

        return answer

    def list_events(self, request: ApiRequest, _app: str) -> ApiResponse:
        try:
            events, next_query = select(self.log.events(), request.query)
        except ValueError as error:
            return _error(400, "VALIDATION_ERROR", str(error))
        links = []
        if next_query is not None:
            href = f"{_origin(request)}{EVENTS_PATH}?{urlencode(next_query)}"
            links.append({"href": href, "rel": "next", "method": "GET"})
        head = {"count": len(events), "links": links}
        return ApiResponse(200, json_list(head, "events", [event.body for event in events]))

    def list_webhooks(self, request: ApiRequest, app: str) -> ApiResponse:
        return ApiResponse.of(
            200, {"webhooks": [_with_links(w, request) for w in self.webhooks.get(app, [])]}
        )

    def create_webhook(self, request: ApiRequest, app: str) -> ApiResponse:
        try:
            document = json.loads(request.body)
        except ValueError:
            return _error(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
        url = document.get("url") if isinstance(document, dict) else None
        event_types = _event_types(document.get("event_types") if isinstance(document, dict) else None)
        if not isinstance(url, str) or not url or event_types is None:
            return _invalid()
        webhooks = self.webhooks.setdefault(app, [])
        if any(webhook["url"] == url for webhook in webhooks):
            return _error(400, "WEBHOOK_URL_ALREADY_EXISTS", "Webhook URL already exists.")
        if len(webhooks) >= WEBHOOK_LIMIT:
            return _error(400, "WEBHOOK_NUMBER_LIMIT_EXCEEDED", "Maximum number of webhooks exceeded.")
        webhook = {"id": secrets.token_hex(9).upper()[:17], "url": url, "event_types": event_types}
        webhooks.append(webhook)
        return ApiResponse.of(201, _with_links(webhook, request))

    def _webhook(self, request: ApiRequest, app: str) -> dict[str, Any] | None:
        """The app's webhook the path names."""
        return next((w for w in self.webhooks.get(app, []) if w["id"] == request.parameters["id"]), None)

    def get_webhook(self, request: ApiRequest, app: str) -> ApiResponse:
        webhook = self._webhook(request, app)
        return _not_found() if webhook is None else ApiResponse.of(200, _with_links(webhook, request))

    def update_webhook(self, request: ApiRequest, app: str) -> ApiResponse:
        webhook = self._webhook(request, app)
        if webhook is None:
            return _not_found()
        try:
            patch = json.loads(request.body)
        except ValueError:
            return _error(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
        changed = dict(webhook)
        for operation in patch if isinstance(patch, list) else [None]:
            if not isinstance(operation, dict) or operation.get("op") != "replace":
                return _invalid()
            if operation.get("path") == "/url" and isinstance(operation.get("value"), str):
                changed["url"] = operation["value"]
            elif operation.get("path") == "/event_types" and (types := _event_types(operation.get("value"))):
                changed["event_types"] = types
            else:
                return _invalid()
        webhook.update(changed)
        return ApiResponse.of(200, _with_links(webhook, request))

    def delete_webhook(self, request: ApiRequest, app: str) -> ApiResponse:
        webhook = self._webhook(request, app)
        if webhook is None:
            return _not_found()
        self.webhooks[app].remove(webhook)
        return ApiResponse.empty(204)


def _event_types(value: object) -> list[dict[str, str]] | None:
    """A webhook's `event_types` as PayPal keeps them; None when not a non-empty list of known names."""
    if not isinstance(value, list) or not value:
        return None
    names = [entry.get("name") for entry in value if isinstance(entry, dict)]
    if len(names) != len(value) or not all(isinstance(n, str) and EVENT_TYPE.fullmatch(n) for n in names):
        return None
    return [{"name": str(name), "description": f"{name} (local stand-in)"} for name in names]


def _with_links(webhook: dict[str, Any], request: ApiRequest) -> dict[str, Any]:
    href = f"{_origin(request)}{WEBHOOKS_PATH}/{webhook['id']}"
    links = [
        {"href": href, "rel": "self", "method": "GET"},
        {"href": href, "rel": "update", "method": "PATCH"},
        {"href": href, "rel": "delete", "method": "DELETE"},
    ]
    return webhook | {"links": links}


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
