"""What one delivery makes each function do, measured on the local stack: the inputs of `tapstack cost`
that the template cannot give.

The real handlers run in this process against the emulator (`LocalRuntime`), one delivery at a time and
one function at a time (the asynchronous invokes are deferred, then run in turn), so each function's
share is its own:

* its wall time per invocation (the median), which stands in for Lambda's billed duration;
* the bytes it writes to its log (Powertools' JSON lines and the metrics it emits, both CloudWatch Logs
  ingestion on AWS), per delivery;
* the AWS requests it makes, by service and operation, and what DynamoDB bills for them: write and read
  request units from the size of the item each request writes or reads (DynamoDB's sizing rules), and
  the bytes of each S3 object and SNS message.

Also the API's access-log line for the delivery: the stage's `AccessLogSetting.Format` rendered with the
request's own values. Then the scheduled function (the reconciler) in its steady state: runs whose window
holds the measured deliveries' events, all stored, so that each finds nothing missing; its duration, log
bytes, requests and DynamoDB units per run, and the metrics it emits. The figures are local measurements:
durations are this machine's over loopback, not Lambda's; the counts and sizes are what the same code
does on AWS.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from handlers.core.secrets import ApiCredentials
from tapstack import paths
from tapstack.cfn.model import Template, walk
from tapstack.local.delivery import Sender
from tapstack.local.local_lambda import AsyncFunction, FakeContext
from tapstack.local.provider_apis import EventLog
from tapstack.local.provider_apis.stand_ins import LOGGING_PROVIDERS, provider_api_server
from tapstack.local.send import LocalRuntime
from tapstack.operate.actions import deploy_environment, destroy_environment
from tapstack.operate.deployment import Deployment
from templates.contract import WEBHOOK_SECRET_ARN

MEASURED_EVENTS = (
    ("stripe", "stripe/payment_intent.succeeded.json"),
    ("generic", "generic/payment.succeeded.json"),
    ("internal", "internal/transaction.created.json"),
    ("paypal", "paypal/PAYMENT.CAPTURE.COMPLETED.json"),
)
"""The sample deliveries measured, one of each provider's shape; each is sent as a new event each time."""

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
DYNAMODB_READS = frozenset({"GetItem"})
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
MESSAGE_CHUNK_BYTES = 64 * 1024
"""SNS bills each 64 KB chunk of a published message as one request."""


# ------------------------------------------------------------------------------- DynamoDB item size


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


_SCALAR_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda item: len(str(item).encode()),
    "N": lambda item: _number_size(str(item)),
    "B": lambda item: len(item) if isinstance(item, bytes | bytearray) else len(str(item)),
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
}


