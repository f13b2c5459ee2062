"""Stripe's event log on loopback: `GET /v1/events`, as the API reference documents it.

A list object (`object: "list"`, `url`, `has_more`, `data`) of events newest first; `limit` 1 to 100
(default 10); `starting_after` / `ending_before` event ids; `created` exact or `created[gte|gt|lte|lt]`;
`type` (`*` as a wildcard) or `types[]` (up to 20, not with `type`); `delivery_success`. Authenticated
with a secret or restricted key as a Bearer token (or as Basic's user name, as curl's `-u key:` sends).
Refusals are Stripe's error object with the status Stripe uses.
"""

from __future__ import annotations

import base64
import fnmatch
import json
from collections.abc import Sequence

from tapstack.local.provider_apis import ApiRequest, ApiResponse, EventLog, LoggedEvent, RouteTable, json_list

EVENTS_PATH = "/v1/events"
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


def select(events: Sequence[LoggedEvent], request: ApiRequest) -> tuple[list[LoggedEvent], bool]:
    """The page the request asks for, and whether more lie beyond it in its direction (pure)."""
    limit_text = request.first("limit") or str(DEFAULT_LIMIT)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise InvalidRequestError("limit must be an integer between 1 and 100", "limit")
    limit = int(limit_text)
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


class StripeApi:
    """The Stripe stand-in: its log, and the API keys it accepts (the stack's restricted keys)."""

    def __init__(self, log: EventLog, api_keys: Sequence[str]) -> None:
        self.log = log
        self.api_keys = tuple(api_keys)

    def routes(self) -> RouteTable:
        return {("GET", EVENTS_PATH): self.list_events}

    def list_events(self, request: ApiRequest) -> ApiResponse:
        key = _api_key(request)
        if not key or key not in self.api_keys:
            shown = f"{key[:8]}***" if key else "none"
            return _error(401, f"Invalid API Key provided: {shown}")
        try:
            page, has_more = select(self.log.events(), request)
        except InvalidRequestError as error:
            return _error(400, str(error), error.param)
        head = {"object": "list", "url": EVENTS_PATH, "has_more": has_more}
        return ApiResponse(200, json_list(head, "data", [event.body for event in page]))
