"""`tapstack report` and `tapstack diagram` as a developer or `make` runs them: the console script, the SVG
drawn by Graphviz. (In-process tests of both commands: tests/unit/generate/test_report_command.py.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tapstack.cli import main
from tapstack.exits import ExitCode
from tests.support.report import COMMITTED_TEMPLATE, ROOT


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "TapStack.json"
    shutil.copyfile(COMMITTED_TEMPLATE, copy)
    return copy


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz `dot` is not installed (apt-get install graphviz)"
)
def test_svg_draws_the_graph_with_graphviz(template_copy: Path, tmp_path: Path) -> None:
    svg = tmp_path / "diagram" / "TapStack.svg"
    assert main(["diagram", "--template", str(template_copy), "--output", str(svg)]) == ExitCode.OK
    drawing = svg.read_text(encoding="utf-8")
    assert "<svg" in drawing
    for node in ("ReceiverFunction", "ProcessorDeadLetterQueue", "StackKey"):
        assert f">{node}</text>" in drawing
    # The callers, the routes inside the API, the alarms' cluster, what the key encrypts, and the legend.
    for text in ("Stripe", "PayPal", "Internal clients", "POST /transactions", "Api (RestApi)"):
        assert f">{text}</text>" in drawing, text
    for text in ("CloudWatch alarms", "encrypts logs of", "5XXError", "Legend"):
        assert f">{text}</text>" in drawing, text
    assert re.search(r">\W?failure path</text>", drawing)  # the legend's row, after a no-break space
    assert re.search(r'stroke="#c0392b"[^>]*stroke-dasharray', drawing)  # the failure path, dashed red
    assert not template_copy.with_suffix(".md").exists()


def test_runs_as_the_console_script_from_the_repository(template_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.md"
    result = subprocess.run(
        [Path(sys.executable).parent / "tapstack", "report", "--template", template_copy, "--output", output],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == ExitCode.OK, result.stderr
    assert f"wrote {output}" in result.stdout
    assert "```mermaid" in output.read_text(encoding="utf-8")
