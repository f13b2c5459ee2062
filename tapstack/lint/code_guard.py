"""Static guardrails for the handler code: money never becomes a float.

TG001  A JSON parse without `parse_float=`: plain `json.loads` turns 99.99 into a float, which boto3
       refuses for DynamoDB ("Float types are not supported") and which is inexact anyway (seeds 000, 001).
TG002  A `float(...)` call, or a Decimal built from a float literal: the lossy fix the seeds called ideal
       (`float(transaction_data['amount'])` for json.dumps). A float that is not money says so on its line
       with `# not money: <what it is>`.

    tapstack guard [PATH ...]      (default: src/handlers)

Exits 1 and lists `path:line: ID message` for each finding; 0 when clean.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tapstack import paths
from tapstack.exits import ExitCode

DEFAULT_PATHS = [paths.HANDLERS_SOURCE]
NOT_MONEY_MARKER = "# not money:"
JSON_PARSERS = {"loads", "load"}


@dataclass(frozen=True, order=True)
class Finding:
    path: Path
    line: int
    rule_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule_id} {self.message}"


def _is_json_parse(call: ast.Call) -> bool:
    function = call.func
    return (
        isinstance(function, ast.Attribute)
        and function.attr in JSON_PARSERS
        and isinstance(function.value, ast.Name)
        and function.value.id == "json"
    )


def _is_float_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, float)


def check_source(path: Path, source: str) -> list[Finding]:
    lines = source.splitlines()
    findings: list[Finding] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        marked = NOT_MONEY_MARKER in lines[node.lineno - 1]
        if _is_json_parse(node) and not any(keyword.arg == "parse_float" for keyword in node.keywords):
            findings.append(
                Finding(
                    path,
                    node.lineno,
                    "TG001",
                    "JSON parsed without parse_float=Decimal: numbers become floats",
                )
            )
        is_float_call = isinstance(node.func, ast.Name) and node.func.id == "float"
        is_decimal_of_float = (
            isinstance(node.func, ast.Name)
            and node.func.id == "Decimal"
            and any(map(_is_float_literal, node.args))
        )
        if (is_float_call and not marked) or is_decimal_of_float:
            findings.append(
                Finding(
                    path,
                    node.lineno,
                    "TG002",
                    "float in handler code: keep money Decimal (mark a non-money float with "
                    f"'{NOT_MONEY_MARKER} <what it is>')",
                )
            )
    return findings


def check_paths(paths: list[Path]) -> list[Finding]:
    files = sorted(file for path in paths for file in ([path] if path.is_file() else path.rglob("*.py")))
    return sorted(
        finding for file in files for finding in check_source(file, file.read_text(encoding="utf-8"))
    )


def guard(sources: list[Path]) -> ExitCode:
    """Print every finding under sources; FAILED when there is any."""
    findings = check_paths(sources)
    for finding in findings:
        print(finding)
    if not findings:
        print("code guard: no float can reach the money path")
    return ExitCode.FAILED if findings else ExitCode.OK
