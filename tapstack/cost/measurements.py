"""The measured inputs of the cost (measurements.json beside this module, written by `make measure`):
what one delivery makes each function do on the local stack, and what one steady-state run of a
scheduled function does. Numbers are read as Decimal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tapstack import paths
from tapstack.exits import CommandError


class MeasurementsError(CommandError):
    """Measurements that cannot be read, or that do not cover the template: re-measure."""


@dataclass(frozen=True)
class FunctionMeasurement:
    """One function's share of a delivery."""

    invocations: Decimal
    duration_ms: Decimal
    log_bytes: Decimal
    requests: Mapping[str, Decimal]
    dynamodb_write_units: Decimal
    dynamodb_write_units_by_table: Mapping[str, Decimal]
    """By the table's logical id."""
    dynamodb_read_units: Decimal
    s3_put_bytes: Decimal
    sns_publish_requests: Decimal

    def requests_of(self, operation: str) -> Decimal:
        """How many `service.Operation` requests it makes per delivery."""
        return self.requests.get(operation, Decimal(0))


@dataclass(frozen=True)
class ScheduledRunMeasurement:
    """One steady-state run of a scheduled function (every event of its window stored: nothing missing)."""

    measured_on: str
    duration_ms: Decimal
    log_bytes: Decimal
    requests: Mapping[str, Decimal]
    dynamodb_write_units: Decimal
    dynamodb_read_units: Decimal
    custom_metrics: tuple[str, ...]

    def requests_of(self, operation: str) -> Decimal:
        """How many `service.Operation` requests a run makes."""
        return self.requests.get(operation, Decimal(0))


def scheduled_run_measurement(entry: Mapping[str, Any]) -> ScheduledRunMeasurement:
    """One scheduled function's entry of the measurements file."""
    return ScheduledRunMeasurement(
        measured_on=str(entry["measured_on"]),
        duration_ms=Decimal(entry["duration_ms"]),
        log_bytes=Decimal(entry["log_bytes_per_run"]),
        requests={name: Decimal(count) for name, count in entry["requests_per_run"].items()},
        dynamodb_write_units=Decimal(entry["dynamodb_write_units_per_run"]),
        dynamodb_read_units=Decimal(entry["dynamodb_read_units_per_run"]),
        custom_metrics=tuple(entry["custom_metrics"]),
    )


@dataclass(frozen=True)
class Measurements:
    label: str
    measured_on: str
    deliveries: int
    functions: Mapping[str, FunctionMeasurement]
    api_access_log_bytes: Decimal
    dynamodb_stored_bytes: Decimal
    custom_metrics: tuple[str, ...]
    scheduled_runs: Mapping[str, ScheduledRunMeasurement] = field(default_factory=dict)
    """By the scheduled function's logical id; a function without one is costed at its Timeout."""

    def of(self, logical_id: str) -> FunctionMeasurement:
        if logical_id not in self.functions:
            raise MeasurementsError(
                f"no measurement of {logical_id} (measured: {', '.join(self.functions)}): "
                "re-measure with `make measure`"
            )
        return self.functions[logical_id]


def function_measurement(entry: Mapping[str, Any]) -> FunctionMeasurement:
    """One function's entry of the measurements file."""
    return FunctionMeasurement(
        invocations=Decimal(entry["invocations_per_delivery"]),
        duration_ms=Decimal(entry["duration_ms"]),
        log_bytes=Decimal(entry["log_bytes_per_delivery"]),
        requests={name: Decimal(count) for name, count in entry["requests_per_delivery"].items()},
        dynamodb_write_units=Decimal(entry["dynamodb_write_units_per_delivery"]),
        dynamodb_write_units_by_table={
            table: Decimal(units)
            for table, units in entry["dynamodb_write_units_per_delivery_by_table"].items()
        },
        dynamodb_read_units=Decimal(entry["dynamodb_read_units_per_delivery"]),
        s3_put_bytes=Decimal(entry["s3_put_bytes_per_delivery"]),
        sns_publish_requests=Decimal(entry["sns_publish_requests_per_delivery"]),
    )


def load_measurements(path: Path = paths.COST_MEASUREMENTS) -> Measurements:
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        return Measurements(
            label=str(document["label"]),
            measured_on=str(document["measured_on"]),
            deliveries=int(document["deliveries"]),
            functions={name: function_measurement(entry) for name, entry in document["functions"].items()},
            api_access_log_bytes=Decimal(document["api_access_log_bytes_per_delivery"]),
            dynamodb_stored_bytes=Decimal(document["dynamodb_stored_bytes_per_delivery"]),
            custom_metrics=tuple(document["custom_metrics"]),
            scheduled_runs={
                name: scheduled_run_measurement(entry)
                for name, entry in document.get("scheduled_runs", {}).items()
            },
        )
    except OSError as error:
        raise MeasurementsError(
            f"cannot read {path}: {error.strerror}; measure with `make measure`"
        ) from error
    except (ValueError, KeyError, TypeError, ArithmeticError) as error:
        raise MeasurementsError(
            f"{path} is not a measurements file ({error!r}): write it again with `make measure`"
        ) from error
