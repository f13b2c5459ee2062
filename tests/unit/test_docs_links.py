"""Every relative link in README.md and docs/*.md resolves: to a file in the repository and, with a
#fragment, to a heading of that Markdown file (GitHub's anchors). Links inside code are not links."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Final

import pytest

from tapstack import paths

ROOT: Final = paths.REPOSITORY
PAGES: Final = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _prose(markdown: str) -> str:
    """The text outside fenced blocks and code spans, where a link is a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: link text only, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, … as GitHub numbers them."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        slug = anchor(heading)
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found


def links(markdown: str) -> list[str]:
    return _LINK.findall(_prose(markdown))


def broken_links(markdown: str, page: Path) -> list[str]:
    """Each relative link of markdown, read as the page at page, that does not resolve, with why."""
    problems: list[str] = []
    for target in links(markdown):
        if _SCHEME.match(target):
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
            continue
        relative = resolved.relative_to(ROOT).as_posix()
        if resolved != page and not resolved.exists():
            problems.append(f"{target}: no such file {relative}")
            continue
        if fragment and resolved.suffix == ".md":
            text = markdown if resolved == page else resolved.read_text(encoding="utf-8")
            if fragment not in anchors(text):
                problems.append(f"{target}: {relative} has no heading #{fragment}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[page.relative_to(ROOT).as_posix() for page in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page.read_text(encoding="utf-8"), page) == []


def test_the_pages_are_found_and_link_to_each_other() -> None:
    readme = ROOT / "README.md"
    assert len(PAGES) > 1
    targets = links(readme.read_text(encoding="utf-8"))
    linked = {(readme.parent / target.partition("#")[0]).resolve() for target in targets}
    assert [page for page in PAGES if page != readme and page not in linked] == []


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Functions in the organisation's VPC", "functions-in-the-organisations-vpc"),
        ("Customising the template (`tapstack.toml`)", "customising-the-template-tapstacktoml"),
        (
            "Idempotency: nothing is lost, nothing is stored twice",
            "idempotency-nothing-is-lost-nothing-is-stored-twice",
        ),
        (
            "The stored item and the published message, version 2",
            "the-stored-item-and-the-published-message-version-2",
        ),
    ],
)
def test_anchors_are_github_s(heading: str, expected: str) -> None:
    assert anchor(heading) == expected


def test_a_broken_link_and_a_missing_anchor_are_reported() -> None:
    page = ROOT / "docs" / "draft.md"
    text = (
        "# Draft\n\n[a](no-such-page.md) [b](development.md#no-such-heading) [c](#draft) [d](#nowhere)\n"
        "`[e](ignored.md)` [f](https://example.com) [g](../README.md#documentation)\n"
        "```\n[h](ignored-too.md)\n```\n"
    )
    assert broken_links(text, page) == [
        "no-such-page.md: no such file docs/no-such-page.md",
        "development.md#no-such-heading: docs/development.md has no heading #no-such-heading",
        "#nowhere: docs/draft.md has no heading #nowhere",
    ]
