"""The boto3 side of the adapters: clients once per container, and the core's ports over them.

boto3 and botocore are not in the artifact: the python3.13 Lambda runtime provides them (and their
own dependencies). Low-level clients only: the DynamoDB resource layer costs ~30 ms more cold start.
"""

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from handlers.core.model import Item

T = TypeVar("T")

# Fail fast inside the functions' 20-30 s timeouts; "standard" retries throttling and 5xx with backoff.
CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3}
)


class AwsClients:
    """boto3 clients by service name, each created on first use; tests pass their own in `given`."""

    def __init__(self, endpoint_url: str | None = None, given: Mapping[str, Any] | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = dict(given or {})

    def __call__(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            client = boto3.client(service, endpoint_url=self._endpoint_url, config=CLIENT_CONFIG)
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
                Item={key: _serializer.serialize(value) for key, value in item.items()},
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
        return (
            None
            if stored is None
            else {key: _deserializer.deserialize(value) for key, value in stored.items()}
        )

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


class S3Archive:
    """The audit bucket (encryption and versioning are the bucket's defaults, set by the template)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes, sha256_hex: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii"),
        )


class SnsPublisher:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, message: str, subject: str, attributes: Mapping[str, str]) -> str:
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Message=message,
            Subject=subject,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
        return str(response["MessageId"])


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