def attribute_value_size(value: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (its low-level form, `{"S": "..."}`), by the rules of
    its developer guide: a string its UTF-8 bytes, a number about one byte per two significant digits
    plus one, binary its bytes, a boolean or null one byte, a list or map 3 bytes plus one per element
    plus the elements, a set its elements."""
    ((kind, item),) = value.items()
    if kind in _SCALAR_SIZES:
        return _SCALAR_SIZES[kind](item)
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(element) for element in item)
    if kind == "M":
        return 3 + sum(
            1 + len(name.encode()) + attribute_value_size(element) for name, element in item.items()
        )
    if kind in ("SS", "NS", "BS"):
        return sum(_SCALAR_SIZES[kind[0]](element) for element in item)
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value."""
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


# ------------------------------------------------------------------------------------ the measuring


@dataclass
class FunctionShare:
    """What one function did across the measured deliveries."""

    invocations: int = 0
    seconds: list[float] = field(default_factory=list)
    log_bytes: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    dynamodb_write_units: int = 0
    dynamodb_write_units_by_table: Counter[str] = field(default_factory=Counter)
    dynamodb_read_units: Decimal = Decimal(0)
    s3_put_bytes: int = 0
    sns_publish_chunks: int = 0


@dataclass
class _Meter:
    """Counts the AWS requests of the function running now (none outside a function)."""

    shares: dict[str, FunctionShare] = field(default_factory=dict)
    running: str | None = None
    metrics: set[str] = field(default_factory=set)
    dynamodb_calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    stored_bytes: int = 0
    delivered: list[tuple[str, bytes]] = field(default_factory=list)
    """Each delivery's provider and body, in order."""

    def before_request(self, params: dict[str, Any], event_name: str, **_: Any) -> None:
        if self.running is None:
            return
        _event, service, operation = event_name.split(".")
        share = self.shares[self.running]
        share.requests[f"{service}.{operation}"] += 1
        if service == "dynamodb" and operation in DYNAMODB_WRITES | DYNAMODB_READS:
            self.dynamodb_calls.append((self.running, operation, json.loads(json.dumps(params, default=str))))
        elif service == "dynamodb" and operation == "BatchGetItem":
            # Billed as a read of each item asked for, whatever it projects.
            for table, asked in params["RequestItems"].items():
                consistent = asked.get("ConsistentRead", False)
                self.dynamodb_calls += [
                    (self.running, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": consistent})
                    for key in json.loads(json.dumps(asked["Keys"], default=str))
                ]
        elif service == "s3" and operation == "PutObject":
            body = params.get("Body", b"")
            share.s3_put_bytes += len(body.encode() if isinstance(body, str) else body)
        elif service == "sns" and operation == "Publish":
            size = len(str(params.get("Message", "")).encode())
            share.sns_publish_chunks += max(1, math.ceil(size / MESSAGE_CHUNK_BYTES))


@contextlib.contextmanager
def _captured_output() -> Iterator[io.StringIO]:
    """Everything written to standard output while it lasts, including by the logging handlers bound to
    it (Powertools' loggers keep the stream they were made with; its metrics print)."""
    buffer = io.StringIO()
    streams = (sys.stdout, sys.__stdout__)
    handlers = [
        handler
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler) and handler.stream in streams
    ]
    previous = [handler.setStream(buffer) for handler in handlers]
    try:
        with contextlib.redirect_stdout(buffer):
            yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def _metered(meter: _Meter, logical_id: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def run(event: Any, context: Any) -> Any:
        share = meter.shares.setdefault(logical_id, FunctionShare())
        meter.running = logical_id
        started = time.perf_counter()
        try:
            with _captured_output() as output:
                return handler(event, context)
        finally:
            share.seconds.append(time.perf_counter() - started)
            share.invocations += 1
            share.log_bytes += len(output.getvalue().encode())
            meter.metrics |= emitted_metrics(output.getvalue())
            meter.running = None

    return run


def emitted_metrics(log: str) -> set[str]:
    """The custom metrics a log's embedded-metric-format lines define, each `Namespace/Name [dim=value,
    ...]`: CloudWatch bills each such combination as one metric."""
    found: set[str] = set()
    for line in log.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"].get("CloudWatchMetrics", []):
            for dimensions in directive.get("Dimensions", []) or [[]]:
                where = ",".join(f"{name}={document.get(name)}" for name in dimensions)
                found |= {
                    f"{directive['Namespace']}/{metric['Name']} [{where}]" for metric in directive["Metrics"]
                }
    return found


def _unique_body(body: bytes, index: int) -> bytes:
    """The sample with its event id made unique, so that every delivery is a new event (a repeat would be
    answered as a duplicate and cost less)."""
    document = json.loads(body)
    document["id"] = f"{document['id']}-{index:05d}"
    return json.dumps(document, separators=(",", ":")).encode()


def _access_log_line(log_format: str, event: Mapping[str, Any], response: Mapping[str, Any], ms: int) -> str:
    """The stage's access-log Format with this request's values, as API Gateway writes it ("-" where it
    has none)."""
    context = event["requestContext"]

    def value(match: re.Match[str]) -> str:
        path = match[1]
        known: dict[str, object] = {
            "status": response["statusCode"],
            "responseLength": len(str(response.get("body", "")).encode()),
            "integration.status": 200,
            "integration.latency": ms,
            "integration.error": "-",
            "xrayTraceId": "1-" + "0" * 8 + "-" + "0" * 24,
        }
        if path in known:
            return str(known[path])
        found: Any = context
        for part in path.split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        return "-" if found in (None, "") else str(found)

    return re.sub(r"\$context\.([A-Za-z0-9_.]+)", value, log_format)


@dataclass(frozen=True)
class DeliveryMeasurements:
    """Per delivery, each function's share (by logical id) and the API's access-log bytes."""

    deliveries: int
    functions: dict[str, dict[str, Any]]
    api_access_log_bytes: int
    custom_metrics: list[str]
    dynamodb_stored_bytes: int
    delivered: tuple[tuple[str, bytes], ...] = ()
    """Each measured delivery's provider and body (not written: the scheduled run reads them)."""

    def document(self) -> dict[str, Any]:
        return {
            "label": (
                "local measurements: the real handlers run in one process against the moto emulator on "
                "loopback; durations are this machine's wall time, not Lambda's billed duration"
            ),
            "measured_on": time.strftime("%Y-%m-%d", time.gmtime()),
            "deliveries": self.deliveries,
            "events": [file for _, file in MEASURED_EVENTS],
            "notes": [
                "Each delivery is a new event (its id made unique) of one of the events above, in turn: "
                "accepted, archived, stored, published.",
                "duration_ms is the median wall time of one invocation; on Lambda it varies with the "
                "memory size (CPU grows with it) and the network; re-measure after changing the code. The "
                "receiver's asynchronous Invoke is answered in this process, so its duration lacks that "
                "request's round trip to Lambda.",
                "log_bytes is what the function writes per delivery (its JSON log lines and metrics); "
                "Lambda's own platform lines (START, END, REPORT) are not written locally and not counted.",
                "DynamoDB units are computed from the size of each item written or read (write: 1 KB per "
                "unit; strongly consistent read: 4 KB per unit), the item's size after the delivery; "
                "dynamodb_stored_bytes is the size of the items a delivery leaves in the tables.",
                "Requests to Secrets Manager are made once per container and cache period, not per "
                "delivery: after the first delivery none were made.",
                "custom_metrics are the metrics the functions emitted (embedded metric format), the "
                "warm-up delivery's included (cold start: the three functions share one process here, so "
                "one ColdStart appears where AWS has one per function); a refusal adds one per reason "
                "when it happens.",
            ],
            "functions": self.functions,
            "api_access_log_bytes_per_delivery": self.api_access_log_bytes,
            "dynamodb_stored_bytes_per_delivery": self.dynamodb_stored_bytes,
            "custom_metrics": self.custom_metrics,
        }


def _median_ms(seconds: list[float]) -> str:
    return str(Decimal(statistics.median(seconds) * 1000).quantize(Decimal("0.01")))


def _per_delivery(value: int | Decimal, deliveries: int) -> str:
    return str((Decimal(value) / deliveries).quantize(Decimal("0.001")).normalize())


def _dynamodb_units(runtime: LocalRuntime, meter: _Meter) -> None:
    """Each recorded DynamoDB request's units, from the size of the item it wrote or read, as stored now."""
    dynamodb = runtime.clients("dynamodb")
    key_names: dict[str, list[str]] = {}
    written: dict[str, int] = {}
    logical_ids = {
        physical: logical
        for logical, physical in Template(runtime.template).physical_ids_from_outputs(runtime.outputs).items()
    }
    for logical_id, operation, params in meter.dynamodb_calls:
        table = params["TableName"]
        if table not in key_names:
            schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            key_names[table] = [key["AttributeName"] for key in schema]
        key = params.get("Key") or {name: params["Item"][name] for name in key_names[table]}
        stored = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})
        size = max(item_size(stored), item_size(params.get("Item", {})))
        share = meter.shares[logical_id]
        if operation in DYNAMODB_WRITES:
            written[json.dumps([table, key], sort_keys=True)] = item_size(stored)
            units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
            share.dynamodb_write_units += units
            share.dynamodb_write_units_by_table[logical_ids.get(table, table)] += units
        else:
            read_units = Decimal(max(1, math.ceil(size / READ_UNIT_BYTES)))
            share.dynamodb_read_units += read_units if params.get("ConsistentRead") else read_units / 2
    meter.stored_bytes += sum(written.values())
    meter.dynamodb_calls.clear()


