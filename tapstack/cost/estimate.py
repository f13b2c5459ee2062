"""What the stack costs, line by line: a month of the resources it holds, and a million deliveries.

Read from the template (through tapstack/cfn/model.py, each resource's condition resolved for the
parameter values), the price table (prices.py) and the measurements of a delivery on the local stack
(measurements.py). Every quantity is a Decimal; nothing is rounded here.

* Fixed lines: what the stack costs a month with no traffic, per billable resource: the KMS key, the
  secret, the web ACL and its rules, alarm metrics, dashboards, custom metrics; and the requests made
  on a timer rather than per delivery (the receiver's secret refresh, DynamoDB's table-key refresh).
* Per-million lines: what one delivery does, times a million: the API request, the WAF inspection, each
  function's request and GB-seconds (its memory from the template, its duration measured), DynamoDB
  units, S3 puts and the archive's storage for as long as it is kept, SNS publishes, KMS requests, log
  bytes ingested and stored for their group's retention, X-Ray traces. Storage kept for a finite time
  is costed over that time (which is also what it adds to the steady monthly bill per million
  deliveries a month); items kept without expiry (DynamoDB) are costed per month kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from tapstack.cfn.model import NO_VALUE, Resource, Template
from tapstack.cost.measurements import FunctionMeasurement, Measurements, ScheduledRunMeasurement
from tapstack.cost.prices import Price

HOURS_PER_MONTH: Final = Decimal(730)
"""AWS's pricing pages count a month as 730 hours."""
SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH: Final = HOURS_PER_MONTH / 24
GB: Final = Decimal(2**30)
MILLION: Final = Decimal(1_000_000)
XRAY_SAMPLED_SHARE: Final = Decimal("0.05")
"""X-Ray's default sampling rule: the first request each second, then 5% of the others."""
XRAY_RESERVOIR_PER_MONTH: Final = SECONDS_PER_MONTH
DYNAMODB_TABLE_KEY_CACHE_SECONDS: Final = 300
"""DynamoDB keeps a table's plaintext key for a caller five minutes before asking KMS again."""
SECRET_CACHE_VARIABLE: Final = "SECRET_CACHE_TTL_SECONDS"  # noqa: S105 (a variable name, not a secret)
STAND_IN_PARAMETERS: Final = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "tapstack-cost",
    "AWS::URLSuffix": "amazonaws.com",
}


class _AnyAttribute(Mapping[str, str]):
    """Stands in for a resource's attributes: the costing reads which resource a value names, not its ARN."""

    def __init__(self, logical_id: str) -> None:
        self.logical_id = logical_id

    def __getitem__(self, attribute: str) -> str:
        return f"{self.logical_id}.{attribute}"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __contains__(self, attribute: object) -> bool:
        return isinstance(attribute, str)


