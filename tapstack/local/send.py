"""`make send`: sign a sample event, deliver it as API Gateway would, and run the deployed stack's code.

moto cannot run Lambda code, so the functions run in this process (`LocalRuntime`), wired
as the deployed template wires them: each function's module from its `Handler`, its environment
from its `Environment.Variables` (Refs resolved through the stack's outputs), the receiver as the
API's integration (called synchronously), the reconciler as its schedule invokes it (`run_schedule`),
and the asynchronous functions with their
EventInvokeConfig (retries, on-success function, on-failure queue) and any DeadLetterConfig through
`tapstack.local.local_lambda`.
Every AWS call goes to the emulator through clients made once and handed to the handlers, each
function its own, as on AWS.
Requests are signed and wrapped by `tapstack.local.delivery`; PayPal's signatures verify against the
local PKI of `tapstack.local.paypal_pki`, whose fetcher and trust anchor the receiver is given.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from handlers.aws import AwsClients, DynamoTransactions
from tapstack.cfn.model import Resolver, Template, logical_id_of
from tapstack.local.delivery import ApiIdentity, Sender, Signer
from tapstack.local.emulator import ensure_fill_ins, events_queue_name
from tapstack.local.faults import (
    CRASH_FAULTS,
    FAULTS,
    OPERATION_FAULTS,
    UNREACHABLE,
    crashing,
    fail_operation,
)
from tapstack.local.local_lambda import AsyncFunction, FakeContext, LocalLambda, Outcome
from tapstack.local.paypal_pki import LocalPaypal
from tapstack.local.provider_apis import STATE_DIRECTORY
from tapstack.local.provider_apis.stand_ins import record_creation
from tapstack.operate.artifacts import object_exists
from tapstack.operate.cloud import Clients, deployed_template
from tapstack.operate.deployment import Deployment
from tapstack.operate.replay import TARGETS
from templates.contract import (
    API_ID,
    API_KEY_ID,
    AUDIT_BUCKET_NAME,
    RECONCILED_PROVIDERS,
    RECONCILER,
    TRANSACTIONS_TABLE_NAME,
    WEBHOOK_SECRET_ARN,
)
from templates.naming import SUFFIX_PLACEHOLDER, names_of

# ------------------------------------------------------------------------------------------ runtime

RECONCILER_MODULE = f"handlers.{RECONCILER}"


def _local_resolver(template: dict[str, Any], outputs: dict[str, str], environment: str) -> Resolver:
    """A resource resolves to the Ref a stack output gives of it, and `Fn::GetAtt X.Arn` to that Ref
    too: the local Lambda and SQS stand-ins address functions and queues by name and URL, not ARN.
    Conditions hold as for the parameters' defaults (the notifier's FIFO topic is opt-in); the stack's
    name is its own (the reconciler's metrics namespace names it)."""
    model = Template(template)
    refs = model.physical_ids_from_outputs(outputs)
    arns = {logical_id: {"Arn": ref} for logical_id, ref in refs.items()}
    stack = names_of(template).stack.pattern.replace(SUFFIX_PLACEHOLDER, environment)
    return model.resolver({"AWS::StackName": stack}, physical_ids=refs, attributes=arns)


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed function as the template defines it."""

    logical_id: str
    name: str
    module: ModuleType
    timeout_seconds: int
    environment: dict[str, str]


class ThreadLocalLambda:
    """The receiver's Lambda client: each thread's invokes go to the LocalLambda bound to that thread
    (the innermost binding, when one is made inside another)."""

    def __init__(self) -> None:
        self._bound = threading.local()

    @contextmanager
    def bound(self, local_lambda: LocalLambda) -> Iterator[None]:
        outer = getattr(self._bound, "value", None)
        self._bound.value = local_lambda
        try:
            yield
        finally:
            self._bound.value = outer

    def invoke(self, **request: Any) -> dict[str, Any]:
        return dict(self._bound.value.invoke(**request))


class FunctionClients(AwsClients):
    """One function's own clients, as each deployed function has (a fault injected into one function's
    client fails that function only), each made on first use from the emulator's session: the handlers'
    AwsClients would make them from the default session, which has no emulator credentials."""

    def __init__(self, emulator: Clients, lambda_client: Any) -> None:
        super().__init__()
        self._own = Clients(emulator.session, emulator.endpoint_url, given={"lambda": lambda_client})

    def __call__(self, service: str) -> Any:
        return self._own(service)


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
        """The receiver's JSON answer; a provider's own acknowledgement (Adyen's `[accepted]`) as
        `{"acknowledgement": <text>}`."""
        try:
            return dict(json.loads(self.response["body"]))
        except (ValueError, TypeError):
            return {"acknowledgement": self.response["body"]}

    @property
    def transaction_ids(self) -> list[str]:
        """The transactions the delivery was accepted as: one per event (a batch has several), from the
        answer, or for an acknowledgement that names none, from what the processor stored."""
        body = self.body
        if "acknowledgement" not in body:
            events = body.get("events", [body])
            return [
                event["transaction_id"] for event in events if isinstance(event.get("transaction_id"), str)
            ]
        return [
            outcome.response["transaction"]["transaction_id"]
            for outcome in self.outcomes
            if isinstance(outcome.response, dict) and isinstance(outcome.response.get("transaction"), dict)
        ]


@dataclass
class LocalRuntime:
    """The deployed stack's functions, running in this process against the emulator's services."""

    clients: Clients
    environment: str
    template: dict[str, Any]
    outputs: dict[str, str]
    local_paypal: LocalPaypal = field(default_factory=LocalPaypal)
    router: ThreadLocalLambda = field(default_factory=ThreadLocalLambda)
    provider_log_directory: Path = STATE_DIRECTORY
    """Where the local providers log the events they create (tapstack.local.provider_apis)."""

    @classmethod
    def for_deployed_stack(cls, clients: Clients, stack: str, environment: str) -> LocalRuntime:
        """The stack as deployed in the emulator: its template, and its outputs with the fill-ins."""
        template = deployed_template(clients("cloudformation"), stack)
        return cls(clients, environment, template, ensure_fill_ins(clients, environment, template))

    def __post_init__(self) -> None:
        resources = self.template["Resources"]
        self._resolver = _local_resolver(self.template, self.outputs, self.environment)
        self.functions = {
            logical_id: self._spec(logical_id, resource["Properties"])
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::Function"
        }
        api_targets = [
            logical_id_of(r["Properties"]["FunctionName"])
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
        self._clients = {
            logical_id: FunctionClients(self.clients, self.router) for logical_id in self.functions
        }
        self._dependencies = {
            spec.logical_id: self._dependencies_of(spec) for spec in self.functions.values()
        }

    def _spec(self, logical_id: str, properties: dict[str, Any]) -> FunctionSpec:
        module_name, _, _ = properties["Handler"].rpartition(".")
        variables = properties.get("Environment", {}).get("Variables", {})
        environment = {name: self._resolver.resolve(value) for name, value in variables.items()}
        with mock.patch.dict(os.environ, environment):  # Powertools reads its settings on import
            module = importlib.import_module(module_name)
        return FunctionSpec(
            logical_id,
            self._resolver.resolve({"Ref": logical_id}),
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
        spec = self.functions[logical_id_of(properties["FunctionName"])]
        destinations = properties.get("DestinationConfig", {})
        on_success = destinations.get("OnSuccess", {}).get("Destination")
        on_failure = destinations.get("OnFailure", {}).get("Destination")
        function = self.template["Resources"][spec.logical_id]["Properties"]
        dead_letter = function.get("DeadLetterConfig", {}).get("TargetArn")
        return AsyncFunction(
            name=spec.name,
            handler=spec.module.handler,
            on_failure_queue_url=None if on_failure is None else self._resolver.resolve(on_failure),
            on_success=None if on_success is None else self._resolver.resolve(on_success),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", 2)),
            timeout_seconds=spec.timeout_seconds,
            dead_letter_queue_url=None if dead_letter is None else self._resolver.resolve(dead_letter),
        )

    def clients_of(self, function_name: str) -> AwsClients:
        """The clients the function deployed as `function_name` makes its AWS calls with."""
        (logical_id,) = (spec.logical_id for spec in self.functions.values() if spec.name == function_name)
        return self._clients[logical_id]

    def _dependencies_of(self, spec: FunctionSpec) -> Any:
        """The handler's own `Dependencies.from_environment()`, read from the template's environment,
        with the function's clients (and, for the receiver, the local PayPal certificate)."""
        with mock.patch.dict(os.environ, spec.environment):
            dependencies = spec.module.Dependencies.from_environment()
        changes: dict[str, Any] = {"clients": self._clients[spec.logical_id]}
        if any(item.name == "fetch_certificate" for item in dataclasses.fields(dependencies)):
            changes["fetch_certificate"] = self.local_paypal.fetch
            changes["paypal_trust"] = self.local_paypal.trust
        return dataclasses.replace(dependencies, **changes)

    def install(self) -> None:
        """Make each handler module use this stack (the modules hold one set of dependencies each)."""
        for spec in self.functions.values():
            spec.module.DEPENDENCIES.set(self._dependencies[spec.logical_id])

    def inject_fault(self, fault: str) -> None:
        """Make `fault` (one of tapstack.local.faults.FAULTS) happen in every delivery this runtime runs."""
        if fault in OPERATION_FAULTS:
            service, operation = OPERATION_FAULTS[fault]
            for clients in self._clients.values():
                fail_operation(clients(service), operation)
            return
        if fault not in CRASH_FAULTS:
            raise ValueError(f"unknown fault {fault!r}: one of {', '.join(FAULTS)}")
        crashed = [function for function in self.async_functions if f"-{fault}-" in f"{function.name}-"]
        if len(crashed) != 1:
            raise LookupError(f"the stack has no single {fault} function to crash")
        self.async_functions = [
            dataclasses.replace(function, handler=crashing(function.name))
            if function in crashed
            else function
            for function in self.async_functions
        ]

    def async_lambda(self, *, deferred: bool = False) -> LocalLambda:
        """A Lambda client for asynchronous invokes of this stack's functions (used by replay);
        `deferred`: invokes wait for its `run_pending()` (see tapstack.local.local_lambda)."""
        self.install()
        return LocalLambda(self.async_functions, self.clients("sqs"), deferred=deferred)

    def call_api_function(self, event: dict[str, Any], local_lambda: LocalLambda) -> dict[str, Any]:
        """API Gateway's synchronous call of the receiver (with the dependencies installed), its
        asynchronous invokes going to `local_lambda`; the receiver's response."""
        context = FakeContext(self.api_function.name, timeout_seconds=self.api_function.timeout_seconds)
        with self.router.bound(local_lambda):
            return dict(self.api_function.module.handler(event, context))

    def deliver(self, event: dict[str, Any]) -> Delivery:
        """API Gateway's synchronous call of the receiver, then whatever it queued, as Lambda runs it."""
        local_lambda = self.async_lambda()
        return Delivery(self.call_api_function(event, local_lambda), local_lambda.outcomes)

    def run_schedule(self, api_base: str) -> list[Outcome]:
        """EventBridge Scheduler's asynchronous invoke of the reconciler, its provider calls going to the
        local providers' APIs at `api_base`, then every invocation it caused (the processor, the notifier),
        as Lambda runs them. The cursor is kept in the stack's reconciliation table, as on AWS."""
        local_lambda = self.async_lambda()
        (spec,) = (spec for spec in self.functions.values() if spec.module.__name__ == RECONCILER_MODULE)
        dependencies = self._dependencies[spec.logical_id]
        bases = dict.fromkeys(RECONCILED_PROVIDERS, api_base)
        spec.module.DEPENDENCIES.set(dataclasses.replace(dependencies, api_bases=bases))
        # Scheduler sends the schedule's Input: none is set, so an empty object.
        with self.router.bound(local_lambda):
            local_lambda.invoke(FunctionName=spec.name, InvocationType="Event", Payload=b"{}")
        return local_lambda.outcomes

    def sender(self) -> Sender:
        """A client of this stack's API, signing with the material in the stack's webhook secret."""
        stage = next(r for r in self.template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")
        api = ApiIdentity(self.outputs[API_ID], stage["Properties"]["StageName"], self.outputs[API_KEY_ID])
        signer = Signer.from_secret(
            self.clients("secretsmanager"), self.outputs[WEBHOOK_SECRET_ARN], self.local_paypal
        )
        return Sender(signer, api)

    def drain_published(self) -> list[dict[str, Any]]:
        """Every message published to the stack's events topic since the last drain."""
        sqs = self.clients("sqs")
        queue_name = events_queue_name(names_of(self.template), self.environment)
        return drain_published(sqs, sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])


# --------------------------------------------------------------------------------------------- send


def stored_item(dynamodb: Any, table: str, transaction_id: str) -> dict[str, str] | None:
    """The item as stored; numbers as their exact decimal text."""
    item = DynamoTransactions(dynamodb, table).get(transaction_id)
    return None if item is None else {key: str(value) for key, value in item.items()}


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


def _dead_letters(runtime: LocalRuntime) -> dict[str, int]:
    """Messages waiting in each function's dead-letter queue."""
    sqs = runtime.clients("sqs")
    counts = {}
    for function, (queue_key, _) in TARGETS.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=runtime.outputs[queue_key], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        counts[function] = int(attributes["ApproximateNumberOfMessages"])
    return counts


def send_event(
    runtime: LocalRuntime, event_path: Path, provider: str | None = None, fault: str | None = None
) -> dict[str, Any]:
    """Deliver one sample event and report every step as one JSON-ready document (`ok` says if all passed).

    With a fault injected (tapstack.local.faults), `ok` says whether the event waits in a dead-letter
    queue for replay, as it would on AWS: nothing may be lost.
    """
    provider = provider or provider_of(event_path)
    body = event_path.read_bytes()
    if fault == UNREACHABLE:
        return _unreachable(runtime, event_path, provider, body)
    waiting_before: dict[str, int] = {}
    if fault is not None:
        runtime.inject_fault(fault)
        waiting_before = _dead_letters(runtime)
    # A sample's file name is its event type (events/shopify/orders.paid.json): the header of those
    # providers that name the type in one.
    event = runtime.sender().event(provider, body, event_type=event_path.name.removesuffix(".json"))
    delivery = runtime.deliver(event)
    record_creation(provider, body, delivery.status == 202, runtime.provider_log_directory)
    failures: list[str] = []
    document: dict[str, Any] = {
        "event": str(event_path),
        "provider": provider,
        "request_id": event["requestContext"]["requestId"],
        "response": {"statusCode": delivery.status, "body": delivery.body},
        "duplicate": any(
            isinstance(o.response, dict) and o.response.get("duplicate") is True for o in delivery.outcomes
        ),
        "invocations": [
            {
                "function": o.function,
                "attempts": o.attempts,
                "error": None if o.error is None else repr(o.error),
            }
            for o in delivery.outcomes
        ],
    }
    if not 200 <= delivery.status < 300:
        failures.append(f"the receiver answered {delivery.status}")
    if fault is not None:
        waiting = _dead_letters(runtime)
        dead_lettered = {function: waiting[function] - waiting_before[function] for function in waiting}
        document["fault"] = fault
        document["dead_lettered"] = {function: n for function, n in dead_lettered.items() if n}
        if not any(dead_lettered.values()):
            failures.append(f"the injected {fault} fault left nothing in a dead-letter queue")
        else:
            document["next"] = "make replay-local APPLY=1 (replays the dead letters without the fault)"
    else:
        failures += [
            f"{o.function} failed after {o.attempts} attempts: {o.error!r}"
            for o in delivery.outcomes
            if o.error
        ]
    # One transaction per event: a batch (GoCardless, Adyen) is stored, archived and published per event.
    transaction_ids = delivery.transaction_ids
    items = []
    for transaction_id in transaction_ids:
        item = stored_item(
            runtime.clients("dynamodb"), runtime.outputs[TRANSACTIONS_TABLE_NAME], transaction_id
        )
        if item is None and fault is None:
            failures.append(f"{transaction_id} is not in the table")
        audit_key = None if item is None else item.get("audit_object_key")
        if audit_key is not None and not object_exists(
            runtime.clients("s3"), runtime.outputs[AUDIT_BUCKET_NAME], audit_key
        ):
            failures.append(f"the audit object {audit_key} is missing")
        items.append(item)
    document["transaction_ids"] = transaction_ids
    document["items"] = items
    document["item"] = items[0] if items else None
    document["audit_object_key"] = (
        None if document["item"] is None else document["item"].get("audit_object_key")
    )
    published = runtime.drain_published()
    document["published"] = [m for m in published if m["message"].get("transaction_id") in transaction_ids]
    document["failures"] = failures
    document["ok"] = not failures
    return document


def _unreachable(runtime: LocalRuntime, event_path: Path, provider: str, body: bytes) -> dict[str, Any]:
    """The provider creates and logs the event; its delivery never reaches the stack."""
    logged = record_creation(provider, body, False, runtime.provider_log_directory)
    document: dict[str, Any] = {
        "event": str(event_path),
        "provider": provider,
        "fault": UNREACHABLE,
        "delivered": False,
        "logged": logged,
        "failures": [] if logged else [f"{provider} keeps no event log: nothing could recover this event"],
    }
    if logged:
        document["next"] = f"make reconcile-local PROVIDER={provider} APPLY=1 (recovers it from its log)"
    document["ok"] = logged
    return document


def send_to_deployment(
    deployment: Deployment, event_path: Path, provider: str | None, fault: str | None = None
) -> dict[str, Any]:
    """Deliver a signed sample event to the deployed local stack, with an injected fault if asked;
    what happened, as a JSON-ready document."""
    runtime = LocalRuntime.for_deployed_stack(deployment.clients, deployment.stack, deployment.environment)
    with runtime.activated():
        return send_event(runtime, event_path, provider, fault)
