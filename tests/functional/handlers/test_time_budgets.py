"""Time budgets: every AWS call (and the PayPal certificate fetch) ends before the function's timeout.

The budgets are derived from FUNCTION_TIMEOUT_SECONDS, which the template sets to each function's
Timeout. A dependency that hangs is a loopback socket that completes TCP handshakes (the kernel does,
for its listen backlog) and never sends a byte: the receiver must answer 503 and the processor must
raise (so that Lambda retries), before the function's own timeout. The hangs run under short timeouts
(a hang lasts as long as the budget lets it); the deployed timeouts' budgets are checked by arithmetic
in tests/unit/handlers/test_time_budgets.py.
"""

import json
import socket
import time
from collections.abc import Iterator

import pytest
from botocore.exceptions import ReadTimeoutError

from handlers import processor, receiver
from handlers.aws import FUNCTION_TIMEOUT_VARIABLE, SEQUENTIAL_CALLS, AwsClients, CallBudget
from handlers.core.model import HandOff
from handlers.core.receiving import normalise_body
from tapstack.local.local_lambda import FakeContext
from tests.support.pipeline import PROCESSOR, Pipeline, sample

# Short timeouts, so that each hang ends in seconds: the shortest whose budget retries (botocore's retries
# and backoff against a real hang), and one of a single attempt whose 1.4 s read still leaves the emulator
# room to answer the calls that do not hang.
RECEIVER_CALLS, PROCESSOR_CALLS = SEQUENTIAL_CALLS["receiver"], SEQUENTIAL_CALLS["processor"]
RETRYING_TIMEOUT = min(t for t in range(1, 901) if CallBudget.for_function(t, PROCESSOR_CALLS).attempts > 1)
SINGLE_ATTEMPT_TIMEOUT = 8


@pytest.fixture
def hung_endpoint() -> Iterator[str]:
    """An endpoint that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)  # never accept()ed, never read: each request waits for an answer that never comes
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_clients_get_the_function_s_budget(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FUNCTION_TIMEOUT_VARIABLE, "20")
    config = AwsClients("http://127.0.0.1:9", sequential_calls=RECEIVER_CALLS)("dynamodb").meta.config
    assert (config.connect_timeout, config.read_timeout) == (1.0, 1.5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    monkeypatch.delenv(FUNCTION_TIMEOUT_VARIABLE)
    assert AwsClients("http://127.0.0.1:9")("dynamodb").meta.config.read_timeout == 60  # botocore's


def _receive(pipeline: Pipeline, timeout: int) -> tuple[int, str, float]:
    """Call the receiver as Lambda would with `timeout`; status, error code, seconds taken."""
    event = pipeline.sender.event("stripe", sample("stripe/payment_intent.succeeded.json"))
    started = time.monotonic()
    response = receiver.handler(event, FakeContext("tapstack-receiver", timeout_seconds=timeout))
    taken = time.monotonic() - started
    return int(response["statusCode"]), json.loads(response["body"])["error"]["code"], taken


def test_a_hung_secrets_manager_is_a_503_before_the_receiver_times_out(
    pipeline: Pipeline, hung_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FUNCTION_TIMEOUT_VARIABLE, str(SINGLE_ATTEMPT_TIMEOUT))
    clients = AwsClients(hung_endpoint, given={"lambda": pipeline.lambda_}, sequential_calls=RECEIVER_CALLS)
    receiver.DEPENDENCIES.set(receiver.Dependencies(clients, PROCESSOR, pipeline.stack.secret_arn))

    status, code, taken = _receive(pipeline, SINGLE_ATTEMPT_TIMEOUT)

    assert (status, code) == (503, "temporarily_unavailable")
    assert taken < SINGLE_ATTEMPT_TIMEOUT
    assert pipeline.stack.items() == []


def test_a_hung_lambda_invoke_is_a_503_before_the_receiver_times_out(
    pipeline: Pipeline, hung_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FUNCTION_TIMEOUT_VARIABLE, str(SINGLE_ATTEMPT_TIMEOUT))
    hung_lambda = AwsClients(hung_endpoint, sequential_calls=RECEIVER_CALLS)("lambda")
    clients = AwsClients(
        pipeline.stack.endpoint, given={"lambda": hung_lambda}, sequential_calls=RECEIVER_CALLS
    )
    receiver.DEPENDENCIES.set(receiver.Dependencies(clients, PROCESSOR, pipeline.stack.secret_arn))

    status, code, taken = _receive(pipeline, SINGLE_ATTEMPT_TIMEOUT)

    assert (status, code) == (503, "temporarily_unavailable")
    assert taken < SINGLE_ATTEMPT_TIMEOUT
    assert pipeline.stack.items() == []


def test_a_hung_certificate_host_fails_the_fetch_before_the_receiver_times_out(
    hung_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # shorter than the fetch's timeout outside Lambda: only the budget ends the hang in time
    timeout = int(receiver.CERTIFICATE_TIMEOUT_SECONDS) - 1
    monkeypatch.setenv(FUNCTION_TIMEOUT_VARIABLE, str(timeout))
    started = time.monotonic()
    with pytest.raises(OSError, match="timed out"):
        receiver.fetch_certificate(f"{hung_endpoint}/v1/notifications/certs/CERT-1")
    assert time.monotonic() - started < timeout


def test_a_hung_audit_bucket_fails_the_processor_before_it_times_out(
    pipeline: Pipeline, hung_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure raises out of the handler: Lambda retries the event, then dead-letters it."""
    monkeypatch.setenv(FUNCTION_TIMEOUT_VARIABLE, str(RETRYING_TIMEOUT))
    hung_s3 = AwsClients(hung_endpoint, sequential_calls=PROCESSOR_CALLS)("s3")
    clients = AwsClients(pipeline.stack.endpoint, given={"s3": hung_s3}, sequential_calls=PROCESSOR_CALLS)
    stack = pipeline.stack
    dependencies = processor.Dependencies(clients, stack.table, stack.bucket, stack.objects_table)
    processor.DEPENDENCIES.set(dependencies)
    body = sample("stripe/payment_intent.succeeded.json")
    handoff = HandOff(normalise_body("stripe", body), body, "2026-12-01T08:00:00.000Z", "hung-bucket")

    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        processor.handler(
            handoff.to_json(), FakeContext("tapstack-processor", timeout_seconds=RETRYING_TIMEOUT)
        )
    assert time.monotonic() - started < RETRYING_TIMEOUT
    assert pipeline.stack.items() == []
