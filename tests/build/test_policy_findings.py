"""`tapstack lint` on the committed template lists exactly the known findings of policy_findings.json.

The policy tools (Control Tower's proactive controls, cdk-nag's packs) find things in the stack that
are still to be fixed or suppressed; policy_findings.json lists them, for the template as written and
as params/dev.json and params/prod.json resolve it, so that any new finding fails here while the
list shrinks to nothing. After a change that fixes or suppresses findings, rewrite the list with
`.venv/bin/python -m tests.build.test_policy_findings` and review its diff.
"""

from __future__ import annotations

import json
from pathlib import Path

from tapstack import paths
from tapstack.build import lint

KNOWN_FINDINGS = Path(__file__).with_name("policy_findings.json")

Entries = dict[str, list[dict[str, str]]]


def listed(listing: lint.Listing) -> Entries:
    """The findings by variant of the template (`as written`, `with params/dev.json`, ...), without
    their line numbers, which any edit of the template moves."""
    return {
        listing.label(path): sorted(
            (
                {
                    "tool": finding.tool,
                    "rule_id": finding.rule_id,
                    "resource": finding.resource,
                    "property": finding.property_path,
                    "message": finding.message,
                }
                for finding in findings
            ),
            key=lambda entry: (entry["tool"], entry["rule_id"], entry["resource"], entry["property"]),
        )
        for path, findings in listing.findings.items()
    }


def rendered(entries: Entries) -> str:
    """One finding a line, so that a diff of the file reads as the findings gained and lost."""
    variants = [
        f"  {json.dumps(variant)}: [\n" + ",\n".join(f"    {json.dumps(entry)}" for entry in found) + "\n  ]"
        for variant, found in entries.items()
    ]
    return "{\n" + ",\n".join(variants) + "\n}\n"


def test_the_committed_template_has_only_the_known_findings() -> None:
    listing = lint.collect(paths.TEMPLATE)
    found, known = listed(listing), json.loads(KNOWN_FINDINGS.read_text())
    new = {
        variant: [entry for entry in found[variant] if entry not in known.get(variant, [])]
        for variant in found
    }
    gone = {
        variant: [entry for entry in known[variant] if entry not in found.get(variant, [])]
        for variant in known
    }
    assert found == known, (
        f"new findings (fix them, or suppress a cdk-nag rule with a reason): {json.dumps(new, indent=1)}\n"
        f"known findings no longer found (rewrite the list: python -m tests.build.test_policy_findings): "
        f"{json.dumps(gone, indent=1)}"
    )


if __name__ == "__main__":
    KNOWN_FINDINGS.write_text(rendered(listed(lint.collect(paths.TEMPLATE))))
