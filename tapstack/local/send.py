"""`make send`: sign a sample event, deliver it as API Gateway would, and run the deployed stack's code.

moto cannot run Lambda code, so the three functions run in this process (`LocalRuntime`), wired
as the deployed template wires them: each function's module from its `Handler`, its environment
from its `Environment.Variables` (Refs resolved through the stack's outputs), the receiver as the
API's integration (called synchronously), and the asynchronous functions with their
EventInvokeConfig (retries, on-success function, on-failure queue) through `tapstack.local.local_lambda`.
Every AWS call goes to the emulator through clients made once and handed to the handlers.

PayPal signs with a certificate fetched from PayPal's API host, which must chain to the pinned
DigiCert root and name PayPal's signing host. Locally a small PKI is made in memory (`LocalPaypal`:
a root, an intermediate and a leaf for `messageverificationcerts.paypal.com`), events are signed
with the leaf's key and name `LOCAL_PAYPAL_CERT_URL` (a live PayPal certificate URL, so the
receiver's URL, chain and name checks run unchanged), and the receiver is given a fetcher that
answers that one URL with the leaf and intermediate, and the local root as its trust anchor.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from boto3.dynamodb.types import TypeDeserializer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from handlers.core.secrets import VerificationMaterial
from handlers.providers import hmac_signed, paypal, stripe
from tapstack.local.emulator import ensure_fill_ins, events_queue_name
from tapstack.local.local_lambda import AsyncFunction, FakeContext, LocalLambda, Outcome
from tapstack.operate.cloud import Clients, deployed_template, stack_name
from tapstack.operate.deploy import object_exists

LOCAL_PAYPAL_CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-tapstack-local"
WEBHOOK_RESOURCE = "/webhooks/{provider}"
TRANSACTIONS_RESOURCE = "/transactions"
INTERNAL_PROVIDER = "internal"
SOURCE_IP = "203.0.113.10"  # TEST-NET-3: documentation addresses


# ------------------------------------------------------------------------------------------ signing


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None,
    start: datetime,
    days: int,
    host: str | None = None,
) -> x509.Certificate:
    """A CA certificate (`host` None) or a TLS-style leaf for `host`, with RFC 5280's extensions."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signing_key = (name, key) if issuer is None else (issuer[0].subject, issuer[1])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=host is None, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=host is not None,
                content_commitment=False,
                key_encipherment=host is not None,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=host is None,
                crl_sign=host is None,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if host is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


class LocalPaypal:
    """A stand-in for PayPal's signing PKI, made in memory once per process: root, intermediate, leaf.

    The options make the forgeries the receiver must refuse: a leaf for another `host`, a
    `self_signed` leaf, a chain whose intermediate has its own validity window.
    """

    def __init__(
        self,
        url: str = LOCAL_PAYPAL_CERT_URL,
        valid_days: int = 30,
        valid_from_days: int = -1,
        *,
        host: str = paypal.SIGNING_HOSTS["live"],
        self_signed: bool = False,
        intermediate_days: tuple[int, int] = (-365, 3650),
    ) -> None:
        self.url = url
        now = datetime.now(UTC)
        root_key, intermediate_key, self._key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)
        )
        root = _certificate("TapStack Local Root", root_key, None, now - timedelta(days=365), 3650)
        intermediate = _certificate(
            "TapStack Local Intermediate",
            intermediate_key,
            (root, root_key),
            now + timedelta(days=intermediate_days[0]),
            intermediate_days[1],
        )
        start = now + timedelta(days=valid_from_days)
        if self_signed:
            leaf = _certificate(host, self._key, None, start, valid_days, host)
            chain = [leaf]
        else:
            leaf = _certificate(host, self._key, (intermediate, intermediate_key), start, valid_days, host)
            chain = [leaf, intermediate]
        self.pem = b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in chain)
        self.trust = paypal.TrustAnchors(roots=root.public_bytes(serialization.Encoding.PEM))

    def fetch(self, url: str) -> bytes:
        """The receiver's certificate fetcher: only the local certificate's URL answers."""
        if url != self.url:
            raise LookupError(f"no local certificate at {url}")
        return self.pem

    def headers(self, body: bytes, webhook_id: str, now: int) -> dict[str, str]:
        transmission_id = str(uuid.uuid4())
        moment = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = paypal.signed_message(transmission_id, moment, webhook_id, body)
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": moment,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode("ascii"),
            "PAYPAL-CERT-URL": self.url,
            "PAYPAL-AUTH-ALGO": paypal.ALGORITHM,
        }


