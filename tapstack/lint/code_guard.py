"""Static guardrails for the handler code: money never becomes a float.

TG001  A JSON parse without `parse_float=`: plain `json.loads` turns 99.99 into a float, which boto3
       refuses for DynamoDB ("Float types are not supported") and which is inexact anyway (seeds 000, 001).
TG002  A `float(...)` call, or a Decimal built from a float literal: the lossy fix the seeds called ideal
       (`float(transaction_data['amount'])` for json.dumps). A float that is not money says so on its line
       with `# not money: <what it is>`.

    tapstack guard [PATH ...]      (default: src/handlers)

Exits 1 and lists `path:line: ID message` for each finding; 0 when clean. Each message says what to do.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Final

from tapstack import paths
from tapstack.exits import ExitCode
from tapstack.lint.findings import Finding, Report

NAME: Final = "code-guard"
DEFAULT_PATHS = [paths.HANDLERS_SOURCE]
NOT_MONEY_MARKER = "# not money:"
JSON_PARSERS = {"loads", "load"}


class CodeGuard:
    """The guard over Python source: files, and the .py files under directories."""

    name: ClassVar[str] = NAME
    tools: ClassVar[tuple[str, ...]] = (NAME,)

    def lint(self, files: Sequence[Path]) -> Report:
        sources = sorted(
            file for path in files for file in ([path] if path.is_file() else path.rglob("*.py"))
        )
        return Report(
            {source: check_source(source, source.read_text(encoding="utf-8")) for source in sources}
        )


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


def _finding(line: int, rule_id: str, message: str) -> Finding:
    return Finding(line, NAME, rule_id, resource="", property_path="", message=message, advice="")


def check_source(path: Path, source: str) -> list[Finding]:
    """The findings in `source`, read from `path`, ordered by line."""
    lines = source.splitlines()
    findings: list[Finding] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        marked = NOT_MONEY_MARKER in lines[node.lineno - 1]
        if _is_json_parse(node) and not any(keyword.arg == "parse_float" for keyword in node.keywords):
            findings.append(
                _finding(
                    node.lineno, "TG001", "JSON parsed without parse_float=Decimal: numbers become floats"
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
                _finding(
                    node.lineno,
                    "TG002",
                    "float in handler code: keep money Decimal (mark a non-money float with "
                    f"'{NOT_MONEY_MARKER} <what it is>')",
                )
            )
    return sorted(findings)


def guard(sources: list[Path]) -> ExitCode:
    """Print every finding under sources, `path:line: ID message`; FAILED when there is any."""
    report = CodeGuard().lint(sources)
    for path, findings in report.findings.items():
        for finding in findings:
            print(f"{path}:{finding.line}: {finding.rule_id} {finding.message}")
    if not any(report.findings.values()):
        print("code guard: no float can reach the money path")
        return ExitCode.OK
    return ExitCode.FAILED
