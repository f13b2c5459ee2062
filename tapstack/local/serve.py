"""`tapstack local serve`: the local stack's API over HTTP on loopback, answering as API Gateway does.

So that curl, `stripe listen --forward-to` or any provider's test tooling can reach the local stack: each
request is answered as the deployed REST API answers it (its routes under the stage, the API key on
POST /transactions, the 10 MB payload limit, API Gateway's own error bodies), and otherwise becomes the
proxy integration event `tapstack.local.delivery` builds, run through the same `LocalRuntime` as
`make send`: the receiver, then the asynchronous chain. One line per delivery reports its outcome.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tapstack.local.delivery import (
    TRANSACTIONS_RESOURCE,
    WEBHOOK_RESOURCE,
    ApiIdentity,
    Route,
    api_gateway_event,
)
from tapstack.local.emulator import accept_stripe_signing_secret
from tapstack.local.send import Delivery, LocalRuntime
from tapstack.operate.deployment import Deployment
from templates.contract import API_KEY_ID, WEBHOOK_SECRET_ARN

LOOPBACK = "127.0.0.1"
# API Gateway's payload limit of a REST API (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
API_KEY_HEADER = "x-api-key"
# API Gateway's default gateway responses, as a REST API without custom ones answers.
MISSING_ROUTE = (403, {"message": "Missing Authentication Token"})
KEY_REFUSED = (403, {"message": "Forbidden"})
TOO_LARGE = (413, {"message": "Request Too Long"})


@dataclass(frozen=True)
class Answer:
    """An HTTP response: the status, its headers and body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def gateway(cls, status: int, document: Mapping[str, str]) -> Answer:
        """One of API Gateway's own responses, which no function sees."""
        return cls(status, {"Content-Type": "application/json"}, json.dumps(document).encode())

    @classmethod
    def proxied(cls, response: Mapping[str, Any]) -> Answer:
        """The receiver's proxy integration response, as API Gateway turns it into HTTP."""
        body = response.get("body") or ""
        content = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
        return cls(int(response["statusCode"]), dict(response.get("headers") or {}), content)


class LocalApi:
    """The deployed API's behaviour in front of a LocalRuntime: routing, the API key, the payload limit."""

    def __init__(self, runtime: LocalRuntime, api_key: str, report: Callable[[str], None]) -> None:
        self.runtime = runtime
        self.api: ApiIdentity = runtime.sender().api
        self.api_key = api_key
        self.report = report
        stage = re.escape(self.api.stage)
        self._webhook = re.compile(rf"/{stage}/webhooks/(?P<provider>[^/]+)/?")
        self._transactions = re.compile(rf"/{stage}/transactions/?")

    def route(self, method: str, path: str) -> Route | None:
        """The API's route for this request, or None where the API has no such method."""
        if method != "POST":
            return None
        if found := self._webhook.fullmatch(path):
            return Route(WEBHOOK_RESOURCE, {"provider": found["provider"]})
        if self._transactions.fullmatch(path):
            return Route(TRANSACTIONS_RESOURCE)
        return None

    def answer(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """What the deployed API answers this request; runs the stack's functions when it gets that far."""
        path = urlsplit(target).path
        route = self.route(method, path)
        if route is None:
            return self._refused(method, path, *MISSING_ROUTE)
        if len(body) > MAX_PAYLOAD_BYTES:
            return self._refused(method, path, *TOO_LARGE)
        given_key = next((value for name, value in headers.items() if name.lower() == API_KEY_HEADER), None)
        if route.requires_api_key and given_key != self.api_key:
            return self._refused(method, path, *KEY_REFUSED)
        try:
            event = api_gateway_event(route, body, headers, self.api, method=method)
        except UnicodeDecodeError:  # a body that is not text reaches the function base64-encoded
            event = api_gateway_event(route, body, headers, self.api, method=method, base64_body=True)
        started = time.monotonic()
        delivery = self.runtime.deliver(event)
        self.report(outcome_line(method, path, delivery, time.monotonic() - started))
        return Answer.proxied(delivery.response)

    def _refused(self, method: str, path: str, status: int, document: Mapping[str, str]) -> Answer:
        self.report(f"{method} {path} -> {status} {document['message']} (API Gateway; no function ran)")
        return Answer.gateway(status, document)


def outcome_line(method: str, path: str, delivery: Delivery, seconds: float) -> str:
    """`POST /v1/webhooks/stripe -> 202 {…} | processor ok | notifier ok (41 ms)`."""
    steps = [
        f"{outcome.function} "
        + ("ok" if outcome.error is None else f"FAILED after {outcome.attempts}: {outcome.error!r}")
        for outcome in delivery.outcomes
    ]
    body = str(delivery.response.get("body", ""))
    shown = body if len(body) <= 160 else body[:157] + "..."
    return (
        " | ".join([f"{method} {path} -> {delivery.status} {shown}", *steps]) + f" ({seconds * 1000:.0f} ms)"
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.api.answer(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        """The API's own outcome lines say what happened; no second access log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, api: LocalApi) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.api = api


def http_server(api: LocalApi, port: int) -> ThreadingHTTPServer:
    """The API on 127.0.0.1:port (0: any free port); OSError when the port cannot be bound."""
    return _Server(port, api)


def api_key_value(runtime: LocalRuntime) -> str:
    """The value of the stack's API key, the one POST /transactions requires in x-api-key."""
    key = runtime.clients("apigateway").get_api_key(apiKey=runtime.outputs[API_KEY_ID], includeValue=True)
    return str(key["value"])


def local_api(
    deployment: Deployment, report: Callable[[str], None], stripe_signing_secret: str | None = None
) -> LocalApi:
    """The deployed local stack's API; with `stripe_signing_secret`, Stripe deliveries signed with it
    (a provider CLI's) verify too."""
    runtime = LocalRuntime.for_deployed_stack(deployment.clients, deployment.stack, deployment.environment)
    if stripe_signing_secret is not None:
        secret_arn = runtime.outputs[WEBHOOK_SECRET_ARN]
        if accept_stripe_signing_secret(runtime.clients("secretsmanager"), secret_arn, stripe_signing_secret):
            report("the local stack now also accepts Stripe deliveries signed with the given secret")
    return LocalApi(runtime, api_key_value(runtime), report)
