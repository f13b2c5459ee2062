"""docs/rules.md is generated from the rules: each rule file gives a rule with the metadata the page
shows and a row in it, and `tapstack check` fails when the page no longer matches the rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.exits import ExitCode
from tapstack.generate import generate, load_settings
from tapstack.lint.rules.stack_destroyable import StackDestroyable
from tapstack.lint.rules_page import RULE_FILES, RULES_PAGE, RuleDocument, render_rules_page, rule_documents
from tests.support.rules import project_rules

RULE_SOURCES = sorted(paths.RULES.glob(RULE_FILES))
DOCUMENTS = rule_documents()


def documents_of(source: Path) -> list[RuleDocument]:
    return [document for document in DOCUMENTS if document.source == source]


def committed_rows() -> list[str]:
    """The rule ids of the table in the committed docs/rules.md, one per row."""
    return re.findall(r"^\| \[([EWI]\d+)\]\(#", RULES_PAGE.read_text(encoding="utf-8"), re.MULTILINE)


def test_the_page_describes_the_rules_cfn_lint_loads() -> None:
    assert {document.rule.id for document in DOCUMENTS} == {rule.id for rule in project_rules().values()}
    assert len(RULE_SOURCES) == len(DOCUMENTS)  # one rule a file


@pytest.mark.parametrize("source", RULE_SOURCES, ids=lambda source: source.name)
def test_every_rule_file_has_its_metadata_and_a_row_in_the_page(source: Path) -> None:
    (document,) = documents_of(source)
    rule = document.rule
    assert re.fullmatch(r"[EW]9\d{3}", rule.id)
    assert rule.shortdesc
    assert rule.description
    assert rule.tags
    assert rule.source_url.startswith("https://docs.aws.amazon.com/")
    # The module docstring opens with the id and what the rule checks, then says why.
    assert document.docstring.startswith(f"{rule.id}: ")
    assert "\n\n" in document.docstring.strip()
    assert committed_rows().count(rule.id) == 1


def test_a_rule_option_is_on_its_page() -> None:
    page = render_rules_page()
    assert "Options: `budget` (integer, default `900`)." in page.split("## E9041", 1)[1].split("\n## ", 1)[0]


def test_the_check_fails_when_the_page_no_longer_matches_the_rules(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(None, {})
    assert generate(settings, paths.TEMPLATE, check=True) == ExitCode.OK
    monkeypatch.setattr(StackDestroyable, "shortdesc", "Resources outlive the stack")
    capsys.readouterr()
    assert generate(settings, paths.TEMPLATE, check=True) == ExitCode.FAILED
    stderr = capsys.readouterr().err
    assert f"{RULES_PAGE}: differs from what the code generates" in stderr
    assert "+| [E9001](#e9001) | error | Resources outlive the stack |" in stderr
