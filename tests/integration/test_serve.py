"""`tapstack local serve`: the local stack's API over HTTP on loopback, reached by plain HTTP clients as the
deployed API is: signed deliveries run the whole chain; API Gateway's own refusals come before any
function."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe as stripe_sdk

from tapstack import paths
from tapstack.local.send import LocalRuntime
from tapstack.local.serve import MAX_PAYLOAD_BYTES, LocalApi, http_server, local_api
from templates.contract import TRANSACTIONS_TABLE_NAME
from tests.integration.conftest import DeployedStack

STRIPE_EVENT = paths.EVENTS / "stripe" / "payment_intent.succeeded.json"
# What a provider CLI prints for its forwarding session (`stripe listen`): not the stack's own secret.
CLI_SIGNING_SECRET = "whsec_from_the_stripe_cli_0123456789abcdef"
TIMEOUT_SECONDS = 30


@dataclass
class Served:
    api: LocalApi
    port: int
    lines: list[str]

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
        """A plain HTTP client's POST to the served API: its status and JSON body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_SECONDS)
        try:
            connection.request("POST", f"/{self.api.api.stage}{path}", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def stored(self, transaction_id: str) -> bool:
        table = self.api.runtime.outputs[TRANSACTIONS_TABLE_NAME]
        key = {"transaction_id": {"S": transaction_id}}
        return "Item" in self.api.runtime.clients("dynamodb").get_item(TableName=table, Key=key)


@pytest.fixture(scope="module")
def served(deployment: DeployedStack, runtime: LocalRuntime) -> Iterator[Served]:
    lines: list[str] = []
    api = local_api(deployment.deployment, lines.append, CLI_SIGNING_SECRET)
    server = http_server(api, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    with runtime.activated():
        thread.start()
        try:
            yield Served(api, server.server_address[1], lines)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(TIMEOUT_SECONDS)


def _stripe_body(event_id: str) -> bytes:
    document = json.loads(STRIPE_EVENT.read_text(encoding="utf-8"))
    document["id"] = event_id
    return json.dumps(document).encode()


def test_a_signed_stripe_delivery_over_http_runs_the_chain_and_prints_its_outcome(served: Served) -> None:
    body = _stripe_body("evt_served_plain_client")
    headers = served.api.runtime.sender().signer.headers("stripe", body)
    before = len(served.lines)

    status, answer = served.post("/webhooks/stripe", body, headers)

    assert status == 202, answer
    assert served.stored(str(answer["transaction_id"]))
    (line,) = served.lines[before:]
    assert line.startswith(f"POST /{served.api.api.stage}/webhooks/stripe -> 202 ")
    assert re.search(r" \| \S+-processor-\S+ ok \| \S+-notifier-\S+ ok \(\d+ ms\)$", line), line


def test_a_delivery_signed_by_the_stripe_packages_helper_with_the_cli_secret_is_accepted(
    served: Served,
) -> None:
    body = _stripe_body("evt_served_stripe_sdk")
    signature = stripe_sdk.WebhookSignature.generate_signature_header(body.decode(), CLI_SIGNING_SECRET)

    status, answer = served.post(
        "/webhooks/stripe", body, {"Content-Type": "application/json", "Stripe-Signature": signature}
    )

    assert status == 202, answer
    assert served.stored(str(answer["transaction_id"]))


def test_an_unsigned_delivery_is_refused_by_the_receiver(served: Served) -> None:
    status, answer = served.post(
        "/webhooks/stripe", _stripe_body("evt_unsigned"), {"Content-Type": "application/json"}
    )

    assert status == 401, answer


def test_a_body_over_api_gateways_limit_is_refused_before_any_function(served: Served) -> None:
    before = len(served.lines)

    status, answer = served.post("/webhooks/stripe", b"x" * (MAX_PAYLOAD_BYTES + 1), {})

    assert (status, answer) == (413, {"message": "Request Too Long"})
    assert served.lines[before:] == [
        "POST /"
        + served.api.api.stage
        + "/webhooks/stripe -> 413 Request Too Long (API Gateway; no function ran)"
    ]


def test_transactions_without_the_api_key_is_forbidden_and_with_it_accepted(served: Served) -> None:
    body = Path(paths.EVENTS / "internal" / "transaction.created.json").read_bytes()
    signed = served.api.runtime.sender().signer.headers("internal", body)

    refused = served.post("/transactions", body, signed)
    accepted = served.post("/transactions", body, {**signed, "x-api-key": served.api.api_key})

    assert refused == (403, {"message": "Forbidden"})
    assert accepted[0] == 202, accepted


def test_a_path_the_api_does_not_have_answers_as_api_gateway_does(served: Served) -> None:
    assert served.post("/webhooks", b"{}", {}) == (403, {"message": "Missing Authentication Token"})