def _metered_functions(runtime: LocalRuntime, meter: _Meter) -> list[AsyncFunction]:
    return [
        replace(function, handler=_metered(meter, _logical_id(runtime, function.name), function.handler))
        for function in runtime.async_functions
    ]


def _deliver(runtime: LocalRuntime, sender: Sender, meter: _Meter, deliveries: int) -> int:
    """Run the warm-up and the measured deliveries through metered functions; the access-log bytes."""
    api = runtime.api_function
    unmetered = runtime.async_functions
    runtime.async_functions = _metered_functions(runtime, meter)
    (stage,) = Template(runtime.template).resources_of_type("AWS::ApiGateway::Stage")
    formats = (
        node["Format"]
        for node in walk(stage.properties.get("AccessLogSetting"))
        if isinstance(node, Mapping) and "Format" in node
    )
    log_format = str(next(formats, ""))
    receive = _metered(meter, api.logical_id, api.module.handler)
    access_log_bytes = 0
    try:
        for index in range(deliveries + 1):
            access_log_bytes += _deliver_one(runtime, sender, meter, receive, log_format, index)
    finally:
        runtime.async_functions = unmetered
    return access_log_bytes


def _deliver_one(
    runtime: LocalRuntime,
    sender: Sender,
    meter: _Meter,
    receive: Callable[[Any, Any], Any],
    log_format: str,
    index: int,
) -> int:
    """One delivery (index 0, the warm-up, forgotten); its access-log bytes."""
    api = runtime.api_function
    provider, file = MEASURED_EVENTS[index % len(MEASURED_EVENTS)]
    body = _unique_body((paths.EVENTS / file).read_bytes(), index)
    event = sender.event(provider, body)
    local_lambda = runtime.async_lambda(deferred=True)
    with runtime.router.bound(local_lambda):
        started = time.perf_counter()
        response = receive(event, FakeContext(api.name, timeout_seconds=api.timeout_seconds))
        receiver_ms = round((time.perf_counter() - started) * 1000)
    local_lambda.run_pending()
    if response["statusCode"] != 202 or any(outcome.error for outcome in local_lambda.outcomes):
        raise RuntimeError(f"the measured delivery of {file} failed: {response} {local_lambda.outcomes}")
    _dynamodb_units(runtime, meter)
    meter.delivered.append((provider, body))
    if index == 0:  # the warm-up delivery: forget it
        meter.shares.clear()
        meter.stored_bytes = 0
        return 0
    return len(_access_log_line(log_format, event, response, receiver_ms).encode()) + 1


