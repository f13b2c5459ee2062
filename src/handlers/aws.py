"""The boto3 side of the adapters: clients once per container, and the core's ports over them.

boto3 and botocore are not in the artifact: the python3.13 Lambda runtime provides them (and their
own dependencies). Low-level clients only: the DynamoDB resource layer costs ~30 ms more cold start.
"""

import base64
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from handlers.core.model import Item
from handlers.core.reconciling import Cursor

T = TypeVar("T")

FUNCTION_TIMEOUT_VARIABLE = "FUNCTION_TIMEOUT_SECONDS"
"""Set by the template to the function's own Timeout; the clients are made once per container, before
any invocation's context exists, so the budget is derived from the configured timeout, not the
remaining time."""
SEQUENTIAL_CALLS = {"receiver": 3, "processor": 5, "notifier": 4, "reconciler": 4}
"""The most calls each function makes one after another in one invocation: the receiver's secret read,
PayPal certificate fetch and processor invoke; the processor's archive put, object state read and
conditional write, item write and read-back; the notifier's read, publish, FIFO publish (with the opt-in
FIFO topic) and conditional update; the reconciler's secret read, batched table read, cursor write and
processor invoke (its provider calls have their own budget, handlers.core.reconciling). A
processor whose state write is lost to another processor on the same object reads and writes again
(handlers.core.ordering): two calls more per lost write, beyond this budget, so a hang then can end
in Lambda's timeout (retried all the same) rather than in the processor's own error."""
RESERVE_FRACTION = 0.1
"""Of the timeout, kept for the function's own work and for answering (503, or raising) after the
last call failed."""
CONNECT_TIMEOUT_SECONDS = 1.0
MIN_READ_TIMEOUT_SECONDS = 1.0
MAX_READ_TIMEOUT_SECONDS = 10.0
"""An AWS API that has sent nothing for this long is not going to: a long function retries instead."""
MAX_ATTEMPTS = 3


def backoff_seconds(attempts: int) -> float:
    """The longest botocore's standard mode sleeps in all between `attempts` attempts: at most 2**i s
    before retry i+1 (its throttling scale; other errors sleep less)."""
    return sum(min(2.0**retry, 20.0) for retry in range(attempts - 1))


@dataclass(frozen=True)
class CallBudget:
    """How long one call to AWS may take, retries included, so that a function's calls all end
    before its timeout: a hung dependency is then an error the function handles, not a timeout."""

    per_call_seconds: float
    connect_timeout: float
    read_timeout: float
    attempts: int

    @classmethod
    def for_function(cls, timeout_seconds: float, sequential_calls: int) -> "CallBudget":
        """The most attempts (up to 3) that leave each a 1 s connect and a read of 1 to 10 s, for a
        function making `sequential_calls` calls one after another."""
        per_call = timeout_seconds * (1 - RESERVE_FRACTION) / sequential_calls
        for attempts in range(MAX_ATTEMPTS, 0, -1):
            per_attempt = (per_call - backoff_seconds(attempts)) / attempts
            if per_attempt >= CONNECT_TIMEOUT_SECONDS + MIN_READ_TIMEOUT_SECONDS:
                read = min(per_attempt - CONNECT_TIMEOUT_SECONDS, MAX_READ_TIMEOUT_SECONDS)
                return cls(per_call, CONNECT_TIMEOUT_SECONDS, read, attempts)
        # A timeout this short leaves one attempt, its time split between connecting and reading.
        return cls(per_call, per_call / 2, per_call / 2, 1)

    @classmethod
    def from_environment(cls, sequential_calls: int) -> "CallBudget | None":
        """The budget of the function this runs in; None outside Lambda (tests, tools), where no
        function timeout applies and botocore's defaults do."""
        timeout = os.environ.get(FUNCTION_TIMEOUT_VARIABLE)
        if timeout is None:
            return None
        return cls.for_function(float(timeout), sequential_calls)  # not money: seconds

    @property
    def worst_case_seconds(self) -> float:
        """Every attempt connecting and reading up to its timeout, and the longest backoff between."""
        return self.attempts * (self.connect_timeout + self.read_timeout) + backoff_seconds(self.attempts)

    @property
    def fetch_timeout_seconds(self) -> float:
        """urllib's timeout for an HTTPS fetch in one call's share (one attempt): it applies to the
        connect and to each read, and a server that hangs costs at most one of each."""
        return min(self.per_call_seconds / 2, MAX_READ_TIMEOUT_SECONDS)

    def config(self) -> Config:
        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": "standard", "total_max_attempts": self.attempts},
        )


