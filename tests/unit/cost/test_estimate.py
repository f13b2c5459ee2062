"""The cost: the per-million figure recomputed from the price table, the template and the measurements for
two parameter files; a change of memory, log retention or the WAF moves exactly the lines it should."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tapstack import paths
from tapstack.cfn.model import Template
from tapstack.cost.estimate import Estimate, estimate
from tapstack.cost.measurements import load_measurements
from tapstack.cost.prices import load_prices
from tapstack.cost.sensitivity import moved_lines, sensitivity
from tapstack.parameter_files import load_parameter_file
from templates.config import FunctionSettings
from templates.stack import build_template, render
from tests.support.report import committed_template
from tests.support.settings import CONFIG_IN_FORCE

pytestmark = pytest.mark.settings

MILLION = Decimal(1_000_000)
GB = Decimal(2**30)
DAYS_PER_MONTH = Decimal(730) / 24
TRAFFIC = Decimal(1_000_000)
PRECISION = Decimal("0.000000001")

PRICES = load_prices()
MEASURED = load_measurements()


def _price(key: str, quantity: Decimal) -> Decimal:
    price = PRICES[key]
    return quantity * price.usd / price.for_quantity


def recomputed_per_million(template: dict[str, Any], overrides: dict[str, str]) -> Decimal:
    """The cost of a million deliveries, written out from what the template and the parameters say: one
    API request, one WAF inspection when the WAF is on, each function's requests and GB-seconds at its
    MemorySize, its DynamoDB units, S3 puts and SNS publishes (a KMS data key each: the topic is
    encrypted, the bucket uses a bucket key), each table index's writes, its log bytes ingested and kept
    LogRetentionDays, the archive kept its lifecycle (or Object Lock) days, the items and their backups a
    month, 5% traced."""
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()} | overrides
    log_days = Decimal(values["LogRetentionDays"])

    def logs(bytes_per_delivery: Decimal) -> Decimal:
        gigabytes = bytes_per_delivery * MILLION / GB
        return _price("logs_ingestion", gigabytes) + _price(
            "logs_storage", gigabytes * log_days / DAYS_PER_MONTH
        )

    total = _price("apigateway_rest_requests", MILLION)
    if values["WafEnabled"] == "true":
        total += _price("waf_requests", MILLION)
    if values["ApiAccessLogging"] == "ENABLED":
        total += logs(MEASURED.api_access_log_bytes)
    archive_days = Decimal(values["AuditRetentionDays"]) + Decimal(values["AuditNoncurrentRetentionDays"])
    if values["AuditObjectLockMode"] != "NONE":
        archive_days = max(archive_days, Decimal(values["AuditObjectLockRetentionDays"]))
    scheduled = Template(template).scheduled_functions()  # run by the month, not by deliveries
    functions = {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and k not in scheduled
    }
    assert set(functions) == set(MEASURED.functions)
    for logical_id, function in functions.items():
        measured = MEASURED.functions[logical_id]
        invocations = measured.invocations * MILLION
        memory_gb = Decimal(function["Properties"]["MemorySize"]) / 1024
        billed_seconds = Decimal(math.ceil(measured.duration_ms)) / 1000
        puts = measured.requests_of("s3.PutObject") * MILLION
        total += _price("lambda_arm64_requests", invocations)
        total += _price("lambda_arm64_gb_seconds", invocations * billed_seconds * memory_gb)
        total += _price("dynamodb_on_demand_writes", measured.dynamodb_write_units * MILLION)
        total += _price("dynamodb_on_demand_reads", measured.dynamodb_read_units * MILLION)
        total += _price("s3_put_requests", puts)
        total += _price(
            "s3_standard_storage", measured.s3_put_bytes * MILLION / GB * archive_days / DAYS_PER_MONTH
        )
        total += _price("sns_publishes", measured.sns_publish_requests * MILLION)
        total += _price("kms_requests", measured.sns_publish_requests * MILLION)
        total += logs(measured.log_bytes)
    for logical_id, table in template["Resources"].items():
        if table["Type"] == "AWS::DynamoDB::Table":  # each index written again, at most once per table write
            indexes = len(table["Properties"].get("GlobalSecondaryIndexes", []))
            units = sum(
                m.dynamodb_write_units_by_table.get(logical_id, 0) for m in MEASURED.functions.values()
            )
            total += _price("dynamodb_on_demand_writes", units * indexes * MILLION)
    stored = MEASURED.dynamodb_stored_bytes * MILLION / GB
    total += _price("dynamodb_storage", stored) + _price("dynamodb_pitr", stored)
    return total + _price("xray_traces_recorded", Decimal("0.05") * MILLION)


@pytest.mark.parametrize("parameter_file", ["dev.json", "prod.json"])
def test_the_cost_per_million_deliveries_is_the_sum_of_what_a_delivery_does(parameter_file: str) -> None:
    template = committed_template()
    overrides = load_parameter_file(paths.PARAMS / parameter_file, template)

    result = estimate(template, overrides, PRICES, MEASURED)

    assert result.per_million_deliveries_usd.quantize(PRECISION) == recomputed_per_million(
        template, overrides
    ).quantize(PRECISION)
    assert all(
        line.usd == line.quantity * line.price.usd / line.price.for_quantity for line in result.per_million
    )


def test_the_two_parameter_files_cost_differently_where_they_differ() -> None:
    template = committed_template()
    dev, prod = (
        estimate(template, load_parameter_file(paths.PARAMS / name, template), PRICES, MEASURED)
        for name in ("dev.json", "prod.json")
    )
    assert dev.per_million_deliveries_usd != prod.per_million_deliveries_usd
    assert set(moved_lines(dev, prod, TRAFFIC)) == {
        f"CloudWatch Logs: {what} stored"
        for what in (
            "API access log",
            "ReceiverFunction logs",
            "ProcessorFunction logs",
            "NotifierFunction logs",
            "ReconcilerFunction logs",
        )
    } | {"S3: AuditBucket storage"}


def test_the_fixed_month_holds_each_billable_resource_of_the_template() -> None:
    template = committed_template()
    result = estimate(template, {}, PRICES, MEASURED)
    resources = template["Resources"]
    alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    rules = resources["WebAcl"]["Properties"]["Rules"]
    unconditional_rules = [rule for rule in rules if "Fn::If" not in rule]

    fixed = {f"{line.service}: {line.item}": line.quantity for line in result.fixed}

    assert fixed["KMS: key StackKey"] == 1
    assert fixed["Secrets Manager: secret WebhookSecret"] == 1
    assert fixed["WAF: web ACL WebAcl"] == 1
    assert fixed["WAF: rules of WebAcl"] == len(unconditional_rules)  # no allow-list by default
    assert fixed["CloudWatch: alarm metrics"] == len(alarms)
    assert result.monthly_fixed_usd == sum(line.usd for line in result.fixed)


def _estimate_of(config: Any, overrides: dict[str, str] | None = None) -> Estimate:
    template = json.loads(render(build_template(config)))
    return estimate(template, overrides or {}, PRICES, MEASURED)


def test_more_memory_moves_only_that_functions_compute() -> None:
    processor = CONFIG_IN_FORCE.processor
    bigger = dataclasses.replace(
        CONFIG_IN_FORCE,
        processor=FunctionSettings(processor.memory_mb * 2, processor.timeout_seconds),
        today=date(2026, 11, 23),
    )
    before, after = _estimate_of(CONFIG_IN_FORCE), _estimate_of(bigger)

    assert moved_lines(before, after, TRAFFIC) == ("Lambda: ProcessorFunction compute",)
    (line,) = (line for line in after.per_million if line.item == "ProcessorFunction compute")
    (old,) = (line for line in before.per_million if line.item == "ProcessorFunction compute")
    assert line.quantity == 2 * old.quantity


def test_longer_log_retention_moves_only_the_stored_logs() -> None:
    template = committed_template()
    allowed = template["Parameters"]["LogRetentionDays"]["AllowedValues"]
    default = template["Parameters"]["LogRetentionDays"]["Default"]
    longer = str(next(days for days in allowed if int(days) > int(default)))
    before = estimate(template, {}, PRICES, MEASURED)
    after = estimate(template, {"LogRetentionDays": longer}, PRICES, MEASURED)

    moved = moved_lines(before, after, TRAFFIC)

    assert moved
    assert all(re.fullmatch(r"CloudWatch Logs: .* stored", line) for line in moved)
    lines = before.fixed + before.per_million
    assert len(moved) == sum(
        1 for line in lines if line.service == "CloudWatch Logs" and line.item.endswith(" stored")
    )


def test_turning_the_waf_off_removes_exactly_its_lines() -> None:
    template = committed_template()
    before = estimate(template, {}, PRICES, MEASURED)
    after = estimate(template, {"WafEnabled": "false"}, PRICES, MEASURED)

    assert set(moved_lines(before, after, TRAFFIC)) == {
        "WAF: web ACL WebAcl",
        "WAF: rules of WebAcl",
        "WAF: requests inspected",
        "CloudWatch: alarm metrics",  # the blocked-requests alarm goes with it
    }
    assert not [line for line in after.fixed + after.per_million if line.service == "WAF"]
    (alarms,) = (line for line in after.fixed if line.item == "alarm metrics")
    assert alarms.quantity == sum(
        1
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and resource.get("Condition") != "HasWaf"
    )


def test_the_sensitivity_ranks_the_changes_by_how_much_they_move_the_month() -> None:
    movements = sensitivity(committed_template(), {}, PRICES, MEASURED, TRAFFIC)

    names = [movement.variant.name for movement in movements]
    assert {"memory doubled", "WAF off", "X-Ray off"} <= set(names)
    assert [abs(m.delta_usd) for m in movements] == sorted(
        (abs(m.delta_usd) for m in movements), reverse=True
    )
    (waf,) = (movement for movement in movements if movement.variant.name == "WAF off")
    assert waf.delta_usd < 0


def test_every_price_names_its_aws_page_and_the_day_it_was_checked() -> None:
    for price in PRICES.values():
        assert price.source.startswith("https://aws.amazon.com/"), price.key
        assert date.fromisoformat(price.checked), price.key
        assert price.verified, price.key
        assert price.usd > 0, price.key
        assert price.for_quantity > 0, price.key


def test_an_index_on_a_table_adds_its_writes_and_nothing_else() -> None:
    template = committed_template()
    indexed = copy.deepcopy(template)
    table = indexed["Resources"]["TransactionsTable"]["Properties"]
    table["AttributeDefinitions"].append({"AttributeName": "received_at", "AttributeType": "S"})
    existing = list(table.get("GlobalSecondaryIndexes", []))
    table["GlobalSecondaryIndexes"] = [
        *existing,
        {
            "IndexName": "ByTime",
            "KeySchema": [{"AttributeName": "received_at", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        },
    ]
    before, after = (estimate(t, {}, PRICES, MEASURED) for t in (template, indexed))

    assert moved_lines(before, after, TRAFFIC) == ("DynamoDB: writes to TransactionsTable's indexes",)
    (line,) = (line for line in after.per_million if line.item == "writes to TransactionsTable's indexes")
    written = sum(
        share.dynamodb_write_units_by_table.get("TransactionsTable", 0)
        for share in MEASURED.functions.values()
    )
    assert line.quantity == written * (len(existing) + 1) * MILLION


def _scheduled(template: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """The scheduled function's logical id, its properties, and the parameter that sets its rate."""
    (schedule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    (logical_id, _) = schedule["Properties"]["Target"]["Arn"]["Fn::GetAtt"]
    rate_parameter = schedule["Properties"]["ScheduleExpression"]["Fn::If"][1]["Ref"]
    return logical_id, template["Resources"][logical_id]["Properties"], rate_parameter


@pytest.mark.parametrize(("rate", "runs"), [("rate(15 minutes)", 2920), ("rate(1 hour)", 730), ("off", 0)])
def test_a_scheduled_function_costs_its_runs_a_month_at_the_measured_steady_run(rate: str, runs: int) -> None:
    template = committed_template()
    logical_id, function, rate_parameter = _scheduled(template)
    run = MEASURED.scheduled_runs[logical_id]
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    log_days = Decimal(values["LogRetentionDays"])

    result = estimate(template, {rate_parameter: rate}, PRICES, MEASURED)

    lines = {line.item: line for line in result.fixed if logical_id in line.item}
    assert not any(logical_id in line.item for line in result.per_million)
    if not runs:
        assert lines == {}
        return
    billed_seconds = Decimal(math.ceil(run.duration_ms)) / 1000  # each run billed to the next 1 ms
    log_gigabytes = run.log_bytes * runs / GB
    expected: dict[str, Decimal | int] = {
        f"{logical_id} scheduled runs": runs,
        f"{logical_id} compute": runs * billed_seconds * Decimal(function["MemorySize"]) / 1024,
        f"{logical_id} scheduled reads of the secret": runs
        * run.requests_of("secrets-manager.GetSecretValue"),
        f"{logical_id} scheduled writes": runs * run.dynamodb_write_units,
        f"{logical_id} scheduled reads": runs * run.dynamodb_read_units,
        f"{logical_id} logs ingested": log_gigabytes,
        f"{logical_id} logs stored": log_gigabytes * log_days / DAYS_PER_MONTH,
        f"metrics {logical_id} emits": len(run.custom_metrics),
    }
    # To PRECISION: the two sides divide in another order, which Decimal may round in its 28th digit.
    assert {item: line.quantity.quantize(PRECISION) for item, line in lines.items()} == {
        item: Decimal(quantity).quantize(PRECISION) for item, quantity in expected.items()
    }
    assert billed_seconds < function["Timeout"]


def test_a_scheduled_function_never_measured_is_billed_its_timeout_each_run_labelled_an_upper_bound() -> None:
    template = committed_template()
    logical_id, function, _ = _scheduled(template)
    unmeasured = dataclasses.replace(MEASURED, scheduled_runs={})

    result = estimate(template, {}, PRICES, unmeasured)

    lines = {line.item: line for line in result.fixed if logical_id in line.item}
    runs = lines[f"{logical_id} scheduled runs"].quantity
    upper_bound = lines[f"{logical_id} compute (upper bound)"]
    assert upper_bound.quantity == runs * function["Timeout"] * Decimal(function["MemorySize"]) / 1024
    assert "no run measured" in upper_bound.basis
    assert set(lines) == {f"{logical_id} scheduled runs", f"{logical_id} compute (upper bound)"}