def measure_deliveries(runtime: LocalRuntime, sender: Sender, deliveries: int) -> DeliveryMeasurements:
    """Deliver `deliveries` new events, each signed and wrapped by `sender`, one at a time, after one
    unmeasured delivery that warms the caches (the secret, the clients, the imports); what each function
    did per delivery."""
    meter = _Meter()
    events = runtime.clients.session.events
    events.register("before-parameter-build.*.*", meter.before_request)
    try:
        access_log_bytes = _deliver(runtime, sender, meter, deliveries)
    finally:
        events.unregister("before-parameter-build.*.*", meter.before_request)
    functions = {
        logical_id: {
            "invocations_per_delivery": _per_delivery(share.invocations, deliveries),
            "duration_ms": _median_ms(share.seconds),
            "log_bytes_per_delivery": _per_delivery(share.log_bytes, deliveries),
            "requests_per_delivery": {
                request: _per_delivery(count, deliveries) for request, count in sorted(share.requests.items())
            },
            "dynamodb_write_units_per_delivery": _per_delivery(share.dynamodb_write_units, deliveries),
            "dynamodb_write_units_per_delivery_by_table": {
                table: _per_delivery(units, deliveries)
                for table, units in sorted(share.dynamodb_write_units_by_table.items())
            },
            "dynamodb_read_units_per_delivery": _per_delivery(share.dynamodb_read_units, deliveries),
            "s3_put_bytes_per_delivery": _per_delivery(share.s3_put_bytes, deliveries),
            "sns_publish_requests_per_delivery": _per_delivery(share.sns_publish_chunks, deliveries),
        }
        for logical_id, share in sorted(meter.shares.items())
    }
    return DeliveryMeasurements(
        deliveries,
        functions,
        round(access_log_bytes / deliveries),
        sorted(meter.metrics),
        round(meter.stored_bytes / deliveries),
        tuple(meter.delivered[1:]),
    )


