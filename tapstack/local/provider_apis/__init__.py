"""Local stand-ins for the providers' own APIs: the event log each provider keeps and the webhook
endpoints registered with it, served on loopback.

Every event a local provider creates (`make send`, `tapstack local send`) is recorded in its log, one
JSON line per event under the local session's state directory, whether or not its delivery reached the
stack (fault `unreachable`: it did not). Its endpoint registrations are kept there too, one JSON file.
Both outlive the process that wrote them, so a later `tapstack local reconcile` reads what earlier sends
created and a second `tapstack local register` sees the first one's endpoint. `ProviderApiServer` serves
the route tables of the stand-ins (one module per provider: `stripe`, `paypal`) on an ephemeral
127.0.0.1 port from a thread, in each provider's documented wire format.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from handlers.providers.api_calls import ApiAnswer, ApiCall
from tapstack import paths

STATE_DIRECTORY = paths.LOCAL_STATE / "providers"
"""What the local providers keep between commands: their event logs and their endpoint registrations."""


@dataclass(frozen=True)
class LoggedEvent:
    """One event in a provider's log: its id, creation (Unix seconds), type, whether its delivery
    reached the stack, and the event as the provider renders it."""

    event_id: str
    created: float
    event_type: str
    delivered: bool
    body: str


class EventLog:
    """A provider's event log: a JSON-lines file, appended to by each process that creates an event."""

    def __init__(self, provider: str, directory: Path = STATE_DIRECTORY) -> None:
        self.provider = provider
        self.path = directory / f"{provider}.jsonl"
        self._lock = threading.Lock()

    def record(self, event: LoggedEvent) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "id": event.event_id,
                "created": event.created,
                "type": event.event_type,
                "delivered": event.delivered,
                "body": event.body,
            },
            separators=(",", ":"),
        )
        with self._lock, self.path.open("a", encoding="utf-8") as log:
            log.write(line + "\n")

    def events(self) -> list[LoggedEvent]:
        """Newest first (the order both providers list in); an event recorded again (a second send of
        the same sample) is one event, delivered if any of its deliveries was."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        found: dict[str, tuple[int, LoggedEvent]] = {}
        for line_number, line in enumerate(lines):
            record = json.loads(line)
            event = LoggedEvent(
                record["id"], float(record["created"]), record["type"], record["delivered"], record["body"]
            )
            position, first = found.get(event.event_id, (line_number, event))
            found[event.event_id] = (
                position,
                dataclasses.replace(first, delivered=first.delivered or event.delivered),
            )
        ordered = sorted(found.values(), key=lambda pair: (pair[1].created, pair[0]), reverse=True)
        return [event for _, event in ordered]


class KeptRegistrations:
    """A stand-in's endpoint registrations: a JSON file, read once, rewritten after each change (under
    `lock`, which the server's threads share)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def load(self) -> Any:
        """The document last saved; None before the first."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def save(self, document: object) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(document, indent=2), encoding="utf-8")


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    """Lower-case names."""
    body: bytes
    parameters: Mapping[str, str] = field(default_factory=dict)
    """The path's `{name}` segments of the route that answers it."""

    def first(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class ApiResponse:
    status: int
    payload: bytes
    """JSON: built around the logged events' own bytes, so a listed event is byte for byte the one
    delivered (the same body hash, the same audit key)."""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, status: int, document: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        return cls(status, json.dumps(document, separators=(",", ":")).encode(), headers or {})

    @classmethod
    def empty(cls, status: int) -> ApiResponse:
        """No content (PayPal's 204 after a deletion)."""
        return cls(status, b"")


def json_list(head: Mapping[str, Any], key: str, items: list[str]) -> bytes:
    """`head` with `key` holding the raw JSON `items`, in that order."""
    prefix = json.dumps(dict(head), separators=(",", ":"))[:-1]
    return f'{prefix}{"," if head else ""}"{key}":[{",".join(items)}]}}'.encode()


Handler = Callable[[ApiRequest], ApiResponse]
RouteTable = Mapping[tuple[str, str], Handler]
"""(method, path) -> handler: each stand-in's routes. A `{name}` segment of the path matches any one segment
(a resource id), handed to the handler in `ApiRequest.parameters`."""


def _path_pattern(path: str) -> re.Pattern[str]:
    """The route's path with each `{name}` (`\\{name\\}` once escaped) a named group of one segment."""
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)))


@dataclass(frozen=True)
class InjectedAnswer:
    """What the server answers instead of the route, once: a 429 with `Retry-After`, a 5xx."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)


class ProviderApiServer:
    """The route tables served on http://127.0.0.1:<ephemeral port> from a daemon thread."""

    def __init__(self, *tables: RouteTable) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self._templates: list[tuple[str, re.Pattern[str], Handler]] = []
        for table in tables:
            self.add_routes(table)
        self.requests: list[ApiRequest] = []
        self._injected: deque[InjectedAnswer] = deque()
        self._server: ThreadingHTTPServer | None = None

    def add_routes(self, table: RouteTable) -> None:
        clash = set(table) & set(self.routes)
        if clash:
            raise ValueError(f"routes served twice: {sorted(clash)}")
        self.routes.update(table)
        self._templates = [
            (method, _path_pattern(path), handler)
            for (method, path), handler in self.routes.items()
            if "{" in path
        ]

    def _route(self, request: ApiRequest) -> tuple[Handler, ApiRequest] | None:
        handler = self.routes.get((request.method, request.path))
        if handler is not None:
            return handler, request
        for method, pattern, templated in self._templates:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return templated, dataclasses.replace(request, parameters=match.groupdict())
        return None

    def inject(self, *answers: InjectedAnswer) -> None:
        """Answer the next requests with these, in order, before serving the routes again."""
        self._injected.extend(answers)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the provider API server is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, request: ApiRequest) -> ApiResponse:
        self.requests.append(request)
        if self._injected:
            injected = self._injected.popleft()
            return ApiResponse.of(injected.status, _error(injected.status), injected.headers)
        routed = self._route(request)
        if routed is None:
            return ApiResponse.of(404, _error(404))
        handler, request = routed
        return handler(request)

    def in_process(self, call: ApiCall) -> ApiAnswer:
        """Answer a provider client's call without a socket (the unit tier and the benchmark's
        baseline): the same routes, faults and payloads as over HTTP."""
        parts = urlsplit(call.url)
        headers = {name.lower(): value for name, value in call.headers.items()}
        headers.setdefault("host", parts.netloc)
        headers.setdefault("x-forwarded-proto", parts.scheme)  # links answered on the origin called
        request = ApiRequest(
            call.method, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, call.body or b""
        )
        response = self.answer(request)
        answered = {name.lower(): value for name, value in response.headers.items()}
        return ApiAnswer(
            response.status, {"request-id": f"req_{uuid.uuid4().hex[:14]}"} | answered, response.payload
        )

    @contextmanager
    def running(self) -> Iterator[ProviderApiServer]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="provider-apis", daemon=True)
        self._server = server
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            self._server = None


def _error(status: int) -> dict[str, Any]:
    return {"error": {"type": "api_error", "message": f"injected or unrouted answer {status}"}}


def _handler_class(server: ProviderApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = ApiRequest(
                self.command,
                parts.path,
                parse_qs(parts.query, keep_blank_values=True),
                {name.lower(): value for name, value in self.headers.items()},
                self.rfile.read(length),
            )
            response = server.answer(request)
            payload = response.payload
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the requests are kept on the server for tests to read."""

    return Handler
