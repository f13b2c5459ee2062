"""Run the project's cfn-lint rules the way `cfn-lint --append-rules tapstack/lint/rules/` does, and read
fixture markers; CLEAN_TEMPLATE is a template every tool of `tapstack lint --raw-only` passes.

YAML fixtures mark each line where a match is expected with a trailing comment naming the rule ids
found there, `# expect: E9001` (repeat an id for several matches on one line). JSON has no comments,
so a JSON fixture lists its expected matches in `<fixture>.expect`, one `RULE_ID LINE` a line.
The rules are loaded with cfn-lint's own directory loader and run through its template runner, so a
rule that only works when imported as a package, or that raises (cfn-lint turns exceptions into
E0002), fails the tests.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path
from typing import Any

from cfnlint.config import ConfigMixIn
from cfnlint.decode import decode
from cfnlint.rules import Rules
from cfnlint.runner.template.runner import run_template_by_data

from tapstack import paths
from tests import support

ROOT = paths.REPOSITORY
RULES_DIRECTORY = paths.RULES
FIXTURES = support.FIXTURES / "rule-templates"
CLEAN_TEMPLATE = support.FIXTURES / "lint" / "clean.yaml"
_EXPECT_MARKER = re.compile(r"#\s*expect:\s*(?P<rule_ids>[A-Z0-9 ]+)$")

RuleLine = tuple[str, int]


@functools.cache
def project_rules() -> Any:
    return Rules.create_from_directory(str(RULES_DIRECTORY))


def run_project_rules(template: Path, configure_rules: dict[str, dict[str, Any]] | None = None) -> list[Any]:
    """cfn-lint `Match` objects of the project's rules (only) on `template`."""
    decoded, parse_errors = decode(str(template))
    assert not parse_errors, parse_errors
    config = ConfigMixIn([], regions=["us-east-1"], configure_rules=configure_rules or {})
    return list(run_template_by_data(decoded, config, project_rules()))


def found(matches: list[Any]) -> Counter[RuleLine]:
    return Counter((match.rule.id, match.linenumber) for match in matches)


def expected(template: Path) -> Counter[RuleLine]:
    markers: Counter[RuleLine] = Counter()
    sidecar = template.with_name(template.name + ".expect")
    if sidecar.exists():
        for line in sidecar.read_text().splitlines():
            if line and not line.startswith("#"):
                rule_id, listed_line = line.split()
                markers[(rule_id, int(listed_line))] += 1
        return markers
    for line_number, line in enumerate(template.read_text().splitlines(), start=1):
        marker = _EXPECT_MARKER.search(line)
        if marker is not None:
            markers.update((rule_id, line_number) for rule_id in marker["rule_ids"].split())
    return markers


def fixtures(kind: str) -> list[Path]:
    """The `good` or `bad` fixture templates (YAML and JSON)."""
    return sorted(path for path in (FIXTURES / kind).iterdir() if path.suffix in (".yaml", ".json"))


def fixture_rule_id(template: Path) -> str:
    """Fixtures are named after the rule they exercise: `E9001_stack_destroyable.yaml`."""
    return template.name.split("_", 1)[0]