def _logical_id(runtime: LocalRuntime, function_name: str) -> str:
    (logical_id,) = (spec.logical_id for spec in runtime.functions.values() if spec.name == function_name)
    return logical_id


SCHEDULED_EVENT_AGE_SECONDS = 300
"""How long before the scheduled runs the measured deliveries' events are logged as created: inside the
window a steady-state run reads (from its cursor less the overlap to a minute before now)."""


@dataclass(frozen=True)
class ScheduledRunMeasurement:
    """What one scheduled run of a function does in the steady state: every event of its window is stored,
    so it finds nothing missing."""

    logical_id: str
    runs: int
    events_in_window: dict[str, int]
    share: FunctionShare
    custom_metrics: list[str]

    def document(self) -> dict[str, Any]:
        return {
            "label": (
                "local measurement of a scheduled run: the real handler run in one process against the moto "
                "emulator, its providers' event logs served by the local stand-ins over loopback; the "
                "duration is this machine's wall time, not Lambda's billed duration"
            ),
            "measured_on": time.strftime("%Y-%m-%d", time.gmtime()),
            "runs": self.runs,
            "events_in_window": self.events_in_window,
            "notes": [
                "The steady state: the measured deliveries' events are logged by their providers as "
                f"created {SCHEDULED_EVENT_AGE_SECONDS} s before the runs, and all are stored, so each run "
                "lists them, finds none missing and moves its cursor. One unmeasured run comes first (the "
                "imports, the clients, the first cursor).",
                "duration_ms is the median wall time of one run; the provider calls go to the local "
                "stand-ins over loopback, so they lack the round trip to the provider's API, which a run "
                "on Lambda waits for (and is billed for).",
                "log_bytes_per_run is what the run writes (its JSON log lines and metrics); Lambda's "
                "platform lines are not counted.",
                "DynamoDB units are computed from the size of each item read or written (a BatchGetItem "
                "bills a read of each key asked for, found or not, whatever it projects).",
            ],
            "duration_ms": _median_ms(self.share.seconds),
            "log_bytes_per_run": _per_delivery(self.share.log_bytes, self.runs),
            "requests_per_run": {
                request: _per_delivery(count, self.runs)
                for request, count in sorted(self.share.requests.items())
            },
            "dynamodb_write_units_per_run": _per_delivery(self.share.dynamodb_write_units, self.runs),
            "dynamodb_read_units_per_run": _per_delivery(self.share.dynamodb_read_units, self.runs),
            "custom_metrics": self.custom_metrics,
        }