@dataclass(frozen=True)
class Signer:
    """Signs bodies as each provider does, with the material in the stack's webhook secret."""

    material: VerificationMaterial
    paypal: LocalPaypal

    @classmethod
    def from_secret(cls, secretsmanager: Any, secret_arn: str, local_paypal: LocalPaypal) -> Signer:
        text = secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"]
        return cls(VerificationMaterial.from_secret_string(text), local_paypal)

    def headers(self, provider: str, body: bytes, now: int) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if provider == "stripe":
            return headers | {
                "Stripe-Signature": stripe.sign(body, self.material.stripe_signing_secrets[0], now)
            }
        if provider == "paypal":
            return headers | self.paypal.headers(body, self.material.paypal_webhook_id, now)
        return headers | hmac_signed.sign(body, self.material.internal_hmac_keys[0], now)


@dataclass(frozen=True)
class ApiIdentity:
    """What API Gateway knows about the deployed API: its id, stage and the internal clients' key."""

    api_id: str
    stage: str
    api_key_id: str


def api_gateway_event(
    provider: str, body: bytes, headers: dict[str, str], api: ApiIdentity
) -> dict[str, Any]:
    """The REST proxy integration event (payload 1.0) API Gateway sends the receiver for this request."""
    internal = provider == INTERNAL_PROVIDER
    resource = TRANSACTIONS_RESOURCE if internal else WEBHOOK_RESOURCE
    path = TRANSACTIONS_RESOURCE if internal else f"/webhooks/{provider}"
    domain = f"{api.api_id}.execute-api.us-east-1.amazonaws.com"
    request_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    sent = {
        **headers,
        "Host": domain,
        "User-Agent": f"tapstack-send/{provider}",
        "X-Amzn-Trace-Id": f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}",
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "POST",
        "headers": sent,
        "multiValueHeaders": {name: [value] for name, value in sent.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None if internal else {"provider": provider},
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid4().hex[:6],
            "resourcePath": resource,
            "httpMethod": "POST",
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes).decode()[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{api.stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": api.stage,
            "domainPrefix": api.api_id,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": SOURCE_IP,
                "userAgent": sent["User-Agent"],
                "apiKey": None,
                "apiKeyId": api.api_key_id if internal else None,
            },
            "domainName": domain,
            "apiId": api.api_id,
        },
        "body": body.decode("utf-8"),
        "isBase64Encoded": False,
    }


# ------------------------------------------------------------------------------------------ runtime


def _resolve(value: Any, refs: dict[str, str]) -> str:
    """A literal, or the Ref (or GetAtt target's Ref) of a resource some output exposes."""
    if isinstance(value, str):
        return value
    logical_id = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
    if logical_id not in refs:
        raise LookupError(f"no stack output gives the Ref of {logical_id}")
    return refs[logical_id]


def _logical_target(value: Any) -> str:
    return str(value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0])


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed function as the template defines it."""

    logical_id: str
    name: str
    module: ModuleType
    timeout_seconds: int
    environment: dict[str, str]


class ThreadLocalLambda:
    """The receiver's Lambda client: each thread's invokes go to the LocalLambda bound to that thread."""

    def __init__(self) -> None:
        self._bound = threading.local()

    @contextmanager
    def bound(self, local_lambda: LocalLambda) -> Iterator[None]:
        self._bound.value = local_lambda
        try:
            yield
        finally:
            del self._bound.value

    def invoke(self, **request: Any) -> dict[str, Any]:
        return dict(self._bound.value.invoke(**request))


@dataclass
class Delivery:
    """What one HTTP request did: the receiver's response and every asynchronous invocation after it."""

    response: dict[str, Any]
    outcomes: list[Outcome]

    @property
    def status(self) -> int:
        return int(self.response["statusCode"])

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.response["body"]))