@dataclass(frozen=True)
class Line:
    """One priced quantity: a month of a resource (fixed), or what a million deliveries use."""

    service: str
    item: str
    quantity: Decimal
    price: Price
    basis: str
    """Where the quantity comes from: the template's resources and values, or the measurement."""

    @property
    def usd(self) -> Decimal:
        return self.price.cost(self.quantity)

    def document(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "item": self.item,
            "quantity": str(self.quantity.normalize()),
            "unit": self.price.unit,
            "unit_price_usd": str(self.price.unit_usd.normalize()),
            "usd": str(self.usd.normalize()),
            "price": self.price.key,
            "source": self.price.source,
            "checked": self.price.checked,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class Estimate:
    fixed: tuple[Line, ...]
    per_million: tuple[Line, ...]
    measurements: Measurements
    xray_price: Price | None
    """The traces price when tracing is on: the sampling reservoir depends on the traffic (total_usd)."""
    notes: tuple[str, ...] = field(default=())
    """What is not costed, and why."""

    @property
    def monthly_fixed_usd(self) -> Decimal:
        return sum((line.usd for line in self.fixed), Decimal(0))

    @property
    def per_million_deliveries_usd(self) -> Decimal:
        return sum((line.usd for line in self.per_million), Decimal(0))

    def reservoir_line(self, deliveries_per_month: Decimal) -> Line | None:
        """The traces X-Ray's reservoir adds at this traffic beyond the sampled share (the first request
        of each second is traced): up to one a second."""
        if self.xray_price is None:
            return None
        traced = min(deliveries_per_month, XRAY_RESERVOIR_PER_MONTH) * (1 - XRAY_SAMPLED_SHARE)
        return Line(
            "X-Ray",
            "traces of the sampling reservoir (first request each second)",
            traced,
            self.xray_price,
            "default sampling rule: 1 a second, at most one a second of the month",
        )

    def total_usd(self, deliveries_per_month: Decimal) -> Decimal:
        """A month with this many deliveries (at a steady rate: finite storage at its steady size)."""
        reservoir = self.reservoir_line(deliveries_per_month)
        return (
            self.monthly_fixed_usd
            + self.per_million_deliveries_usd * deliveries_per_month / MILLION
            + (reservoir.usd if reservoir else Decimal(0))
        )


class StackReading:
    """The template as deployed with these parameter values: which resources exist and their values."""

    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = Template(document)
        required = {
            name: "cost" for name, parameter in self.template.parameters.items() if "Default" not in parameter
        }
        resources = self.template.resources
        self.resolver = self.template.resolver(
            {**STAND_IN_PARAMETERS, **required, **parameters},
            physical_ids={logical_id: logical_id for logical_id in resources},
            attributes={logical_id: _AnyAttribute(logical_id) for logical_id in resources},
        )

    def present(self, *resource_types: str) -> list[Resource]:
        """The resources of these types the stack creates with these parameter values, by logical id (so
        that the lines do not depend on the document's key order)."""
        return sorted(
            (
                resource
                for resource in self.template.resources_of_type(*resource_types)
                if "Condition" not in resource.definition
                or self.resolver.condition(resource.definition["Condition"])
            ),
            key=lambda resource: resource.logical_id,
        )

    def value(self, resource: Resource, name: str, default: Any = None) -> Any:
        """A property's value, resolved; `default` when absent or removed (`AWS::NoValue`)."""
        found = self.resolver.resolve(resource.properties.get(name, default))
        return default if found is NO_VALUE else found

    def named(self, value: object) -> str:
        """The logical id a resolved Ref or GetAtt stand-in names."""
        return str(value).split(".", 1)[0]


def _rules_of(stack: StackReading, acl: Resource) -> list[str]:
    return [str(rule["Name"]) for rule in stack.value(acl, "Rules", [])]


def _alarm_metrics(stack: StackReading, alarm: Resource) -> int:
    if stack.value(alarm, "MetricName") is not None:
        return 1
    return sum(1 for query in stack.value(alarm, "Metrics", []) if "MetricStat" in query)


def fixed_lines(stack: StackReading, prices: Mapping[str, Price], measured: Measurements) -> list[Line]:
    lines: list[Line] = []
    for key in stack.present("AWS::KMS::Key"):
        rotation = " (rotation on: each of the first two yearly rotations adds a key-month)"
        rotates = stack.value(key, "EnableKeyRotation") is True
        lines.append(
            Line(
                "KMS",
                f"key {key.logical_id}",
                Decimal(1),
                prices["kms_key"],
                "template" + (rotation if rotates else ""),
            )
        )
    for secret in stack.present("AWS::SecretsManager::Secret"):
        lines.append(
            Line(
                "Secrets Manager",
                f"secret {secret.logical_id}",
                Decimal(1),
                prices["secretsmanager_secret"],
                "template",
            )
        )
    for function in stack.present("AWS::Lambda::Function"):
        variables = stack.value(function, "Environment", {}).get("Variables", {})
        if SECRET_CACHE_VARIABLE in variables:
            ttl = Decimal(str(variables[SECRET_CACHE_VARIABLE]))
            lines.append(
                Line(
                    "Secrets Manager",
                    f"{function.logical_id} reads the secret every {ttl} s",
                    SECONDS_PER_MONTH / ttl,
                    prices["secretsmanager_api_calls"],
                    f"template: {SECRET_CACHE_VARIABLE}={ttl}; one warm container (each more adds as many)",
                )
            )
    for acl in stack.present("AWS::WAFv2::WebACL"):
        rules = _rules_of(stack, acl)
        lines.append(Line("WAF", f"web ACL {acl.logical_id}", Decimal(1), prices["waf_web_acl"], "template"))
        lines.append(
            Line(
                "WAF",
                f"rules of {acl.logical_id}",
                Decimal(len(rules)),
                prices["waf_rule"],
                "template: " + ", ".join(rules),
            )
        )
    alarms = stack.present("AWS::CloudWatch::Alarm")
    if alarms:
        metrics = sum(_alarm_metrics(stack, alarm) for alarm in alarms)
        names = ", ".join(alarm.logical_id for alarm in alarms)
        lines.append(
            Line(
                "CloudWatch",
                "alarm metrics",
                Decimal(metrics),
                prices["cloudwatch_alarm"],
                f"template: {len(alarms)} alarms, {names}",
            )
        )
    dashboards = stack.present("AWS::CloudWatch::Dashboard")
    if dashboards:
        names = ", ".join(dashboard.logical_id for dashboard in dashboards)
        lines.append(
            Line(
                "CloudWatch",
                "dashboards",
                Decimal(len(dashboards)),
                prices["cloudwatch_dashboard"],
                f"template: {names}",
            )
        )
    filters = stack.present("AWS::Logs::MetricFilter")
    filter_metrics = sum(
        len(stack.value(metric_filter, "MetricTransformations", [])) for metric_filter in filters
    )
    if filter_metrics:
        lines.append(
            Line(
                "CloudWatch",
                "metrics of the log metric filters",
                Decimal(filter_metrics),
                prices["cloudwatch_custom_metric"],
                "template: " + ", ".join(metric_filter.logical_id for metric_filter in filters),
            )
        )
    if measured.custom_metrics:
        lines.append(
            Line(
                "CloudWatch",
                "metrics the functions emit",
                Decimal(len(measured.custom_metrics)),
                prices["cloudwatch_custom_metric"],
                f"measured {measured.measured_on}: " + "; ".join(measured.custom_metrics),
            )
        )
    lines += _table_key_lines(stack, prices)
    return lines


def _table_key_lines(stack: StackReading, prices: Mapping[str, Price]) -> list[Line]:
    """DynamoDB asks KMS for a table's key at most once per caller every five minutes of activity."""
    lines = []
    roles = stack.present("AWS::IAM::Role")
    for table in stack.present("AWS::DynamoDB::Table"):
        encryption = stack.value(table, "SSESpecification", {})
        if not encryption.get("KMSMasterKeyId"):
            continue
        callers = [
            role.logical_id
            for role in roles
            if table.logical_id in stack.template.referenced_resources(role.properties)
        ]
        lines.append(
            Line(
                "KMS",
                f"requests for {table.logical_id}'s table key",
                len(callers) * SECONDS_PER_MONTH / DYNAMODB_TABLE_KEY_CACHE_SECONDS,
                prices["kms_requests"],
                f"template: used by {', '.join(callers)}; one request per caller "
                "every 5 minutes of traffic (upper bound: continuous traffic)",
            )
        )
    return lines


def _retention_days(stack: StackReading, log_group_id: str) -> Decimal | None:
    group = stack.template.resources[log_group_id]
    days = stack.value(group, "RetentionInDays")
    return None if days is None else Decimal(str(days))


def _log_lines(
    stack: StackReading,
    prices: Mapping[str, Price],
    what: str,
    log_group_id: str,
    bytes_each: Decimal,
    each: str = "a delivery",
    count: Decimal = MILLION,
) -> list[Line]:
    """The log bytes of `count` deliveries (or of what `each` names), `bytes_each` each."""
    ingested = bytes_each * count / GB
    days = _retention_days(stack, log_group_id)
    kept = f"kept {days} days" if days is not None else "kept without expiry: costed for one month"
    months = (days if days is not None else DAYS_PER_MONTH) / DAYS_PER_MONTH
    measured = f"measured {bytes_each} bytes {each}"
    return [
        Line(
            "CloudWatch Logs",
            f"{what} ingested",
            ingested,
            prices["logs_ingestion"],
            f"{measured} into {log_group_id}",
        ),
        Line(
            "CloudWatch Logs",
            f"{what} stored",
            ingested * months,
            prices["logs_storage"],
            f"{measured}, {kept} (RetentionInDays of {log_group_id})",
        ),
    ]


def _function_lines(
    stack: StackReading, prices: Mapping[str, Price], function: Resource, measured: FunctionMeasurement
) -> list[Line]:
    name = function.logical_id
    memory = Decimal(str(stack.value(function, "MemorySize", 128)))
    billed_ms = Decimal(math.ceil(measured.duration_ms))  # Lambda bills each invocation to the next 1 ms
    invocations = measured.invocations * MILLION
    lines = [
        Line(
            "Lambda",
            f"{name} requests",
            invocations,
            prices["lambda_arm64_requests"],
            "measured invocations a delivery",
        ),
        Line(
            "Lambda",
            f"{name} compute",
            invocations * billed_ms / 1000 * memory / 1024,
            prices["lambda_arm64_gb_seconds"],
            f"template: MemorySize {memory} MB; measured {measured.duration_ms} ms (billed {billed_ms} ms)",
        ),
    ]
    if measured.dynamodb_write_units:
        lines.append(
            Line(
                "DynamoDB",
                f"{name} writes",
                measured.dynamodb_write_units * MILLION,
                prices["dynamodb_on_demand_writes"],
                "measured write units a delivery",
            )
        )
    if measured.dynamodb_read_units:
        lines.append(
            Line(
                "DynamoDB",
                f"{name} reads",
                measured.dynamodb_read_units * MILLION,
                prices["dynamodb_on_demand_reads"],
                "measured read units a delivery",
            )
        )
    variables = stack.value(function, "Environment", {}).get("Variables", {})
    lines += _s3_lines(stack, prices, name, measured, variables)
    lines += _sns_lines(stack, prices, name, measured, variables)
    group = stack.named(stack.value(function, "LoggingConfig", {}).get("LogGroup", ""))
    if group in stack.template.resources:
        lines += _log_lines(stack, prices, f"{name} logs", group, measured.log_bytes)
    return lines


def _referenced(stack: StackReading, value: object, resource_type: str) -> Resource | None:
    """The one resource of this type a resolved value names, if any."""
    names = {stack.named(item) for item in (value.values() if isinstance(value, Mapping) else [value])}
    found = [stack.template.resources[name] for name in sorted(names) if name in stack.template.resources]
    matching = [resource for resource in found if resource.type == resource_type]
    return matching[0] if matching else None


def _archive_days(stack: StackReading, bucket: Resource) -> Decimal:
    """How long an archived object is kept: until it expires, plus its noncurrent days once versioning
    keeps it, or as long as Object Lock holds it if longer."""
    days = Decimal(0)
    for rule in stack.value(bucket, "LifecycleConfiguration", {}).get("Rules", []):
        if rule.get("Status") == "Enabled" and "ExpirationInDays" in rule:
            noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", 0)
            days = max(days, Decimal(str(rule["ExpirationInDays"])) + Decimal(str(noncurrent)))
    retention = stack.value(bucket, "ObjectLockConfiguration", {}).get("Rule", {}).get("DefaultRetention", {})
    if "Days" in retention:
        days = max(days, Decimal(str(retention["Days"])))
    return days


def _s3_lines(
    stack: StackReading,
    prices: Mapping[str, Price],
    name: str,
    measured: FunctionMeasurement,
    variables: Mapping[str, Any],
) -> list[Line]:
    puts = measured.requests_of("s3.PutObject")
    bucket = _referenced(stack, variables, "AWS::S3::Bucket")
    if not puts or bucket is None:
        return []
    days = _archive_days(stack, bucket)
    stored = measured.s3_put_bytes * MILLION / GB
    encryption = stack.value(bucket, "BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [{}])[0]
    by_kms = encryption.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") == "aws:kms"
    bucket_key = encryption.get("BucketKeyEnabled") is True
    kms_per_put = Decimal(1) if by_kms and not bucket_key else Decimal(0)
    kms_basis = (
        "template: BucketKeyEnabled, S3 reuses a bucket-level key (near zero requests)"
        if by_kms and bucket_key
        else "template: one GenerateDataKey per put (no bucket key)"
        if by_kms
        else "template: no KMS encryption"
    )
    return [
        Line(
            "S3",
            f"{name} puts to {bucket.logical_id}",
            puts * MILLION,
            prices["s3_put_requests"],
            "measured puts a delivery",
        ),
        Line(
            "S3",
            f"{bucket.logical_id} storage",
            stored * days / DAYS_PER_MONTH,
            prices["s3_standard_storage"],
            f"measured {measured.s3_put_bytes} bytes a delivery, kept {days} days (lifecycle expiry, "
            "noncurrent days, Object Lock)",
        ),
        Line(
            "KMS",
            f"requests for {name}'s puts",
            puts * kms_per_put * MILLION,
            prices["kms_requests"],
            kms_basis,
        ),
    ]


def _sns_lines(
    stack: StackReading,
    prices: Mapping[str, Price],
    name: str,
    measured: FunctionMeasurement,
    variables: Mapping[str, Any],
) -> list[Line]:
    if not measured.sns_publish_requests:
        return []
    topic = _referenced(stack, variables, "AWS::SNS::Topic")
    encrypted = topic is not None and stack.value(topic, "KmsMasterKeyId") is not None
    publishes = measured.sns_publish_requests * MILLION
    return [
        Line(
            "SNS",
            f"{name} publishes",
            publishes,
            prices["sns_publishes"],
            "measured publish requests (64 KB chunks) a delivery",
        ),
        Line(
            "KMS",
            f"requests for {name}'s publishes",
            publishes if encrypted else Decimal(0),
            prices["kms_requests"],
            "template: encrypted topic; one data-key request per publish (upper bound: SNS may reuse keys)"
            if encrypted
            else "template: topic not KMS-encrypted",
        ),
    ]


def _api_lines(
    stack: StackReading, prices: Mapping[str, Price], measured: Measurements
) -> tuple[list[Line], list[str]]:
    lines: list[Line] = []
    notes: list[str] = []
    if stack.present("AWS::ApiGateway::RestApi"):
        lines.append(
            Line(
                "API Gateway",
                "REST API requests",
                MILLION,
                prices["apigateway_rest_requests"],
                "one request a delivery",
            )
        )
    if stack.present("AWS::WAFv2::WebACLAssociation") and stack.present("AWS::WAFv2::WebACL"):
        lines.append(
            Line(
                "WAF",
                "requests inspected",
                MILLION,
                prices["waf_requests"],
                "template: the web ACL is associated with the stage",
            )
        )
    for stage in stack.present("AWS::ApiGateway::Stage"):
        access = stack.value(stage, "AccessLogSetting")
        if isinstance(access, Mapping) and access.get("DestinationArn"):
            group = stack.named(access["DestinationArn"])
            lines += _log_lines(stack, prices, "API access log", group, measured.api_access_log_bytes)
        levels = {str(setting.get("LoggingLevel")) for setting in stack.value(stage, "MethodSettings", [])}
        if "INFO" in levels:
            notes.append(
                f"{stage.logical_id} execution logging INFO writes several log lines per request: "
                "not measured, not costed"
            )
    return lines, notes


def _index_lines(stack: StackReading, prices: Mapping[str, Price], measured: Measurements) -> list[Line]:
    """A write to a table is also a write to each of its global secondary indexes whose keys the item
    carries (upper bound: every item carries them, and each index projects the whole item)."""
    lines = []
    for table in stack.present("AWS::DynamoDB::Table"):
        indexes = [str(index.get("IndexName")) for index in stack.value(table, "GlobalSecondaryIndexes", [])]
        units = sum(
            (
                share.dynamodb_write_units_by_table.get(table.logical_id, Decimal(0))
                for share in measured.functions.values()
            ),
            Decimal(0),
        )
        if indexes and units:
            lines.append(
                Line(
                    "DynamoDB",
                    f"writes to {table.logical_id}'s indexes",
                    units * len(indexes) * MILLION,
                    prices["dynamodb_on_demand_writes"],
                    f"template: {', '.join(indexes)}; measured {units} units a delivery to the table "
                    "(upper bound: every item indexed, projected whole); their storage is not costed",
                )
            )
    return lines


def _tracing_on(stack: StackReading) -> bool:
    functions = stack.present("AWS::Lambda::Function")
    stages = stack.present("AWS::ApiGateway::Stage")
    return any(stack.value(f, "TracingConfig", {}).get("Mode") == "Active" for f in functions) or any(
        stack.value(stage, "TracingEnabled") is True for stage in stages
    )


RATE_UNITS_MINUTES = {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}
MINUTES_PER_MONTH = Decimal(730 * 60)


def _schedule_lines(
    stack: StackReading,
    prices: Mapping[str, Price],
    function: Resource,
    schedule: Resource,
    measured: ScheduledRunMeasurement | None,
) -> list[Line]:
    """A scheduled function's month: its runs from the rate, each billed at the measured duration of a
    steady-state run (one that finds nothing missing) with its log bytes and the metrics it emits; at
    its Timeout (an upper bound) when no run was measured."""
    if stack.value(schedule, "State", "ENABLED") != "ENABLED":
        return []
    expression = str(stack.value(schedule, "ScheduleExpression", ""))
    count, _, unit = expression.removeprefix("rate(").removesuffix(")").partition(" ")
    if not count.isdigit() or unit not in RATE_UNITS_MINUTES:
        return []
    runs = MINUTES_PER_MONTH / (int(count) * RATE_UNITS_MINUTES[unit])
    memory = Decimal(str(stack.value(function, "MemorySize", 128)))
    name = function.logical_id
    requests = Line(
        "Lambda", f"{name} scheduled runs", runs, prices["lambda_arm64_requests"], f"template: {expression}"
    )
    if measured is None:
        timeout = Decimal(str(stack.value(function, "Timeout", 3)))
        return [
            requests,
            Line(
                "Lambda",
                f"{name} compute (upper bound)",
                runs * timeout * memory / 1024,
                prices["lambda_arm64_gb_seconds"],
                f"template: {expression}, each run billed at its Timeout {timeout} s, MemorySize {memory} MB "
                "(no run measured)",
            ),
        ]
    billed_ms = Decimal(math.ceil(measured.duration_ms))  # Lambda bills each invocation to the next 1 ms
    lines = [
        requests,
        Line(
            "Lambda",
            f"{name} compute",
            runs * billed_ms / 1000 * memory / 1024,
            prices["lambda_arm64_gb_seconds"],
            f"template: {expression}, MemorySize {memory} MB; measured {measured.measured_on}: "
            f"{measured.duration_ms} ms a run that finds nothing missing (billed {billed_ms} ms)",
        ),
    ]
    measured_run = f"measured {measured.measured_on}"
    per_run = (
        (
            "Secrets Manager",
            "reads of the secret",
            "secretsmanager_api_calls",
            "GetSecretValue requests",
            measured.requests_of("secrets-manager.GetSecretValue"),
        ),
        ("DynamoDB", "writes", "dynamodb_on_demand_writes", "write units", measured.dynamodb_write_units),
        ("DynamoDB", "reads", "dynamodb_on_demand_reads", "read units", measured.dynamodb_read_units),
    )
    lines += [
        Line(
            service,
            f"{name} scheduled {item}",
            runs * quantity,
            prices[price],
            f"{measured_run}: {quantity} {what} a run",
        )
        for service, item, price, what, quantity in per_run
        if quantity
    ]
    group = stack.named(stack.value(function, "LoggingConfig", {}).get("LogGroup", ""))
    if group in stack.template.resources:
        lines += _log_lines(stack, prices, f"{name} logs", group, measured.log_bytes, "a run", runs)
    if measured.custom_metrics:
        lines.append(
            Line(
                "CloudWatch",
                f"metrics {name} emits",
                Decimal(len(measured.custom_metrics)),
                prices["cloudwatch_custom_metric"],
                f"{measured_run}: " + "; ".join(measured.custom_metrics),
            )
        )
    return lines


def estimate(
    document: Mapping[str, Any],
    parameters: Mapping[str, str],
    prices: Mapping[str, Price],
    measured: Measurements,
) -> Estimate:
    """The cost of the stack `document` describes, deployed with `parameters` (the rest at their
    defaults): its fixed monthly lines and its lines per million deliveries."""
    stack = StackReading(document, parameters)
    per_million, notes = _api_lines(stack, prices, measured)
    scheduled = stack.template.scheduled_functions()  # run by the month, not by deliveries
    fixed = fixed_lines(stack, prices, measured)
    for function in stack.present("AWS::Lambda::Function"):
        if stack.value(function, "Architectures", ["x86_64"]) != ["arm64"]:
            notes.append(f"{function.logical_id} is not arm64: priced at arm64 prices, which are lower")
        if function.logical_id in scheduled:
            run = measured.scheduled_runs.get(function.logical_id)
            fixed += _schedule_lines(stack, prices, function, scheduled[function.logical_id], run)
        else:
            per_million += _function_lines(stack, prices, function, measured.of(function.logical_id))
    tables = [
        table
        for table in stack.present("AWS::DynamoDB::Table")
        if stack.value(table, "BillingMode") == "PAY_PER_REQUEST"
    ]
    if tables:
        stored = measured.dynamodb_stored_bytes * MILLION / GB
        names = ", ".join(table.logical_id for table in tables)
        per_million.append(
            Line(
                "DynamoDB",
                "items stored, per month kept",
                stored,
                prices["dynamodb_storage"],
                f"measured {measured.dynamodb_stored_bytes} bytes a delivery in {names}; items do not expire",
            )
        )
        with_recovery = [
            table
            for table in tables
            if stack.value(table, "PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
            is True
        ]
        if with_recovery:
            per_million.append(
                Line(
                    "DynamoDB",
                    "point-in-time recovery, per month kept",
                    stored,
                    prices["dynamodb_pitr"],
                    "template: PointInTimeRecoveryEnabled on "
                    + ", ".join(t.logical_id for t in with_recovery),
                )
            )
    per_million += _index_lines(stack, prices, measured)
    tracing = _tracing_on(stack)
    if tracing:
        per_million.append(
            Line(
                "X-Ray",
                "traces recorded (sampled share)",
                XRAY_SAMPLED_SHARE * MILLION,
                prices["xray_traces_recorded"],
                "template: active tracing; default sampling rule, 5% beyond the first request each second",
            )
        )
    notes += [
        f"{table.logical_id} is not on demand: its writes and reads are priced on demand, not provisioned"
        for table in stack.present("AWS::DynamoDB::Table")
        if stack.value(table, "BillingMode") != "PAY_PER_REQUEST"
    ]
    if any(stack.value(function, "VpcConfig") for function in stack.present("AWS::Lambda::Function")):
        notes.append(
            "the functions run in the organisation's VPC: its endpoints or NAT gateway are not costed."
        )
    notes += [
        "Lambda's platform log lines (START, END, REPORT) are not measured locally and not costed.",
        "S3 server access logs of the audit bucket (into the access-log bucket) are not costed.",
        "WAF logs keep only blocked and counted requests: a genuine delivery is logged only when an "
        "allow-list or a managed body rule counts it; not costed.",
        "Dead-letter queues cost nothing while deliveries succeed (SQS requests only on failures and "
        "replays).",
    ]
    return Estimate(
        fixed=tuple(fixed),
        per_million=tuple(per_million),
        measurements=measured,
        xray_price=prices["xray_traces_recorded"] if tracing else None,
        notes=tuple(notes),
    )