def _log_as_created(
    provider_logs: Path, delivered: tuple[tuple[str, bytes], ...], created: float
) -> Counter[str]:
    """Log each delivered event of a provider that keeps a log as created at `created` and delivered."""
    logged: Counter[str] = Counter()
    for provider, body in delivered:
        read = LOGGING_PROVIDERS.get(provider)
        if read is not None:
            EventLog(provider, provider_logs).record(replace(read(body, True), created=created))
            logged[provider] += 1
    return logged


def _steady_run(runtime: LocalRuntime, logical_id: str, api_base: str, providers: set[str]) -> None:
    """One scheduled run, which must reconcile each of `providers` completely and find nothing missing."""
    outcomes = runtime.run_schedule(api_base)
    name = runtime.functions[logical_id].name
    reports = [report for o in outcomes if o.function == name for report in o.response["reports"]]
    steady = {r["provider"] for r in reports if r["complete"] and not r["missing"] and not r["failures"]}
    failed = [outcome for outcome in outcomes if outcome.error]
    if failed or not providers <= steady:
        raise RuntimeError(f"the measured scheduled run was not a steady one: {failed or reports}")


def measure_scheduled_runs(
    runtime: LocalRuntime, delivered: tuple[tuple[str, bytes], ...], runs: int
) -> ScheduledRunMeasurement:
    """Play `runs` scheduled runs of the reconciler, after one unmeasured run, against the local providers'
    APIs whose logs hold the `delivered` events (stored already): what one steady-state run does."""
    (logical_id,) = Template(runtime.template).scheduled_functions()
    meter = _Meter()
    secret = runtime.clients("secretsmanager").get_secret_value(SecretId=runtime.outputs[WEBHOOK_SECRET_ARN])
    credentials = ApiCredentials.from_secret_string(secret["SecretString"])
    unmetered = runtime.async_functions
    runtime.async_functions = _metered_functions(runtime, meter)
    events = runtime.clients.session.events
    events.register("before-parameter-build.*.*", meter.before_request)
    try:
        with tempfile.TemporaryDirectory() as directory:
            provider_logs = Path(directory)
            logged = _log_as_created(provider_logs, delivered, time.time() - SCHEDULED_EVENT_AGE_SECONDS)
            with provider_api_server(credentials, provider_logs).running() as server:
                for run in range(runs + 1):
                    _steady_run(runtime, logical_id, server.url, set(logged))
                    _dynamodb_units(runtime, meter)
                    if run == 0:  # the warm-up run: forget it
                        meter.shares.clear()
                        meter.metrics.clear()
    finally:
        events.unregister("before-parameter-build.*.*", meter.before_request)
        runtime.async_functions = unmetered
    return ScheduledRunMeasurement(
        logical_id, runs, dict(sorted(logged.items())), meter.shares[logical_id], sorted(meter.metrics)
    )


def write_measurements(
    measurements: DeliveryMeasurements, scheduled: ScheduledRunMeasurement, path: Path
) -> Path:
    document = measurements.document() | {"scheduled_runs": {scheduled.logical_id: scheduled.document()}}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def measurement_run(
    deployment: Deployment, parameter_file: Path, deliveries: int, scheduled_runs: int, path: Path
) -> Path:
    """Deploy a throwaway stack on the emulator, measure `deliveries` deliveries on it, then
    `scheduled_runs` steady-state scheduled runs, destroy it; the measurements written to `path`."""

    def report(line: str) -> None:
        print(line, file=sys.stderr)

    deploy_environment(deployment, parameter_file, None, report)
    try:
        runtime = LocalRuntime.for_deployed_stack(
            deployment.clients, deployment.stack, deployment.environment
        )
        with runtime.activated():
            measurements = measure_deliveries(runtime, runtime.sender(), deliveries)
            scheduled = measure_scheduled_runs(runtime, measurements.delivered, scheduled_runs)
    finally:
        destroy_environment(deployment, with_bootstrap=False, report=report)
    return write_measurements(measurements, scheduled, path)
