"""What every linter `tapstack lint` runs reports, in one shape: a finding at a line of a template.

`Finding` is one entry of the listing; `run_tool` runs a linter and `parse_json` reads its report,
raising `CannotLintError` (exit status 2) when it cannot run or says nothing readable; `line_of`
finds where a path into a template starts in its file.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
