"""Local stand-ins for the providers' webhook-registration APIs, in their documented wire formats.

Stripe (https://docs.stripe.com/api/webhook_endpoints), form-encoded, with a secret key or a restricted
key (`sk_...`, `rk_...`) as bearer token or basic-auth user:
    GET    /v1/webhook_endpoints        list object `{"object": "list", "data", "has_more", "url"}`,
                                        newest first, `limit` (1-100, default 10) and `starting_after`
    POST   /v1/webhook_endpoints        `url`, `enabled_events[]` (required), `api_version`,
                                        `description`, `metadata[...]`; the answer alone holds `secret`
    GET    /v1/webhook_endpoints/{id}
    POST   /v1/webhook_endpoints/{id}   `url`, `enabled_events[]`, `description`, `metadata[...]`,
                                        `disabled`; `api_version` cannot be changed (unknown parameter)
    DELETE /v1/webhook_endpoints/{id}
Lists arrive as `enabled_events[]=a` (curl, the docs) or `enabled_events[0]=a` (the official SDKs).
Errors are `{"error": {"type", "message", "param"?}}`.

PayPal (https://developer.paypal.com/api/webhooks/v1/), JSON, with an OAuth token:
    POST   /v1/oauth2/token                   basic auth client id and secret,
                                              `grant_type=client_credentials`
    GET    /v1/notifications/webhooks         `{"webhooks": [...]}`, the token's app's
    POST   /v1/notifications/webhooks         `{"url", "event_types": [{"name"}]}` -> 201, the webhook with
                                              its `id`; an app's second webhook for a URL is refused
                                              `WEBHOOK_URL_ALREADY_EXISTS`, its eleventh
                                              `WEBHOOK_NUMBER_LIMIT_EXCEEDED`
    GET    /v1/notifications/webhooks/{id}
    PATCH  /v1/notifications/webhooks/{id}    a JSON patch replacing `/url` or `/event_types`
    DELETE /v1/notifications/webhooks/{id}    204
Errors are `{"name", "message", "debug_id", "details"}`; OAuth's `{"error", "error_description"}`.

Any well-formed key or client credential is accepted: the stand-in checks the shape of a call, not whose
it is. Its state (endpoints, webhooks, tokens) is kept in a JSON file when given one, so that separate
commands (`tapstack local register` twice) see the same registrations.

`RegistrationStandIn.routes` is its route table (method, path pattern, handler), to be mounted on a
shared loopback server; `serve` runs it alone on an ephemeral port of 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAYPAL_WEBHOOK_LIMIT = 10
STRIPE_DEFAULT_LIMIT = 10
STRIPE_KEY = re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9_]+")
STRIPE_EVENT_TYPE = re.compile(r"\*|[a-z_]+(\.[a-z_]+)+")
PAYPAL_EVENT_TYPE = re.compile(r"\*|[A-Z_-]+(\.[A-Z_-]+)+")
TOKEN_SECONDS = 32400
"""How long PayPal's client-credentials tokens live (`expires_in` of its answers)."""


