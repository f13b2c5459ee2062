"""Builders for the handler tests: the stack's webhook secret and signers for it, fresh resources in moto
for each test, and the deployed template's functions running over them as `make send` runs them
(tapstack.local.send's LocalRuntime). Requests are built by tapstack.local.delivery, as `send` builds them."""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from handlers.aws import AwsClients
from handlers.core.secrets import VerificationMaterial
from tapstack import paths
from tapstack.local.delivery import ApiIdentity, Sender, Signer
from tapstack.local.local_lambda import LocalLambda
from tapstack.local.paypal_pki import LocalPaypal
from tapstack.local.send import LocalRuntime
from tapstack.operate.deployment import Deployment
from templates import contract
from templates.contract import (
    AUDIT_BUCKET_NAME,
    OBJECTS_TABLE_NAME,
    PAYMENT_EVENTS_TOPIC_ARN,
    RECONCILIATION_TABLE_NAME,
    ROLES,
    TRANSACTIONS_TABLE_NAME,
    WEBHOOK_SECRET_ARN,
    dead_letter_queue_url_output,
    function_name_output,
)

EVENTS = paths.EVENTS
FUNCTION_NAMES = {role: f"tapstack-{role}" for role in ROLES}
"""The functions' names in these tests' stack."""
RECEIVER = FUNCTION_NAMES[contract.RECEIVER]
PROCESSOR = FUNCTION_NAMES[contract.PROCESSOR]
NOTIFIER = FUNCTION_NAMES[contract.NOTIFIER]
API = ApiIdentity(api_id="abcdef1234", stage="prod", api_key_id="k3y1d0abcd")
STRIPE_SECRET = "whsec_test_0123456789abcdef"
INTERNAL_KEY = "k" * 32 + "0123456789abcdefghijklmnopqrstuv"
CATALOGUE_MATERIAL: dict[str, dict[str, object]] = {
    # Each key in the form its provider issues it; Square's signed URL is the route's.
    "standard-webhooks": {"signing_keys": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]},
    "github": {"signing_keys": ["gh-test-webhook-secret"]},
    "shopify": {"signing_keys": ["shpss_0123456789abcdef0123456789abcdef"]},
    "checkout-com": {"signing_keys": ["cko-test-signature-key-0123456789"]},
    "square": {
        "signing_keys": ["sq0-test-Ibxx_5AKakO-3qeNVR61Dw"],
        "notification_url": "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/webhooks/square",
    },
    "gocardless": {"signing_keys": ["ED7D658C-D8EB-4941-948B-3973214F2D49-test"]},
    "adyen": {"signing_keys": ["44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"]},
    "braintree": {"signing_keys": [{"public_key": "test_public_key", "private_key": "test_private_key"}]},
}
WEBHOOK_SECRET: dict[str, Any] = {
    "stripe_signing_secrets": [STRIPE_SECRET],
    "paypal_webhook_id": "WH-TEST-0000000000000001",
    "internal_hmac_key": INTERNAL_KEY,
    "internal_hmac_previous_keys": [],
    **CATALOGUE_MATERIAL,
}
"""The stack's webhook secret in these tests."""


def signer_for(paypal: LocalPaypal, **secret_changes: Any) -> Signer:
    """Signs with the material of WEBHOOK_SECRET, as changed by `secret_changes`, and `paypal`'s key."""
    secret = json.dumps(WEBHOOK_SECRET | secret_changes)
    return Signer(VerificationMaterial.from_secret_string(secret), paypal)


class CertificateServer:
    """The injected certificate fetcher: serves PEMs by URL and counts fetches; never the network."""

    def __init__(self, pems: dict[str, bytes]) -> None:
        self.pems = pems
        self.fetches: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetches.append(url)
        if url not in self.pems:
            raise OSError("no route to host")
        return self.pems[url]


_deserializer = TypeDeserializer()


