"""In-process emulation of Lambda's asynchronous invocation, for tests and local sends.

moto cannot run function code without Docker, so this plays Lambda's part faithfully instead:

* `LocalLambda` stands in for the receiver's boto3 Lambda client: `invoke(InvocationType="Event")`
  answers `{"StatusCode": 202}` once the event is queued, like Lambda.
* Each queued event goes through JSON exactly as Lambda's runtime does it (so a handler gets
  `float`s for JSON numbers, and a return value `json.dumps` refuses is a function error).
* A failing attempt is retried up to MaximumRetryAttempts (2) times, immediately (Lambda waits
  about one and two minutes); the same request id is kept across attempts.
* On success with an OnSuccess destination, the next function gets the exact destination record;
  once retries are exhausted, the exact on-failure record (condition "RetriesExhausted") is sent to
  the OnFailure queue with a real SQS `SendMessage`, and, if the function also has a DeadLetterConfig,
  the bare event (attributes RequestID, ErrorCode, ErrorMessage) to that queue as well: Lambda uses
  both paths when both are configured, so one discarded event then leaves two messages.

Events run synchronously inside `invoke` unless `deferred=True`; then `run_pending()` runs them,
which lets tests queue the same event twice, as Lambda's at-least-once queue sometimes does.
"""

import json
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

Handler = Callable[[Any, Any], Any]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


@dataclass
class FakeContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    timeout_seconds: int = 30

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


@dataclass
class AsyncFunction:
    """One function's asynchronous configuration: the template's EventInvokeConfig and, where the
    function has one, its DeadLetterConfig."""

    name: str
    handler: Handler
    on_failure_queue_url: str | None = None
    on_success: str | None = None
    maximum_retry_attempts: int = 2
    timeout_seconds: int = 30
    dead_letter_queue_url: str | None = None


@dataclass
class Outcome:
    """What happened to one asynchronous event, for assertions and `make send` output."""

    function: str
    request_id: str
    attempts: int
    response: Any = None
    error: BaseException | None = None


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class LocalLambda:
    """A stand-in for `boto3.client("lambda")` that runs the functions in this process."""

    def __init__(self, functions: Iterable[AsyncFunction], sqs: Any, deferred: bool = False) -> None:
        self.functions = {function.name: function for function in functions}
        self._sqs = sqs
        self._deferred = deferred
        self._pending: list[tuple[str, bytes]] = []
        self.outcomes: list[Outcome] = []
        self._invokes = 0
        self._failing: set[int] = set()

    def fail_invoke(self, number: int) -> None:
        """Make the `number`-th invoke from now fail as the service may (a 500), queueing nothing:
        a hand-off that fails part-way through a batch."""
        self._failing.add(self._invokes + number)

    def invoke(  # boto3's parameter names, so that the receiver's real dispatch code runs unchanged
        self,
        *,
        FunctionName: str,  # noqa: N803
        InvocationType: str = "RequestResponse",  # noqa: N803
        Payload: bytes | str = b"{}",  # noqa: N803
    ) -> dict[str, Any]:
        if FunctionName not in self.functions:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found"}}, "Invoke"
            )
        if InvocationType != "Event":
            raise NotImplementedError("only asynchronous invocation is emulated")
        self._invokes += 1
        if self._invokes in self._failing:
            raise ClientError({"Error": {"Code": "ServiceException", "Message": "injected"}}, "Invoke")
        payload = Payload.encode() if isinstance(Payload, str) else Payload
        json.loads(payload)  # Lambda refuses a payload that is not JSON before queueing it
        self._pending.append((FunctionName, payload))
        if not self._deferred:
            self.run_pending()
        return {"StatusCode": 202, "Payload": b""}

    def run_pending(self) -> list[Outcome]:
        """Run queued events (and the destinations they trigger) until none is left."""
        ran: list[Outcome] = []
        while self._pending:
            name, payload = self._pending.pop(0)
            ran.append(self._run(self.functions[name], payload))
        return ran

    def _run(self, function: AsyncFunction, payload: bytes) -> Outcome:
        request_id = str(uuid.uuid4())
        outcome = Outcome(function.name, request_id, attempts=0)
        for _ in range(function.maximum_retry_attempts + 1):
            outcome.attempts += 1
            context = FakeContext(function.name, request_id, timeout_seconds=function.timeout_seconds)
            try:
                # A fresh parse per attempt, as the runtime does: handlers cannot share state through it.
                response = function.handler(json.loads(payload), context)
                outcome.response = marshal_response(response)
                outcome.error = None
                break
            except Exception as error:  # every exception is an "Unhandled" function error to Lambda
                outcome.error = error
        self.outcomes.append(outcome)
        record = self._destination_record(function, outcome, json.loads(payload))
        if outcome.error is None:
            if function.on_success is not None:
                self._pending.append((function.on_success, json.dumps(record).encode()))
            return outcome
        if function.on_failure_queue_url is not None:
            self._sqs.send_message(QueueUrl=function.on_failure_queue_url, MessageBody=json.dumps(record))
        if function.dead_letter_queue_url is not None:
            self._sqs.send_message(
                QueueUrl=function.dead_letter_queue_url,
                MessageBody=payload.decode(),
                MessageAttributes=_dead_letter_attributes(outcome.request_id, outcome.error),
            )
        return outcome

    @staticmethod
    def _destination_record(function: AsyncFunction, outcome: Outcome, request: Any) -> dict[str, Any]:
        """The invocation record Lambda sends to a destination, field for field."""
        context = FakeContext(function.name)
        failed = outcome.error is not None
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if failed:
            response_context["functionError"] = "Unhandled"
        return {
            "version": "1.0",
            "timestamp": _utc_now(),
            "requestContext": {
                "requestId": outcome.request_id,
                "functionArn": f"{context.invoked_function_arn}:$LATEST",
                "condition": "RetriesExhausted" if failed else "Success",
                "approximateInvokeCount": outcome.attempts,
            },
            "requestPayload": request,
            "responseContext": response_context,
            "responsePayload": _error_payload(outcome.error) if outcome.error else outcome.response,
        }


class MarshalError(Exception):
    """What the Lambda runtime reports when a handler returns something JSON cannot encode."""

    error_type = "Runtime.MarshalError"


def marshal_response(response: Any) -> Any:
    """Serialise a handler's return value as the runtime does (plain `json.dumps`), failing like it."""
    try:
        return json.loads(json.dumps(response))
    except (TypeError, ValueError) as error:
        raise MarshalError(f"Unable to marshal response: {error}") from error


def _dead_letter_attributes(request_id: str, error: BaseException) -> dict[str, dict[str, str]]:
    """The attributes Lambda gives a DeadLetterConfig message; its body is the event, unchanged.

    AWS documents ErrorCode only as a 3-digit HTTP code; 200, the status the invocation record's
    responseContext gives a function error, stands in for it. SQS refuses an empty attribute, so an
    error without a message gives its type.
    """
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": (str(error) or type(error).__name__)[:1024]},
    }


def _error_payload(error: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": getattr(error, "error_type", type(error).__name__),
        "requestId": "",
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