class AwsClients:
    """boto3 clients by service name, each created on first use; tests pass their own in `given`.

    Each client it creates gets the `CallBudget` of the function it runs in, which makes
    `sequential_calls` calls one after another (by default the most any function makes: the
    shortest timeouts).
    """

    def __init__(
        self,
        endpoint_url: str | None = None,
        given: Mapping[str, Any] | None = None,
        sequential_calls: int = max(SEQUENTIAL_CALLS.values()),
    ) -> None:
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = dict(given or {})
        budget = CallBudget.from_environment(sequential_calls)
        self._config = None if budget is None else budget.config()

    def __call__(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            client = boto3.client(service, endpoint_url=self._endpoint_url, config=self._config)
            self._clients[service] = client
        return client


class Once(Generic[T]):
    """A value built on first use and kept for the container's life; `set` replaces it (tests, tools)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            self._value = self._build()
        return self._value

    def set(self, value: T | None) -> None:
        """Use `value` from now on; None rebuilds from the environment on next use."""
        self._value = value


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: Item) -> dict[str, Any]:
    """An item in DynamoDB's attribute-value form."""
    return {key: _serializer.serialize(value) for key, value in item.items()}


def from_attributes(stored: Mapping[str, Any]) -> Item:
    """An item read in DynamoDB's attribute-value form: numbers come back as exact Decimals."""
    return {key: _deserializer.deserialize(value) for key, value in stored.items()}


def _is_condition_failure(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class DynamoTransactions:
    """The transactions table: the processor's and the notifier's store ports."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put_if_absent(self, item: Item) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(transaction_id)",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def get(self, transaction_id: str) -> Item | None:
        response = self._client.get_item(
            TableName=self._table, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
        )
        stored = response.get("Item")
        return None if stored is None else from_attributes(stored)

    def mark_published(self, transaction_id: str, published_at: str, message_id: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"transaction_id": {"S": transaction_id}},
                UpdateExpression="SET published_at = :at, sns_message_id = :id",
                ConditionExpression="attribute_exists(transaction_id) AND attribute_not_exists(published_at)",
                ExpressionAttributeValues={":at": {"S": published_at}, ":id": {"S": message_id}},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True


class DynamoObjectStates:
    """The objects table: each provider object's applied state, the processor's ordering port."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, object_key: str) -> Item | None:
        response = self._client.get_item(
            TableName=self._table, Key={"object_key": {"S": object_key}}, ConsistentRead=True
        )
        stored = response.get("Item")
        return None if stored is None else from_attributes(stored)

    def put_if_unchanged(self, state: Item, applied_transaction_id: str | None) -> bool:
        unchanged: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(object_key)"}
            if applied_transaction_id is None
            else {
                "ConditionExpression": "transaction_id = :applied",
                "ExpressionAttributeValues": {":applied": {"S": applied_transaction_id}},
            }
        )
        try:
            self._client.put_item(TableName=self._table, Item=to_attributes(state), **unchanged)
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True


class DynamoKnownTransactions:
    """Which transaction ids the table holds: BatchGetItem of the keys only (the reconciler's port)."""

    def __init__(self, client: Any, table_name: str, sleep: Callable[[float], None]) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep

    def existing(self, transaction_ids: Sequence[str]) -> set[str]:
        keys = [
            {"transaction_id": {"S": transaction_id}} for transaction_id in dict.fromkeys(transaction_ids)
        ]
        found: set[str] = set()
        request: dict[str, Any] = {
            self._table: {"Keys": keys, "ProjectionExpression": "transaction_id", "ConsistentRead": True}
        }
        for attempt in range(MAX_ATTEMPTS * 3):
            response = self._client.batch_get_item(RequestItems=request)
            found |= {
                item["transaction_id"]["S"] for item in response.get("Responses", {}).get(self._table, [])
            }
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            self._sleep(min(0.05 * 2**attempt, 1.0))  # throttled keys: back off, as DynamoDB advises
        raise RuntimeError("the table left keys unprocessed after every retry")


class DynamoCursors:
    """The reconciliation state table: one item per provider, its cursor as a JSON document."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, provider: str) -> Cursor | None:
        response = self._client.get_item(
            TableName=self._table, Key={"provider": {"S": provider}}, ConsistentRead=True
        )
        stored = response.get("Item")
        return (
            None
            if stored is None
            else Cursor.from_json(json.loads(stored["cursor"]["S"], parse_float=Decimal))
        )

    def save(self, provider: str, cursor: Cursor) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={"provider": {"S": provider}, "cursor": {"S": json.dumps(cursor.to_json(), sort_keys=True)}},
        )


class S3Archive:
    """The audit bucket (encryption, versioning and Object Lock retention are the bucket's defaults, set
    by the template)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes, sha256_hex: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            # S3 refuses a put into a bucket with a default Object Lock retention unless it carries
            # Content-MD5 or x-amz-sdk-checksum-algorithm; given a ChecksumSHA256 value, botocore
            # sends the algorithm header only when ChecksumAlgorithm is named too.
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii"),
        )


class SnsPublisher:
    """A topic: the standard one (`publish`) or a FIFO one (`publish_in_group`)."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, message: str, subject: str, attributes: Mapping[str, str], **fifo: str) -> str:
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Message=message,
            Subject=subject,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
            **fifo,
        )
        return str(response["MessageId"])

    def publish_in_group(
        self, message: str, subject: str, attributes: Mapping[str, str], group_id: str, deduplication_id: str
    ) -> str:
        return self.publish(
            message, subject, attributes, MessageGroupId=group_id, MessageDeduplicationId=deduplication_id
        )


class LambdaDispatcher:
    """Asynchronous invocation of a function; returns only once Lambda has queued the event."""

    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function_name = function_name

    def dispatch(self, payload: Mapping[str, object]) -> None:
        response = self._client.invoke(
            FunctionName=self._function_name,
            InvocationType="Event",
            Payload=json.dumps(payload, separators=(",", ":")).encode(),
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"asynchronous invoke answered {response.get('StatusCode')}")


def secret_string(client: Any, secret_id: str) -> str:
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