@dataclass
class Stack:
    """The resources the handlers use, created in moto with unique names for one test."""

    endpoint: str
    table: str
    bucket: str
    topic_arn: str
    objects_table: str
    events_queue_url: str
    processor_dlq_url: str
    notifier_dlq_url: str
    secret_arn: str
    reconciliation_table: str = ""
    reconciler_dlq_url: str = ""
    clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, endpoint: str, secret: dict[str, Any]) -> "Stack":
        suffix = uuid.uuid4().hex[:10]
        clients = {
            name: boto3.client(name, endpoint_url=endpoint)
            for name in ("dynamodb", "s3", "sns", "sqs", "secretsmanager")
        }
        table, objects_table = f"transactions-{suffix}", f"objects-{suffix}"
        reconciliation_table = f"reconciliation-{suffix}"
        for name, key in (
            (table, "transaction_id"),
            (objects_table, "object_key"),
            (reconciliation_table, "provider"),
        ):
            clients["dynamodb"].create_table(
                TableName=name,
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        bucket = f"audit-{suffix}"
        clients["s3"].create_bucket(Bucket=bucket)
        topic_arn = clients["sns"].create_topic(Name=f"events-{suffix}")["TopicArn"]
        queues = {
            name: clients["sqs"].create_queue(QueueName=f"{name}-{suffix}")["QueueUrl"]
            for name in ("events", "processor-dlq", "notifier-dlq", "reconciler-dlq")
        }
        queue_arn = clients["sqs"].get_queue_attributes(
            QueueUrl=queues["events"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        clients["sns"].subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        secret_arn = clients["secretsmanager"].create_secret(
            Name=f"webhooks-{suffix}", SecretString=json.dumps(secret)
        )["ARN"]
        return cls(
            endpoint,
            table,
            bucket,
            topic_arn,
            objects_table,
            queues["events"],
            queues["processor-dlq"],
            queues["notifier-dlq"],
            secret_arn,
            reconciliation_table,
            queues["reconciler-dlq"],
            clients,
        )

    def outputs(self) -> dict[str, str]:
        """The deployed stack's outputs, as they would name these resources: what the template's
        functions are resolved against."""
        return {
            TRANSACTIONS_TABLE_NAME: self.table,
            OBJECTS_TABLE_NAME: self.objects_table,
            AUDIT_BUCKET_NAME: self.bucket,
            PAYMENT_EVENTS_TOPIC_ARN: self.topic_arn,
            WEBHOOK_SECRET_ARN: self.secret_arn,
            dead_letter_queue_url_output(contract.PROCESSOR): self.processor_dlq_url,
            dead_letter_queue_url_output(contract.NOTIFIER): self.notifier_dlq_url,
            dead_letter_queue_url_output(contract.RECONCILER): self.reconciler_dlq_url,
            RECONCILIATION_TABLE_NAME: self.reconciliation_table,
            **{function_name_output(role): name for role, name in FUNCTION_NAMES.items()},
        }

    def item(self, transaction_id: str) -> dict[str, Any] | None:
        stored = (
            self.clients["dynamodb"]
            .get_item(
                TableName=self.table, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
            )
            .get("Item")
        )
        return None if stored is None else {k: _deserializer.deserialize(v) for k, v in stored.items()}

    def items(self) -> list[dict[str, Any]]:
        scanned = self.clients["dynamodb"].scan(TableName=self.table)["Items"]
        return [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in scanned]

    def _drain(self, queue_url: str) -> Iterator[dict[str, Any]]:
        while True:
            messages = (
                self.clients["sqs"]
                .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
                .get("Messages", [])
            )
            if not messages:
                return
            for message in messages:
                self.clients["sqs"].delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                yield message

    def published(self) -> list[dict[str, Any]]:
        """Messages published to the topic, read back through the raw-delivery SQS subscription."""
        return [
            {"body": json.loads(m["Body"]), "attributes": m.get("MessageAttributes", {})}
            for m in self._drain(self.events_queue_url)
        ]

    def dead_letters(self, queue_url: str) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self._drain(queue_url)]


@dataclass
class Pipeline:
    """The deployed template's functions over a Stack, wired by LocalRuntime as `make send` wires them:
    receiver -> (async) processor -> (on success) notifier. One LocalLambda keeps every asynchronous
    outcome of the test."""

    stack: Stack
    runtime: LocalRuntime
    sender: Sender
    lambda_: LocalLambda

    @classmethod
    def wire(cls, deployment: Deployment, stack: Stack, signer: Signer) -> "Pipeline":
        """The template of `deployment` resolved against `stack`'s outputs; PayPal's certificate
        and trust anchor are `signer`'s, so that its PayPal signatures verify."""
        runtime = LocalRuntime(
            deployment.clients,
            deployment.environment,
            deployment.template,
            stack.outputs(),
            local_paypal=signer.paypal,
        )
        return cls(stack, runtime, Sender(signer, API), runtime.async_lambda())

    def deferred(self) -> "Pipeline":
        """The same functions, whose asynchronous invokes wait for `lambda_.run_pending()`."""
        return replace(self, lambda_=self.runtime.async_lambda(deferred=True))

    @property
    def receiver_clients(self) -> AwsClients:
        return self.runtime.clients_of(RECEIVER)

    @property
    def processor_clients(self) -> AwsClients:
        return self.runtime.clients_of(PROCESSOR)

    @property
    def notifier_clients(self) -> AwsClients:
        return self.runtime.clients_of(NOTIFIER)

    def send(self, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Call the receiver as the API does; the status and the parsed JSON body."""
        response = self.runtime.call_api_function(event, self.lambda_)
        return int(response["statusCode"]), json.loads(response["body"])


def sample(relative: str) -> bytes:
    return (EVENTS / relative).read_bytes()


MALFORMED_BODIES = [
    (b'{"id": NaN}', "body_malformed"),
    (b"[]", "body_not_object"),
    (b"[" * 40 + b"]" * 40, "body_too_deep"),
    (
        b'{"id":"gen-1","type":"t","occurred_at":"2026-11-23T10:00:00Z","amount":"1e400","currency":"EUR"}',
        "invalid_event",
    ),
    (
        b'{"id":"gen-1","type":"t","occurred_at":"2026-11-23T10:00:00Z","amount":1e400,"currency":"EUR"}',
        "amount_invalid",
    ),
    (
        b'{"id":"gen-1","type":"t","occurred_at":"2026-11-23T10:00:00Z","amount":'
        + b"1" * 39
        + b',"currency":"EUR"}',
        "amount_invalid",
    ),
]
"""Signed bodies that cannot be normalised, with the refusal each gets from internal clients."""


def rotate(pipeline: Pipeline, **changes: Any) -> None:
    secret = WEBHOOK_SECRET | changes
    pipeline.stack.clients["secretsmanager"].put_secret_value(
        SecretId=pipeline.stack.secret_arn, SecretString=json.dumps(secret)
    )