@dataclass
class LocalRuntime:
    """The deployed stack's functions, running in this process against the emulator's services."""

    clients: Clients
    environment: str
    template: dict[str, Any]
    outputs: dict[str, str]
    local_paypal: LocalPaypal = field(default_factory=LocalPaypal)
    router: ThreadLocalLambda = field(default_factory=ThreadLocalLambda)

    @classmethod
    def for_deployed_stack(cls, clients: Clients, environment: str) -> LocalRuntime:
        """The stack as deployed in the emulator: its template, and its outputs with the fill-ins."""
        template = deployed_template(clients("cloudformation"), stack_name(environment))
        return cls(clients, environment, template, ensure_fill_ins(clients, environment, template))

    def __post_init__(self) -> None:
        resources = self.template["Resources"]
        self._refs = {
            _logical_target(output["Value"]): self.outputs[key]
            for key, output in self.template["Outputs"].items()
            if isinstance(output["Value"], dict) and "Ref" in output["Value"] and key in self.outputs
        }
        self.functions = {
            logical_id: self._spec(logical_id, resource["Properties"])
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::Function"
        }
        api_targets = [
            _logical_target(r["Properties"]["FunctionName"])
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Permission"
            and r["Properties"]["Principal"] == "apigateway.amazonaws.com"
        ]
        (self.api_function,) = (self.functions[logical_id] for logical_id in api_targets)
        self.async_functions = [
            self._async_function(r["Properties"])
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        ]
        self._dependencies = {
            spec.logical_id: self._dependencies_of(spec) for spec in self.functions.values()
        }

    def _spec(self, logical_id: str, properties: dict[str, Any]) -> FunctionSpec:
        module_name, _, _ = properties["Handler"].rpartition(".")
        variables = properties.get("Environment", {}).get("Variables", {})
        environment = {name: _resolve(value, self._refs) for name, value in variables.items()}
        with mock.patch.dict(os.environ, environment):  # Powertools reads its settings on import
            module = importlib.import_module(module_name)
        return FunctionSpec(
            logical_id,
            _resolve({"Ref": logical_id}, self._refs),
            module,
            int(properties.get("Timeout", 3)),
            environment,
        )

    @contextmanager
    def activated(self) -> Iterator[None]:
        """Set, process-wide while it lasts, the variables the functions agree on (Powertools reads
        some on every call, e.g. the metrics namespace); the ones that differ (the service name)
        were read when each module was imported under its own function's environment."""
        values: dict[str, set[str]] = {}
        for spec in self.functions.values():
            for name, value in spec.environment.items():
                values.setdefault(name, set()).add(value)
        shared = {name: next(iter(found)) for name, found in values.items() if len(found) == 1}
        with mock.patch.dict(os.environ, shared):
            yield

    def _async_function(self, properties: dict[str, Any]) -> AsyncFunction:
        spec = self.functions[_logical_target(properties["FunctionName"])]
        destinations = properties.get("DestinationConfig", {})
        on_success = destinations.get("OnSuccess", {}).get("Destination")
        on_failure = destinations.get("OnFailure", {}).get("Destination")
        return AsyncFunction(
            name=spec.name,
            handler=spec.module.handler,
            dead_letter_queue_url=None if on_failure is None else _resolve(on_failure, self._refs),
            on_success=None if on_success is None else _resolve(on_success, self._refs),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", 2)),
            timeout_seconds=spec.timeout_seconds,
        )

    def _dependencies_of(self, spec: FunctionSpec) -> Any:
        """The handler's own `Dependencies.from_environment()`, read from the template's environment,
        with this process's clients (and, for the receiver, the local PayPal certificate)."""
        with mock.patch.dict(os.environ, spec.environment):
            dependencies = spec.module.Dependencies.from_environment()
        given = {service: self.clients(service) for service in ("dynamodb", "s3", "sns", "secretsmanager")}
        given["lambda"] = self.router
        changes: dict[str, Any] = {"clients": type(dependencies.clients)(given=given)}
        if any(item.name == "fetch_certificate" for item in dataclasses.fields(dependencies)):
            changes["fetch_certificate"] = self.local_paypal.fetch
            changes["paypal_trust"] = self.local_paypal.trust
        return dataclasses.replace(dependencies, **changes)

    def install(self) -> None:
        """Make each handler module use this stack (the modules hold one set of dependencies each)."""
        for spec in self.functions.values():
            spec.module.DEPENDENCIES.set(self._dependencies[spec.logical_id])

    def async_lambda(self) -> LocalLambda:
        """A Lambda client for asynchronous invokes of this stack's functions (used by replay)."""
        self.install()
        return LocalLambda(self.async_functions, self.clients("sqs"))

    def deliver(self, event: dict[str, Any]) -> Delivery:
        """API Gateway's synchronous call of the receiver, then whatever it queued, as Lambda runs it."""
        local_lambda = self.async_lambda()
        context = FakeContext(self.api_function.name, timeout_seconds=self.api_function.timeout_seconds)
        with self.router.bound(local_lambda):
            response = self.api_function.module.handler(event, context)
        return Delivery(response, local_lambda.outcomes)

    def api_identity(self) -> ApiIdentity:
        stage = next(r for r in self.template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")
        return ApiIdentity(self.outputs["ApiId"], stage["Properties"]["StageName"], self.outputs["ApiKeyId"])

    def signer(self) -> Signer:
        return Signer.from_secret(
            self.clients("secretsmanager"), self.outputs["WebhookSecretArn"], self.local_paypal
        )


# --------------------------------------------------------------------------------------------- send

_deserializer = TypeDeserializer()


def stored_item(dynamodb: Any, table: str, transaction_id: str) -> dict[str, str] | None:
    """The item as stored; numbers as their exact decimal text."""
    found = dynamodb.get_item(
        TableName=table, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
    )
    item = found.get("Item")
    return (
        None if item is None else {key: str(_deserializer.deserialize(value)) for key, value in item.items()}
    )


def drain_published(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message on the SNS-subscribed queue (raw delivery), deleted as read."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            attributes = message.get("MessageAttributes", {})
            messages.append(
                {
                    "message": json.loads(message["Body"]),
                    "attributes": {name: value["StringValue"] for name, value in attributes.items()},
                }
            )
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def provider_of(event_path: Path) -> str:
    """`events/<provider>/<name>.json`."""
    return event_path.parent.name


def send_event(runtime: LocalRuntime, event_path: Path, provider: str | None = None) -> dict[str, Any]:
    """Deliver one sample event and report every step as one JSON-ready document (`ok` says if all passed)."""
    provider = provider or provider_of(event_path)
    body = event_path.read_bytes()
    event = api_gateway_event(
        provider, body, runtime.signer().headers(provider, body, int(time.time())), runtime.api_identity()
    )
    delivery = runtime.deliver(event)
    failures: list[str] = []
    document: dict[str, Any] = {
        "event": str(event_path),
        "provider": provider,
        "request_id": event["requestContext"]["requestId"],
        "response": {"statusCode": delivery.status, "body": delivery.body},
        "invocations": [
            {
                "function": o.function,
                "attempts": o.attempts,
                "error": None if o.error is None else repr(o.error),
            }
            for o in delivery.outcomes
        ],
    }
    if delivery.status != 202:
        failures.append(f"the receiver answered {delivery.status}")
    failures += [
        f"{o.function} failed after {o.attempts} attempts: {o.error!r}" for o in delivery.outcomes if o.error
    ]
    transaction_id = delivery.body.get("transaction_id")
    item = None
    if isinstance(transaction_id, str):
        item = stored_item(
            runtime.clients("dynamodb"), runtime.outputs["TransactionsTableName"], transaction_id
        )
        if item is None:
            failures.append(f"{transaction_id} is not in the table")
    document["item"] = item
    audit_key = None if item is None else item.get("audit_object_key")
    document["audit_object_key"] = audit_key
    if audit_key is not None and not object_exists(
        runtime.clients("s3"), runtime.outputs["AuditBucketName"], audit_key
    ):
        failures.append(f"the audit object {audit_key} is missing")
    queue_url = runtime.clients("sqs").get_queue_url(QueueName=events_queue_name(runtime.environment))[
        "QueueUrl"
    ]
    published = drain_published(runtime.clients("sqs"), queue_url)
    document["published"] = [m for m in published if m["message"].get("transaction_id") == transaction_id]
    document["failures"] = failures
    document["ok"] = not failures
    return document
