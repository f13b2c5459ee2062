"""docs/rules.md, generated from the rules themselves, as cfn-lint generates its own rules page.

Each rule file in tapstack/lint/rules/ (the files cfn-lint's `--append-rules` loads) gives one rule: its
metadata (id, shortdesc, description, source_url, tags, the options of its config_definition) makes its
row in the table, and its module docstring, which says what it checks and which earlier failure it
prevents, makes its section. `tapstack generate` writes the page and `tapstack check` fails when it
differs (tapstack.generate.generated_files).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tapstack import paths
from tapstack.exits import CommandError

RULES_PAGE: Final = paths.REPOSITORY / "docs" / "rules.md"
# The rule files cfn-lint loads from a directory: a name starting with a letter or digit (cfnlint.helpers).
RULE_FILES: Final = "[A-Za-z1-9]*.py"


@dataclass(frozen=True)
class RuleDocument:
    """One rule as the page shows it: the rule and the module that defines it."""

    rule: Any  # the cfn-lint rule, instantiated: its options are set in __init__
    source: Path
    docstring: str


def rule_documents() -> list[RuleDocument]:
    """Every rule of the rule files, ordered by id."""
    from cfnlint.rules import CloudFormationLintRule  # noqa: PLC0415 (costly: only the page and lint pay)

    documents = []
    for source in sorted(paths.RULES.glob(RULE_FILES)):
        module = importlib.import_module(f"{__package__}.rules.{source.stem}")
        rules = [
            value()
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, CloudFormationLintRule)
            and value.__module__ == module.__name__
        ]
        if not rules:
            raise CommandError(
                f"{source}: defines no cfn-lint rule: add its CloudFormationLintRule subclass, or move the "
                "file out of the rules' folder"
            )
        documents += [RuleDocument(rule, source, module.__doc__ or "") for rule in rules]
    return sorted(documents, key=lambda document: str(document.rule.id))


def render_rules_page() -> str:
    """The Markdown of docs/rules.md: a table of every rule, then a section per rule."""
    documents = rule_documents()
    lines = [
        "# TapStack's cfn-lint rules",
        "",
        "<!-- Generated from tapstack/lint/rules/ by `tapstack generate` (make template); `tapstack check`",
        "fails when it is out of date. Edit the rule, not this page. -->",
        "",
        "cfn-lint runs these rules beside its own wherever the project runs it: `tapstack lint` (with",
        "checkov, Control Tower's proactive controls and cdk-nag), `make template` and the pre-commit hook",
        "(`tapstack lint --only cfn-lint`). A rule's option is set with `tapstack lint -x RULE:key=value`.",
        "",
        "| Rule | Severity | Checks | Tags |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| [{document.rule.id}](#{document.rule.id.lower()}) | {document.rule.severity} "
        f"| {_text(document.rule.shortdesc)} | {_text(', '.join(document.rule.tags))} |"
        for document in documents
    ]
    for document in documents:
        lines += ["", *_section(document)]
    return "\n".join(lines) + "\n"


def _section(document: RuleDocument) -> list[str]:
    rule = document.rule
    source = document.source.relative_to(paths.REPOSITORY).as_posix()
    # The docstring's first paragraph is `ID: what it checks`; the rest says why, and what it prevents.
    _, _, explanation = document.docstring.strip().partition("\n\n")
    lines = [
        f"## {rule.id}",
        "",
        f"**{_text(rule.shortdesc.rstrip('.'))}.** {_text(rule.description.rstrip('.'))}.",
    ]
    if explanation:
        lines += ["", explanation.strip()]
    options = [
        f"`{name}` ({definition['type']}, default `{definition['default']}`)"
        for name, definition in rule.config_definition.items()
    ]
    if options:
        lines += ["", f"Options: {', '.join(options)}."]
    lines += [
        "",
        f"Reference: <{rule.source_url}>. Source: [{source}](../{source}). Tags: {', '.join(rule.tags)}.",
    ]
    return lines


def _text(text: str) -> str:
    """Plain text as Markdown that shows it: `<function name>` is no HTML tag, `|` no column break."""
    return text.replace("<", "&lt;").replace("|", "\\|")
