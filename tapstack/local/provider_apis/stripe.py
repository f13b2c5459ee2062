"""The local Stripe: its event log and its webhook endpoints on loopback, as the API reference documents them.

`GET /v1/events` (https://docs.stripe.com/api/events/list): a list object (`object: "list"`, `url`,
`has_more`, `data`) of events newest first; `limit` 1 to 100 (default 10); `starting_after` /
`ending_before` event ids; `created` exact or `created[gte|gt|lte|lt]`; `type` (`*` as a wildcard) or
`types[]` (up to 20, not with `type`); `delivery_success`.

Webhook endpoints (https://docs.stripe.com/api/webhook_endpoints), form-encoded:
    GET    /v1/webhook_endpoints        the list object, newest first, `limit` and `starting_after`
    POST   /v1/webhook_endpoints        `url`, `enabled_events[]` (required), `api_version`,
                                        `description`, `metadata[...]`; the answer alone holds `secret`
    GET    /v1/webhook_endpoints/{id}
    POST   /v1/webhook_endpoints/{id}   `url`, `enabled_events[]`, `description`, `metadata[...]`,
                                        `disabled`; `api_version` cannot be changed (unknown parameter)
    DELETE /v1/webhook_endpoints/{id}
Lists arrive as `enabled_events[]=a` (curl, the docs) or `enabled_events[0]=a` (the official SDKs).

Every call is authenticated with one of the stack's secret or restricted keys as a Bearer token (or as
Basic's user name, as curl's `-u key:` sends). Refusals are Stripe's error object
(`{"error": {"type", "message", "param"?}}`) with the status Stripe uses.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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

EVENTS_PATH = "/v1/events"
ENDPOINTS_PATH = "/v1/webhook_endpoints"
ENDPOINT_PATH = ENDPOINTS_PATH + "/{id}"
EVENT_TYPE = re.compile(r"\*|[a-z_]+(\.[a-z_]+)+")
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
MAX_TYPES = 20
_RANGE = {"gte": float.__ge__, "gt": float.__gt__, "lte": float.__le__, "lt": float.__lt__}


def logged(body: bytes, delivered: bool) -> LoggedEvent:
    """The log record of a Stripe event body."""
    event = json.loads(body)
    return LoggedEvent(event["id"], float(event["created"]), event["type"], delivered, body.decode("utf-8"))


class InvalidRequestError(ValueError):
    """A parameter Stripe would refuse with 400 `invalid_request_error`."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def _error(status: int, message: str, param: str | None = None) -> ApiResponse:
    error = {"type": "invalid_request_error", "message": message} | ({"param": param} if param else {})
    return ApiResponse.of(status, {"error": error})


def _api_key(request: ApiRequest) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def _types(request: ApiRequest) -> list[str]:
    """`types[]=a&types[]=b` or the indexed `types[0]=a` the official libraries send."""
    return [value for name, values in request.query.items() if name.startswith("types[") for value in values]


def _filtered(events: Sequence[LoggedEvent], request: ApiRequest) -> list[LoggedEvent]:
    kept = list(events)
    for name, values in request.query.items():
        if name == "created" or (name.startswith("created[") and name[8:-1] in _RANGE):
            try:
                bound = float(int(values[0]))
            except ValueError:
                raise InvalidRequestError("created must be a Unix timestamp", name) from None
            compare = float.__eq__ if name == "created" else _RANGE[name[8:-1]]
            kept = [event for event in kept if compare(event.created, bound)]
    one_type, types = request.first("type"), _types(request)
    if one_type is not None and types:
        raise InvalidRequestError("you may pass either type or types, but not both", "types")
    if len(types) > MAX_TYPES:
        raise InvalidRequestError("types may list at most 20 event types", "types")
    if one_type is not None:
        kept = [event for event in kept if fnmatch.fnmatchcase(event.event_type, one_type)]
    if types:
        kept = [event for event in kept if event.event_type in types]
    delivered = request.first("delivery_success")
    if delivered is not None:
        # false: events still pending or failed to some endpoint, as the reference says.
        kept = [event for event in kept if event.delivered == (delivered == "true")]
    return kept