@dataclass(frozen=True)
class Request:
    """One HTTP request, as a route handler sees it (header names lower-case)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Response:
    status: int
    document: object | None = None

    def body(self) -> bytes:
        return b"" if self.document is None else json.dumps(self.document).encode()


Handler = Callable[[Request, re.Match[str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _stripe_error(status: int, message: str, param: str | None = None) -> Response:
    error: dict[str, str] = {"type": "invalid_request_error", "message": message}
    return Response(status, {"error": error | ({"param": param} if param else {})})


def _paypal_error(status: int, name: str, message: str) -> Response:
    return Response(
        status, {"name": name, "message": message, "debug_id": secrets.token_hex(7), "details": []}
    )


def _stripe_form(body: bytes) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
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


class RegistrationStandIn:
    """Stripe's webhook endpoints and PayPal's webhooks and OAuth tokens, kept in memory (and in
    `state_path` when given)."""

    def __init__(
        self, state_path: Path | None = None, paypal_app_of_token: Callable[[str], str | None] | None = None
    ) -> None:
        """`paypal_app_of_token`, when given, says which app (client id) issued an access token, or None:
        then a shared server's own `POST /v1/oauth2/token` issues the tokens and this one has no token
        route; without it, this stand-in issues and remembers its own."""
        self._state_path = state_path
        self._lock = threading.Lock()
        state = json.loads(state_path.read_text()) if state_path and state_path.exists() else {}
        self.stripe_endpoints: list[dict[str, Any]] = state.get("stripe_endpoints", [])
        self.paypal_webhooks: dict[str, list[dict[str, Any]]] = state.get("paypal_webhooks", {})
        """Each PayPal app's webhooks, by client id."""
        self.paypal_tokens: dict[str, str] = state.get("paypal_tokens", {})
        """Access token -> the client id it was issued to."""
        self._app_of_token = paypal_app_of_token or self.paypal_tokens.get
        token_route = Route("POST", re.compile(r"/v1/oauth2/token"), self._paypal_token)
        self.routes = [
            *([token_route] if paypal_app_of_token is None else []),
            Route("GET", re.compile(r"/v1/webhook_endpoints"), self._stripe_list),
            Route("POST", re.compile(r"/v1/webhook_endpoints"), self._stripe_create),
            Route("GET", re.compile(r"/v1/webhook_endpoints/(?P<id>we_\w+)"), self._stripe_get),
            Route("POST", re.compile(r"/v1/webhook_endpoints/(?P<id>we_\w+)"), self._stripe_update),
            Route("DELETE", re.compile(r"/v1/webhook_endpoints/(?P<id>we_\w+)"), self._stripe_delete),
            Route("GET", re.compile(r"/v1/notifications/webhooks"), self._paypal_list),
            Route("POST", re.compile(r"/v1/notifications/webhooks"), self._paypal_create),
            Route("GET", re.compile(r"/v1/notifications/webhooks/(?P<id>\w+)"), self._paypal_get),
            Route("PATCH", re.compile(r"/v1/notifications/webhooks/(?P<id>\w+)"), self._paypal_update),
            Route("DELETE", re.compile(r"/v1/notifications/webhooks/(?P<id>\w+)"), self._paypal_delete),
        ]

    def handle(self, request: Request) -> Response | None:
        """The answer of the route `request` matches; None when none does (the server's 404)."""
        for route in self.routes:
            match = route.pattern.fullmatch(request.path)
            if match and route.method == request.method:
                with self._lock:
                    response = route.handler(request, match)
                    self._save()
                return response
        return None

    def _save(self) -> None:
        if self._state_path is not None:
            self._state_path.parent.mkdir(parents=True, exist_ok=True)
            state = {
                "stripe_endpoints": self.stripe_endpoints,
                "paypal_webhooks": self.paypal_webhooks,
                "paypal_tokens": self.paypal_tokens,
            }
            self._state_path.write_text(json.dumps(state, indent=2))

    # -- Stripe ------------------------------------------------------------------------------------

    @staticmethod
    def _stripe_key(request: Request) -> str | None:
        authorization = request.headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if scheme == "Bearer":
            key = credential
        elif scheme == "Basic":
            key = base64.b64decode(credential).decode(errors="replace").partition(":")[0]
        else:
            return None
        return key if STRIPE_KEY.fullmatch(key) else None

    def _stripe_authorised(self, request: Request) -> Response | None:
        if self._stripe_key(request) is None:
            return Response(
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "You did not provide an API key, or it is not a secret or restricted key.",
                    }
                },
            )
        return None

    def _stripe_endpoint(self, endpoint_id: str) -> dict[str, Any] | None:
        return next((e for e in self.stripe_endpoints if e["id"] == endpoint_id), None)

    @staticmethod
    def _shown(endpoint: dict[str, Any]) -> dict[str, Any]:
        """An endpoint as Stripe shows it after creation: without its secret."""
        return {key: value for key, value in endpoint.items() if key != "secret"}

    def _stripe_list(self, request: Request, _: re.Match[str]) -> Response:
        if refused := self._stripe_authorised(request):
            return refused
        query = dict(urllib.parse.parse_qsl(request.query))
        limit_text = query.get("limit", str(STRIPE_DEFAULT_LIMIT))
        limit = int(limit_text) if limit_text.isdigit() else 0
        if not 1 <= limit <= 100:
            return _stripe_error(400, "Invalid limit: must be between 1 and 100", "limit")
        # Newest first, those created in the same second in the reverse of their creation (a stable sort).
        newest_first = sorted(reversed(self.stripe_endpoints), key=lambda e: e["created"], reverse=True)
        if "starting_after" in query:
            ids = [e["id"] for e in newest_first]
            if query["starting_after"] not in ids:
                return _stripe_error(400, "No such webhook endpoint", "starting_after")
            newest_first = newest_first[ids.index(query["starting_after"]) + 1 :]
        page = newest_first[:limit]
        return Response(
            200,
            {
                "object": "list",
                "url": "/v1/webhook_endpoints",
                "has_more": len(newest_first) > limit,
                "data": [self._shown(e) for e in page],
            },
        )

    def _stripe_fields(self, request: Request, allowed: set[str]) -> tuple[dict[str, Any], Response | None]:
        """The endpoint fields a create or update form sets, or Stripe's 400."""
        scalars, lists, metadata = _stripe_form(request.body)
        unknown = sorted((set(scalars) | set(lists)) - allowed - {"metadata"})
        if unknown:
            return {}, _stripe_error(400, f"Received unknown parameter: {unknown[0]}", unknown[0])
        fields: dict[str, Any] = {key: value for key, value in scalars.items() if key != "disabled"}
        if "enabled_events" in lists:
            events = lists["enabled_events"]
            invalid = [event for event in events if not STRIPE_EVENT_TYPE.fullmatch(event)]
            if invalid or not events:
                return {}, _stripe_error(400, f"Invalid enabled_events: {invalid}", "enabled_events")
            fields["enabled_events"] = events
        if metadata:
            fields["metadata"] = metadata
        if "disabled" in scalars:
            fields["status"] = "disabled" if scalars["disabled"] == "true" else "enabled"
        return fields, None

    def _stripe_create(self, request: Request, _: re.Match[str]) -> Response:
        if refused := self._stripe_authorised(request):
            return refused
        allowed = {"url", "enabled_events", "api_version", "description", "connect", "expand"}
        fields, refused = self._stripe_fields(request, allowed)
        if refused:
            return refused
        for required in ("url", "enabled_events"):
            if required not in fields:
                return _stripe_error(400, f"Missing required param: {required}.", required)
        key = self._stripe_key(request) or ""
        endpoint = {
            "id": f"we_{secrets.token_hex(12)}",
            "object": "webhook_endpoint",
            "api_version": fields.get("api_version"),
            "application": None,
            "created": int(time.time()),
            "description": fields.get("description"),
            "enabled_events": fields["enabled_events"],
            "livemode": "_live_" in key,
            "metadata": fields.get("metadata", {}),
            "secret": f"whsec_{secrets.token_urlsafe(24)}",
            "status": "enabled",
            "url": fields["url"],
        }
        self.stripe_endpoints.append(endpoint)
        return Response(200, endpoint)

    def _stripe_get(self, request: Request, match: re.Match[str]) -> Response:
        if refused := self._stripe_authorised(request):
            return refused
        endpoint = self._stripe_endpoint(match["id"])
        if endpoint is None:
            return _stripe_error(404, f"No such webhook endpoint: '{match['id']}'", "id")
        return Response(200, self._shown(endpoint))

    def _stripe_update(self, request: Request, match: re.Match[str]) -> Response:
        if refused := self._stripe_authorised(request):
            return refused
        endpoint = self._stripe_endpoint(match["id"])
        if endpoint is None:
            return _stripe_error(404, f"No such webhook endpoint: '{match['id']}'", "id")
        fields, refused = self._stripe_fields(
            request, {"url", "enabled_events", "description", "disabled", "expand"}
        )
        if refused:
            return refused
        metadata = endpoint["metadata"] | fields.pop("metadata", {})
        endpoint.update(fields | {"metadata": metadata})
        return Response(200, self._shown(endpoint))

    def _stripe_delete(self, request: Request, match: re.Match[str]) -> Response:
        if refused := self._stripe_authorised(request):
            return refused
        endpoint = self._stripe_endpoint(match["id"])
        if endpoint is None:
            return _stripe_error(404, f"No such webhook endpoint: '{match['id']}'", "id")
        self.stripe_endpoints.remove(endpoint)
        return Response(200, {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True})

    # -- PayPal ------------------------------------------------------------------------------------

    def _paypal_token(self, request: Request, _: re.Match[str]) -> Response:
        scheme, _space, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _colon, client_secret = (
                base64.b64decode(encoded, validate=True).decode().partition(":")
            )
        except ValueError:
            client_id = client_secret = ""
        form = dict(urllib.parse.parse_qsl(request.body.decode()))
        if scheme != "Basic" or not client_id or not client_secret:
            return Response(
                401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
            )
        if form.get("grant_type") != "client_credentials":
            return Response(
                400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL or invalid"}
            )
        token = f"A21AA{secrets.token_urlsafe(32)}"
        self.paypal_tokens[token] = client_id
        return Response(
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

    def _paypal_app(self, request: Request) -> str | None:
        """The client id of the request's bearer token; None when it has none this stand-in issued."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return self._app_of_token(token) if scheme == "Bearer" else None

    def _unauthorised(self) -> Response:
        return _paypal_error(
            401,
            "AUTHENTICATION_FAILURE",
            "Authentication failed due to invalid authentication credentials or a missing Authorization "
            "header.",
        )

    @staticmethod
    def _paypal_event_types(value: object) -> list[dict[str, str]] | None:
        if not isinstance(value, list) or not value:
            return None
        names = [entry.get("name") for entry in value if isinstance(entry, dict)]
        if len(names) != len(value) or not all(
            isinstance(n, str) and PAYPAL_EVENT_TYPE.fullmatch(n) for n in names
        ):
            return None
        return [{"name": str(name), "description": f"{name} (local stand-in)"} for name in names]

    @staticmethod
    def _with_links(webhook: dict[str, Any], request: Request) -> dict[str, Any]:
        href = f"http://{request.headers.get('host', '127.0.0.1')}/v1/notifications/webhooks/{webhook['id']}"
        links = [
            {"href": href, "rel": "self", "method": "GET"},
            {"href": href, "rel": "update", "method": "PATCH"},
            {"href": href, "rel": "delete", "method": "DELETE"},
        ]
        return webhook | {"links": links}

    def _paypal_webhook(self, app: str, webhook_id: str) -> dict[str, Any] | None:
        return next((w for w in self.paypal_webhooks.get(app, []) if w["id"] == webhook_id), None)

    def _paypal_list(self, request: Request, _: re.Match[str]) -> Response:
        app = self._paypal_app(request)
        if app is None:
            return self._unauthorised()
        return Response(
            200, {"webhooks": [self._with_links(w, request) for w in self.paypal_webhooks.get(app, [])]}
        )

    def _paypal_create(self, request: Request, _: re.Match[str]) -> Response:
        app = self._paypal_app(request)
        if app is None:
            return self._unauthorised()
        try:
            document = json.loads(request.body)
        except ValueError:
            return _paypal_error(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
        url = document.get("url") if isinstance(document, dict) else None
        event_types = self._paypal_event_types(
            document.get("event_types") if isinstance(document, dict) else None
        )
        if not isinstance(url, str) or not url or event_types is None:
            return _paypal_error(400, "VALIDATION_ERROR", "Invalid request - see details.")
        webhooks = self.paypal_webhooks.setdefault(app, [])
        if any(w["url"] == url for w in webhooks):
            return _paypal_error(400, "WEBHOOK_URL_ALREADY_EXISTS", "Webhook URL already exists.")
        if len(webhooks) >= PAYPAL_WEBHOOK_LIMIT:
            return _paypal_error(400, "WEBHOOK_NUMBER_LIMIT_EXCEEDED", "Maximum number of webhooks exceeded.")
        webhook = {"id": secrets.token_hex(9).upper()[:17], "url": url, "event_types": event_types}
        webhooks.append(webhook)
        return Response(201, self._with_links(webhook, request))

    def _paypal_get(self, request: Request, match: re.Match[str]) -> Response:
        app = self._paypal_app(request)
        if app is None:
            return self._unauthorised()
        webhook = self._paypal_webhook(app, match["id"])
        if webhook is None:
            return _paypal_error(404, "INVALID_RESOURCE_ID", "Resource id is invalid.")
        return Response(200, self._with_links(webhook, request))

    def _paypal_update(self, request: Request, match: re.Match[str]) -> Response:
        app = self._paypal_app(request)
        if app is None:
            return self._unauthorised()
        webhook = self._paypal_webhook(app, match["id"])
        if webhook is None:
            return _paypal_error(404, "INVALID_RESOURCE_ID", "Resource id is invalid.")
        try:
            patch = json.loads(request.body)
        except ValueError:
            return _paypal_error(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
        changed = dict(webhook)
        for operation in patch if isinstance(patch, list) else [None]:
            if not isinstance(operation, dict) or operation.get("op") != "replace":
                return _paypal_error(400, "VALIDATION_ERROR", "Invalid request - see details.")
            if operation.get("path") == "/url" and isinstance(operation.get("value"), str):
                changed["url"] = operation["value"]
            elif operation.get("path") == "/event_types" and (
                types := self._paypal_event_types(operation.get("value"))
            ):
                changed["event_types"] = types
            else:
                return _paypal_error(400, "VALIDATION_ERROR", "Invalid request - see details.")
        webhook.update(changed)
        return Response(200, self._with_links(webhook, request))

    def _paypal_delete(self, request: Request, match: re.Match[str]) -> Response:
        app = self._paypal_app(request)
        if app is None:
            return self._unauthorised()
        webhook = self._paypal_webhook(app, match["id"])
        if webhook is None:
            return _paypal_error(404, "INVALID_RESOURCE_ID", "Resource id is invalid.")
        self.paypal_webhooks[app].remove(webhook)
        return Response(204)


def handler_class(stand_in: RegistrationStandIn, calls: list[str]) -> type[BaseHTTPRequestHandler]:
    """An http.server request handler answering with `stand_in` (404 for any other path)."""

    class StandInHandler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("content-length") or 0)
            request = Request(
                self.command,
                path,
                query,
                {name.lower(): value for name, value in self.headers.items()},
                self.rfile.read(length),
            )
            calls.append(f"{self.command} {path}")
            response = stand_in.handle(request) or Response(404, {"error": {"message": f"no route {path}"}})
            body = response.body()
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = _answer  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the calls are recorded in `calls`."""

    return StandInHandler


@contextmanager
def serve(stand_in: RegistrationStandIn, calls: list[str] | None = None) -> Iterator[str]:
    """Serve `stand_in` on an ephemeral port of 127.0.0.1 while the context lasts; yield its base URL.
    Each call is appended to `calls` as "METHOD /path"."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(stand_in, [] if calls is None else calls))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
