"""Which settings move the cost most: the estimate again with one setting changed, for each setting that
plausibly changes, and the lines that moved.

A deploy-time parameter is changed in the parameter values; a generation setting (memory, tracing) is
changed in a copy of the template as generating it with that setting would write it. Measured durations
are kept as measured: doubling the memory doubles the GB-seconds of the same duration (an upper bound
for these functions, which mostly wait on AWS requests; a CPU-bound one would also run faster).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tapstack.cfn.model import Template
from tapstack.cost.estimate import MILLION, Estimate, StackReading, estimate
from tapstack.cost.measurements import Measurements
from tapstack.cost.prices import Price

Change = Callable[[dict[str, Any], dict[str, str]], None]
"""Changes a copy of the template document and of the parameter values, in place."""


@dataclass(frozen=True)
class Variant:
    name: str
    how: str
    change: Change


@dataclass(frozen=True)
class Movement:
    """What one variant does to the month's total at the given traffic."""

    variant: Variant
    total_usd: Decimal
    delta_usd: Decimal
    moved: tuple[str, ...]
    """The lines whose cost changed (service: item), those that appear or go included."""


def _functions(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The functions' Properties, as the document holds them (a copy's, to change)."""
    functions = Template(document).resources_of_type("AWS::Lambda::Function")
    return [
        function.definition["Properties"] for function in functions if "Properties" in function.definition
    ]


def _double_memory(document: dict[str, Any], _: dict[str, str]) -> None:
    for function in _functions(document):
        function["MemorySize"] = int(function.get("MemorySize", 128)) * 2


def _tracing_off(document: dict[str, Any], _: dict[str, str]) -> None:
    for function in _functions(document):
        function["TracingConfig"] = {"Mode": "PassThrough"}
    for stage in Template(document).resources_of_type("AWS::ApiGateway::Stage"):
        document["Resources"][stage.logical_id].setdefault("Properties", {})["TracingEnabled"] = False


def _set(name: str, value: str) -> Change:
    def change(_: dict[str, Any], parameters: dict[str, str]) -> None:
        parameters[name] = value

    return change


def _longer_retention(stack: StackReading, current: str) -> str | None:
    """The first allowed LogRetentionDays at least three times the current one (30 -> 90)."""
    allowed = sorted(
        int(value) for value in stack.template.parameters["LogRetentionDays"].get("AllowedValues", [])
    )
    longer = [days for days in allowed if days >= 3 * int(current)]
    return str(longer[0]) if longer else None


def variants(document: Mapping[str, Any], parameters: Mapping[str, str]) -> list[Variant]:
    """The changes worth weighing for this template and these values (only those that change something)."""
    stack = StackReading(document, parameters)
    declared = stack.template.parameters
    value = {
        name: str(stack.resolver.resolve({"Ref": name})) for name in declared if "Default" in declared[name]
    }
    found = [
        Variant(
            "memory doubled",
            "each function's memory_mb setting (tapstack.toml) twice as large",
            _double_memory,
        )
    ]
    if "LogRetentionDays" in value and (longer := _longer_retention(stack, value["LogRetentionDays"])):
        current = value["LogRetentionDays"]
        found.append(
            Variant(
                f"log retention {current} -> {longer} days",
                f"LogRetentionDays={longer}",
                _set("LogRetentionDays", longer),
            )
        )
    if value.get("WafEnabled") == "true":
        found.append(Variant("WAF off", "WafEnabled=false", _set("WafEnabled", "false")))
    if value.get("ApiAccessLogging") == "ENABLED":
        found.append(
            Variant("API access logs off", "ApiAccessLogging=DISABLED", _set("ApiAccessLogging", "DISABLED"))
        )
    if "AuditRetentionDays" in value and int(value["AuditRetentionDays"]) > 365:
        found.append(
            Variant(
                f"audit retention {value['AuditRetentionDays']} -> 365 days",
                "AuditRetentionDays=365",
                _set("AuditRetentionDays", "365"),
            )
        )
    traced = any(
        function.get("TracingConfig", {}).get("Mode") == "Active" for function in _functions(document)
    )
    if traced:
        found.append(
            Variant(
                "X-Ray off", "not a setting today: TracingConfig PassThrough, stage tracing off", _tracing_off
            )
        )
    return found


def _line_costs(result: Estimate, deliveries: Decimal) -> dict[str, Decimal]:
    costs = {f"{line.service}: {line.item}": line.usd for line in result.fixed}
    for line in result.per_million:
        key = f"{line.service}: {line.item}"
        costs[key] = costs.get(key, Decimal(0)) + line.usd * deliveries / MILLION
    reservoir = result.reservoir_line(deliveries)
    if reservoir is not None:
        costs[f"{reservoir.service}: {reservoir.item}"] = reservoir.usd
    return costs


def moved_lines(before: Estimate, after: Estimate, deliveries: Decimal) -> tuple[str, ...]:
    """The lines whose cost at this traffic differs between two estimates."""
    old, new = _line_costs(before, deliveries), _line_costs(after, deliveries)
    return tuple(
        key for key in dict.fromkeys([*old, *new]) if old.get(key, Decimal(0)) != new.get(key, Decimal(0))
    )


def sensitivity(
    document: Mapping[str, Any],
    parameters: Mapping[str, str],
    prices: Mapping[str, Price],
    measured: Measurements,
    deliveries: Decimal,
) -> list[Movement]:
    """Each variant's month at this traffic against the estimate as given, the largest move first."""
    base = estimate(document, parameters, prices, measured)
    movements = []
    for variant in variants(document, parameters):
        changed_document, changed_parameters = copy.deepcopy(dict(document)), dict(parameters)
        variant.change(changed_document, changed_parameters)
        changed = estimate(changed_document, changed_parameters, prices, measured)
        total = changed.total_usd(deliveries)
        movements.append(
            Movement(
                variant, total, total - base.total_usd(deliveries), moved_lines(base, changed, deliveries)
            )
        )
    return sorted(movements, key=lambda movement: -abs(movement.delta_usd))