def _limit(request: ApiRequest) -> int:
    """A list's page size: `limit`, 1 to 100, 10 when not given."""
    limit_text = request.first("limit") or str(DEFAULT_LIMIT)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise InvalidRequestError("limit must be an integer between 1 and 100", "limit")
    return int(limit_text)


def select(events: Sequence[LoggedEvent], request: ApiRequest) -> tuple[list[LoggedEvent], bool]:
    """The page the request asks for, and whether more lie beyond it in its direction (pure)."""
    limit = _limit(request)
    kept = _filtered(events, request)
    after, before = request.first("starting_after"), request.first("ending_before")
    if after and before:
        raise InvalidRequestError("starting_after and ending_before cannot both be given", "ending_before")
    ids = [event.event_id for event in kept]
    if before:
        if before not in ids:
            raise InvalidRequestError(f"No such event: '{before}'", "ending_before")
        newer = kept[: ids.index(before)]
        return newer[-limit:], len(newer) > limit
    start = 0
    if after:
        if after not in ids:
            raise InvalidRequestError(f"No such event: '{after}'", "starting_after")
        start = ids.index(after) + 1
    return kept[start : start + limit], len(kept) > start + limit


class StripeStandIn:
    """The local Stripe: its event log, its webhook endpoints (kept in `directory`), and the API keys it
    accepts (the stack's)."""

    def __init__(self, directory: Path, api_keys: Sequence[str]) -> None:
        self.log = EventLog("stripe", directory)
        self.api_keys = tuple(api_keys)
        self._kept = KeptRegistrations(directory / "stripe-webhook-endpoints.json")
        self.endpoints: list[dict[str, Any]] = self._kept.load() or []
        """In creation order, each with its `secret` (which only the creation's answer shows)."""

    def routes(self) -> RouteTable:
        table: dict[tuple[str, str], Handler] = {
            ("GET", EVENTS_PATH): self.list_events,
            ("GET", ENDPOINTS_PATH): self.list_endpoints,
            ("POST", ENDPOINTS_PATH): self._changing(self.create_endpoint),
            ("GET", ENDPOINT_PATH): self.get_endpoint,
            ("POST", ENDPOINT_PATH): self._changing(self.update_endpoint),
            ("DELETE", ENDPOINT_PATH): self._changing(self.delete_endpoint),
        }
        return {route: self._authenticated(handler) for route, handler in table.items()}

    def _authenticated(self, handler: Handler) -> Handler:
        def answer(request: ApiRequest) -> ApiResponse:
            key = _api_key(request)
            if not key:
                return _error(401, "You did not provide an API key.")
            if key not in self.api_keys:
                return _error(401, f"Invalid API Key provided: {key[:8]}***")
            return handler(request)

        return answer

    def _changing(self, handler: Handler) -> Handler:
        """`handler` under the registrations' lock, which are saved after it."""

        def answer(request: ApiRequest) -> ApiResponse:
            with self._kept.lock:
                response = handler(request)
                self._kept.save(self.endpoints)
            return response

        return answer

    def list_events(self, request: ApiRequest) -> ApiResponse:
        try:
            page, has_more = select(self.log.events(), request)
        except InvalidRequestError as error:
            return _error(400, str(error), error.param)
        head = {"object": "list", "url": EVENTS_PATH, "has_more": has_more}
        return ApiResponse(200, json_list(head, "data", [event.body for event in page]))

    def list_endpoints(self, request: ApiRequest) -> ApiResponse:
        try:
            limit = _limit(request)
        except InvalidRequestError as error:
            return _error(400, str(error), error.param)
        # Newest first, those created in the same second in the reverse of their creation (a stable sort).
        newest_first = sorted(reversed(self.endpoints), key=lambda e: e["created"], reverse=True)
        after = request.first("starting_after")
        if after is not None:
            ids = [endpoint["id"] for endpoint in newest_first]
            if after not in ids:
                return _error(400, f"No such webhook endpoint: '{after}'", "starting_after")
            newest_first = newest_first[ids.index(after) + 1 :]
        document = {
            "object": "list",
            "url": ENDPOINTS_PATH,
            "has_more": len(newest_first) > limit,
            "data": [_shown(endpoint) for endpoint in newest_first[:limit]],
        }
        return ApiResponse.of(200, document)

    def create_endpoint(self, request: ApiRequest) -> ApiResponse:
        allowed = {"url", "enabled_events", "api_version", "description", "connect", "expand"}
        fields, refused = _endpoint_fields(request, allowed)
        if refused:
            return refused
        for required in ("url", "enabled_events"):
            if required not in fields:
                return _error(400, f"Missing required param: {required}.", required)
        endpoint = {
            "id": f"we_{secrets.token_hex(12)}",
            "object": "webhook_endpoint",
            "api_version": fields.get("api_version"),
            "application": None,
            "created": int(time.time()),
            "description": fields.get("description"),
            "enabled_events": fields["enabled_events"],
            "livemode": "_live_" in (_api_key(request) or ""),
            "metadata": fields.get("metadata", {}),
            "secret": f"whsec_{secrets.token_urlsafe(24)}",
            "status": "enabled",
            "url": fields["url"],
        }
        self.endpoints.append(endpoint)
        return ApiResponse.of(200, endpoint)

    def _endpoint(self, request: ApiRequest) -> dict[str, Any] | ApiResponse:
        """The endpoint the path names, or Stripe's 404."""
        endpoint_id = request.parameters["id"]
        found = next((endpoint for endpoint in self.endpoints if endpoint["id"] == endpoint_id), None)
        return found or _error(404, f"No such webhook endpoint: '{endpoint_id}'", "id")

    def get_endpoint(self, request: ApiRequest) -> ApiResponse:
        endpoint = self._endpoint(request)
        return endpoint if isinstance(endpoint, ApiResponse) else ApiResponse.of(200, _shown(endpoint))

    def update_endpoint(self, request: ApiRequest) -> ApiResponse:
        endpoint = self._endpoint(request)
        if isinstance(endpoint, ApiResponse):
            return endpoint
        fields, refused = _endpoint_fields(
            request, {"url", "enabled_events", "description", "disabled", "expand"}
        )
        if refused:
            return refused
        metadata = endpoint["metadata"] | fields.pop("metadata", {})
        endpoint.update(fields | {"metadata": metadata})
        return ApiResponse.of(200, _shown(endpoint))

    def delete_endpoint(self, request: ApiRequest) -> ApiResponse:
        endpoint = self._endpoint(request)
        if isinstance(endpoint, ApiResponse):
            return endpoint
        self.endpoints.remove(endpoint)
        return ApiResponse.of(200, {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True})


