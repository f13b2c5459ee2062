"""The one interface of every tool the lint room runs, and the one shape of what it reports.

A tool's adapter (cfn_lint, checkov, policy_tools, code_guard) is a `Linter`: run on files, it gives a
`Report`, its `Finding`s by file, each at a line with what to do about it (the fix, or how to suppress
it with a reason), apart from the ones the file itself answers (`Explained`, `Report.suppressed`).
`run_tool` runs a tool's process and `parse_json` reads its report, raising `CannotLintError` (exit
status 2) when it cannot run or says nothing readable; `line_of` finds where a path into a template
starts in its file.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from tapstack import paths


class CannotLintError(Exception):
    """The template or a linter is unusable, so no verdict can be given (exit status 2)."""


@dataclass(frozen=True, order=True)
class Finding:
    line: int
    tool: str
    rule_id: str
    resource: str
    property_path: str
    message: str
    advice: str

    def render(self, template: Path) -> str:
        where = self.resource + (f" > {self.property_path}" if self.property_path else "")
        text = f"{template}:{self.line}: {self.rule_id} [{self.tool}] {where}\n    {self.message}"
        return f"{text}\n    {self.advice}" if self.advice else text


@dataclass(frozen=True, order=True)
class Explained:
    """A finding the template answers, and how: for a Control Tower control, the parameter values that
    meet it, why the stack cannot, or that the hook, which sees resolved properties, would pass it."""

    explanation: str
    finding: Finding


@dataclass(frozen=True)
class Report:
    """What one tool found in the files it was given: the findings left to answer, by file and ordered
    by line, and those the files answer."""

    findings: dict[Path, list[Finding]]
    explained: dict[Path, list[Explained]] = field(default_factory=dict)
    # Findings a suppression with a reason in the template's Metadata answered, as the tool reports them.
    suppressed: list[Mapping[str, Any]] = field(default_factory=list)


class Linter(Protocol):
    """A tool the lint room runs: on files, a Report."""

    name: ClassVar[str]  # the adapter's, as `tapstack lint --only cfn-lint` names it
    tools: ClassVar[tuple[str, ...]]  # the tools its findings name, as the listing counts them

    def lint(self, files: Sequence[Path]) -> Report: ...


class TemplateLinter(Linter, Protocol):
    """A Linter of CloudFormation templates, run by `tapstack lint` on the template as written and, when
    it lints resolved copies, on the template as each parameter file resolves it (after it, in order)."""

    title: ClassVar[str]  # what the listing says ran, e.g. "checkov"
    lints_resolved_copies: ClassVar[bool]


def run_tool(command: Sequence[str | Path]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 (the project's own linters)
            command, capture_output=True, text=True, check=False, cwd=paths.REPOSITORY
        )
    except OSError as error:
        raise CannotLintError(f"cannot run {command[0]}: {error}") from error


def parse_json(tool: str, completed: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise CannotLintError(
            f"{tool} exited {completed.returncode} without a JSON report: {completed.stderr.strip()[-2000:]}"
        ) from error


def line_of(decoded: Any, path: Sequence[str | int]) -> int:
    """The 1-based line where the deepest node along `path` that the template has starts; 1 when not
    even the first step is there. `decoded` is cfn-lint's `decode` of the file, whose nodes carry
    their positions."""
    line, node = 1, decoded
    for step in path:
        if isinstance(node, dict):
            key = next((key for key in node if key == step), None)
            if key is None:
                break
            line, node = _start(key, line), node[key]
        elif isinstance(node, list) and isinstance(step, int | str) and str(step).isdigit():
            if int(step) >= len(node):
                break
            node = node[int(step)]
            line = _start(node, line)
        else:
            break
    return line


def _start(node: object, fallback: int) -> int:
    mark = getattr(node, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else fallback
