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
request's own values. The figures are local measurements: durations are this machine's over loopback,
not Lambda's; the counts and sizes are what the same code does on AWS.
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
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from tapstack import paths
from tapstack.cfn.model import Template, walk
from tapstack.local.delivery import Sender
from tapstack.local.local_lambda import FakeContext
from tapstack.local.send import LocalRuntime
from tapstack.operate.actions import deploy_environment, destroy_environment
from tapstack.operate.deployment import Deployment

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

    def before_request(self, params: dict[str, Any], event_name: str, **_: Any) -> None:
        if self.running is None:
            return
        _event, service, operation = event_name.split(".")
        share = self.shares[self.running]
        share.requests[f"{service}.{operation}"] += 1
        if service == "dynamodb" and operation in DYNAMODB_WRITES | DYNAMODB_READS:
            self.dynamodb_calls.append((self.running, operation, json.loads(json.dumps(params, default=str))))
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


def _deliver(runtime: LocalRuntime, sender: Sender, meter: _Meter, deliveries: int) -> int:
    """Run the warm-up and the measured deliveries through metered functions; the access-log bytes."""
    api = runtime.api_function
    runtime.async_functions = [
        replace(function, handler=_metered(meter, _logical_id(runtime, function.name), function.handler))
        for function in runtime.async_functions
    ]
    (stage,) = Template(runtime.template).resources_of_type("AWS::ApiGateway::Stage")
    formats = (
        node["Format"]
        for node in walk(stage.properties.get("AccessLogSetting"))
        if isinstance(node, Mapping) and "Format" in node
    )
    log_format = str(next(formats, ""))
    receive = _metered(meter, api.logical_id, api.module.handler)
    access_log_bytes = 0
    for index in range(deliveries + 1):
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
        if index == 0:  # the warm-up delivery: forget it
            meter.shares.clear()
            meter.stored_bytes = 0
            continue
        access_log_bytes += len(_access_log_line(log_format, event, response, receiver_ms).encode()) + 1
    return access_log_bytes


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
            "duration_ms": str(Decimal(statistics.median(share.seconds) * 1000).quantize(Decimal("0.01"))),
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
    )


def _logical_id(runtime: LocalRuntime, function_name: str) -> str:
    (logical_id,) = (spec.logical_id for spec in runtime.functions.values() if spec.name == function_name)
    return logical_id


def write_measurements(measurements: DeliveryMeasurements, path: Path) -> Path:
    path.write_text(json.dumps(measurements.document(), indent=2) + "\n", encoding="utf-8")
    return path


def measurement_run(deployment: Deployment, parameter_file: Path, deliveries: int, path: Path) -> Path:
    """Deploy a throwaway stack on the emulator, measure `deliveries` deliveries on it, destroy it; the
    measurements written to `path`."""

    def report(line: str) -> None:
        print(line, file=sys.stderr)

    deploy_environment(deployment, parameter_file, None, report)
    try:
        runtime = LocalRuntime.for_deployed_stack(
            deployment.clients, deployment.stack, deployment.environment
        )
        with runtime.activated():
            measurements = measure_deliveries(runtime, runtime.sender(), deliveries)
    finally:
        destroy_environment(deployment, with_bootstrap=False, report=report)
    return write_measurements(measurements, path)
