"""`tapstack report` and `tapstack diagram` in process: write, check, refuse what they cannot read, say how to
install Graphviz."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.generate.report import render_report
from tests.support.report import COMMITTED_TEMPLATE


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "TapStack.json"
    shutil.copyfile(COMMITTED_TEMPLATE, copy)
    return copy


def test_writes_the_report_next_to_the_template_and_check_then_passes(
    template_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--template", str(template_copy)]) == ExitCode.OK
    report = template_copy.with_suffix(".md")
    assert report.read_text(encoding="utf-8").startswith("# What the template deploys\n")
    assert main(["report", "--template", str(template_copy), "--check"]) == ExitCode.OK
    assert "up to date" in capsys.readouterr().out


def test_check_names_a_stale_report_and_shows_the_difference(
    template_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "stale.md"
    current = render_report(json.loads(template_copy.read_text(encoding="utf-8")))
    stale.write_text(current.replace("| `ApiId` |", "| `OldApiId` |"), encoding="utf-8")
    assert (
        main(["report", "--template", str(template_copy), "--output", str(stale), "--check"])
        == ExitCode.FAILED
    )
    err = capsys.readouterr().err
    assert f"{stale}: differs" in err
    assert "-| `OldApiId` |" in err
    assert "+| `ApiId` |" in err


def test_check_reports_a_missing_report(template_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--template", str(template_copy), "--check"]) == ExitCode.FAILED
    assert "missing" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_an_unreadable_template_is_refused(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(content, encoding="utf-8")
    assert main(["report", "--template", str(broken)]) == ExitCode.USAGE
    assert str(broken) in capsys.readouterr().err
    assert not broken.with_suffix(".md").exists()


def test_svg_without_graphviz_says_how_to_install_it(
    template_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    svg = tmp_path / "TapStack.svg"
    assert main(["diagram", "--template", str(template_copy), "--output", str(svg)]) == ExitCode.USAGE
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert not svg.exists()