def _shown(endpoint: dict[str, Any]) -> dict[str, Any]:
    """An endpoint as Stripe shows it after its creation: without its secret."""
    return {key: value for key, value in endpoint.items() if key != "secret"}


def _form(body: bytes) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """Scalars, lists (`x[]=` or `x[0]=`, in order) and `metadata[k]=v` of a Stripe form body."""
    scalars: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    metadata: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(body.decode(), keep_blank_values=True):
        name, bracket, rest = key.partition("[")
        if not bracket:
            scalars[name] = value
        elif name == "metadata":
            metadata[rest.rstrip("]")] = value
        else:
            lists.setdefault(name, []).append(value)
    return scalars, lists, metadata


def _endpoint_fields(request: ApiRequest, allowed: set[str]) -> tuple[dict[str, Any], ApiResponse | None]:
    """The endpoint fields a creation or update form sets, or Stripe's 400."""
    scalars, lists, metadata = _form(request.body)
    unknown = sorted((set(scalars) | set(lists)) - allowed - {"metadata"})
    if unknown:
        return {}, _error(400, f"Received unknown parameter: {unknown[0]}", unknown[0])
    fields: dict[str, Any] = {key: value for key, value in scalars.items() if key != "disabled"}
    if "enabled_events" in lists:
        events = lists["enabled_events"]
        invalid = [event for event in events if not EVENT_TYPE.fullmatch(event)]
        if invalid or not events:
            return {}, _error(400, f"Invalid enabled_events: {invalid}", "enabled_events")
        fields["enabled_events"] = events
    if metadata:
        fields["metadata"] = metadata
    if "disabled" in scalars:
        fields["status"] = "disabled" if scalars["disabled"] == "true" else "enabled"
    return fields, None
