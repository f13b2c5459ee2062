"""The policy tools of `tapstack lint`: AWS Control Tower's proactive controls and cdk-nag's rule packs.

Control Tower's controls run as CloudFormation hooks on resolved properties, so `tapstack lint` gives
them the template as written and as each parameter file resolves it (tapstack/lint/resolve.py):

- `run` gives those files to policy/check.js (Node, its packages pinned by policy/package-lock.json),
  which runs the Control Tower rules with the cfn-guard binary that @cdklabs/cdk-validator-cfnguard
  bundles, and cdk-nag's AwsSolutions, Serverless, NIST 800-53 rev 5, PCI DSS 3.2.1 and HIPAA
  Security packs over each template included with CfnInclude.
- `findings` turns its report into the listing's findings, by template; `explain_control_tower` sets
  apart the Control Tower findings the template explains.

A cdk-nag rule that does not fit the stack is suppressed with a reason in the resource's Metadata:
`{"cdk_nag": {"rules_to_suppress": [{"id": "AwsSolutions-SQS3", "reason": "why"}]}}` (cdk-nag reads it
itself, and wants a reason of 10 characters or more). A Control Tower control cannot be suppressed:
the hook runs whatever the template says.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import takewhile
from pathlib import Path
from typing import Any, ClassVar, Final

from tapstack import paths
from tapstack.lint.findings import (
    CannotLintError,
    Explained,
    Finding,
    Report,
    line_of,
    parse_json,
    run_tool,
)
from templates.contract import CONTROL_TOWER_METADATA

POLICY: Final = paths.REPOSITORY / "policy"
POLICY_CHECK: Final = POLICY / "check.js"
NODE_MODULES: Final = POLICY / "node_modules"

CONTROL_TOWER: Final = "control-tower"
CDK_NAG: Final = "cdk-nag"
# "[CT.S3.PR.2]: Require an Amazon S3 bucket to have server access logging configured"
_CONTROL_DESCRIPTION: Final = re.compile(r"\s*\[(?P<control>[^\]]+)\]:\s*(?P<text>.*)", re.DOTALL)
_MOST_PROPERTIES_NAMED: Final = 3
_UNSUPPRESSIBLE: Final = "a Control Tower control runs as a CloudFormation hook: it cannot be suppressed"
PASSES_RESOLVED: Final = "passes once resolved with each parameter file, as the hook sees it"
_MET_BY: Final = "met by "


class PolicyTools:
    """Control Tower's proactive controls and cdk-nag, in one run of policy/check.js over the template as
    written (the first file) and its resolved copies (the others).

    `control_tower_enforced`: the copies are for accounts that enforce the controls, so a control some
    parameter value meets is a finding where the copy's values fail it."""

    name: ClassVar[str] = "policy"
    tools: ClassVar[tuple[str, ...]] = (CONTROL_TOWER, CDK_NAG)
    title: ClassVar[str] = "Control Tower's proactive controls and cdk-nag"
    # Control Tower's hooks see the properties CloudFormation resolved: each copy is what one would see.
    lints_resolved_copies: ClassVar[bool] = True

    def __init__(self, *, control_tower_enforced: bool = False) -> None:
        self.control_tower_enforced = control_tower_enforced

    def lint(self, files: Sequence[Path]) -> Report:
        report = run(files)
        as_written = files[0]
        left, explained = explain_control_tower(
            _decoded(as_written),
            as_written,
            findings(report, files),
            enforced=self.control_tower_enforced,
        )
        return Report(left, explained, suppressed(report))


def run(templates: Sequence[Path]) -> Any:
    """The report of policy/check.js on `templates`: {"control_tower": ..., "cdk_nag": [...]}."""
    node = shutil.which("node")
    if node is None:
        raise CannotLintError(
            "node is not installed: the policy tools run on Node.js 20 or later "
            "(e.g. apt-get install nodejs npm), then `make lint` installs them"
        )
    if not NODE_MODULES.is_dir():
        raise CannotLintError(f"{NODE_MODULES} is missing: run `make lint` once (it installs it with npm ci)")
    completed = run_tool([node, POLICY_CHECK, *(template.resolve() for template in templates)])
    if completed.returncode != 0:
        raise CannotLintError(
            f"policy/check.js exited {completed.returncode}: {completed.stderr.strip()[-2000:]}"
        )
    return parse_json("policy/check.js", completed)


def findings(report: Mapping[str, Any], templates: Sequence[Path]) -> dict[Path, list[Finding]]:
    """The findings in a report of policy/check.js, by which of `templates` they are in."""
    by_path = {template.resolve(): template for template in templates}
    decoded = {template: _decoded(template) for template in templates}
    found: dict[Path, set[Finding]] = {template: set() for template in templates}
    for path, finding in control_tower_findings(report["control_tower"], decoded, by_path):
        found[path].add(finding)
    for path, finding in cdk_nag_findings(report["cdk_nag"], decoded, by_path):
        found[path].add(finding)
    return {template: sorted(found[template]) for template in templates}


def suppressed(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The cdk-nag findings a suppression in the template's Metadata answered, as check.js reports them
    (template, resource, rule_id, finding_id, reason)."""
    return [event for event in report["cdk_nag"] if event["event"] in ("suppressed", "suppressed-error")]


def _decoded(template: Path) -> Any:
    from cfnlint.decode import decode  # noqa: PLC0415 (costly to import: only lint pays for it)

    decoded, _ = decode(str(template))
    return decoded


def control_tower_findings(
    report: Mapping[str, Any], decoded: Mapping[Path, Any], by_path: Mapping[Path, Path]
) -> Iterable[tuple[Path, Finding]]:
    """One finding per control and resource in the validator's report ({"violations": [...]})."""
    for violation in report.get("violations", []):
        described = _CONTROL_DESCRIPTION.fullmatch(violation["description"])
        control = described["control"] if described else violation["ruleName"]
        text = " ".join((described["text"] if described else violation["description"]).split())
        message = f"{text} (cfn-guard rule {violation['ruleName']})"
        advice = f"fix: {' '.join(violation['fix'].split())}\n    {_UNSUPPRESSIBLE}"
        attributed = {
            entry["templatePath"]
            for entry in violation["violatingResources"]
            if entry.get("resourceLogicalId")
        }
        for entry in violation["violatingResources"]:
            template = by_path[Path(entry["templatePath"]).resolve()]
            logical_id = entry.get("resourceLogicalId")
            # The validator cannot tie some of a rule's clauses to a resource; where it tied others of the
            # same violation in the same template to one, those say it.
            if not logical_id and entry["templatePath"] in attributed:
                continue
            properties = _property_paths(entry.get("locations", []), logical_id)
            first = [logical_id, "Properties", *properties[0].split(".")] if properties else [logical_id]
            yield (
                template,
                Finding(
                    line=line_of(decoded[template], ["Resources", *first]) if logical_id else 1,
                    tool=CONTROL_TOWER,
                    rule_id=control,
                    resource=f"Resources.{logical_id}" if logical_id else "(template)",
                    property_path=", ".join(properties),
                    message=message,
                    advice=advice,
                ),
            )


def _property_paths(locations: Iterable[str], logical_id: str | None) -> list[str]:
    """The properties the rule names, as dotted paths (location `/Resources/Key/Properties/KeyPolicy`
    is `KeyPolicy`), each once and in order, leaving out the parents of the ones it names; more than
    _MOST_PROPERTIES_NAMED of them read as their common parent, when they have one."""
    prefix = f"/Resources/{logical_id}/Properties/"
    named = list(
        dict.fromkeys(location.removeprefix(prefix) for location in locations if location.startswith(prefix))
    )
    leaves = [name.split("/") for name in named if not any(other.startswith(f"{name}/") for other in named)]
    if len(leaves) > _MOST_PROPERTIES_NAMED:
        shared = takewhile(lambda parts: len(set(parts)) == 1, zip(*leaves, strict=False))
        common = [parts[0] for parts in shared]
        leaves = [common] if common else leaves
    return [".".join(parts) for parts in leaves]


def cdk_nag_findings(
    events: Iterable[Mapping[str, Any]], decoded: Mapping[Path, Any], by_path: Mapping[Path, Path]
) -> Iterable[tuple[Path, Finding]]:
    """One finding per unsuppressed cdk-nag event: a rule the resource breaks, or one that could not
    evaluate it (it raised, typically on an intrinsic it does not read)."""
    for event in events:
        if event["event"] not in ("non-compliance", "error"):
            continue
        template = by_path[Path(event["template"]).resolve()]
        finding_id = event.get("finding_id") or ""
        suppression: dict[str, Any] = {"id": event["rule_id"], "reason": "why (10 characters or more)"}
        if event["event"] == "error":
            message = f"the rule could not evaluate the resource: {event['error']}"
            suppression = {**suppression, "id": "CdkNagValidationFailure", "applies_to": [event["rule_id"]]}
        else:
            message = f"{event['info']} ({event['level']})"
            if finding_id:
                suppression["applies_to"] = [finding_id]
        metadata = json.dumps({"cdk_nag": {"rules_to_suppress": [suppression]}})
        yield (
            template,
            Finding(
                line=line_of(decoded[template], ["Resources", event["resource"]]),
                tool=CDK_NAG,
                rule_id=event["rule_id"] + (f"[{finding_id}]" if finding_id else ""),
                resource=f"Resources.{event['resource']}",
                property_path="",
                message=message,
                advice=f"{event['explanation']}\n    or, where the rule does not fit the stack, suppress it "
                f"with a reason in the resource's Metadata: {metadata}",
            ),
        )


def explain_control_tower(
    document: Mapping[str, Any],
    template: Path,
    by_template: Mapping[Path, list[Finding]],
    *,
    enforced: bool = False,
) -> tuple[dict[Path, list[Finding]], dict[Path, list[Explained]]]:
    """`by_template` split into the findings left to answer and the Control Tower findings explained:
    by the template's Metadata (`TapStack::ControlTower`: control -> Resources, Reason and MetBy, the
    parameter values that meet it), or, on `template` as written, by no resolved copy failing the
    control on that resource. `enforced`: the parameter files are for accounts where the controls are
    enforced, so on a resolved copy only a control no parameter value meets is explained."""
    gaps = _control_tower_gaps(document)
    resolved_failures = {
        (finding.rule_id, finding.resource)
        for path, findings in by_template.items()
        if path != template
        for finding in findings
        if finding.tool == CONTROL_TOWER
    }
    checked_resolved = len(by_template) > 1
    left: dict[Path, list[Finding]] = {}
    explained: dict[Path, list[Explained]] = {}
    for path, findings in by_template.items():
        left[path], explained[path] = [], []
        for found in findings:
            finding = found
            why = _gap_explanation(finding, gaps) if finding.tool == CONTROL_TOWER else None
            if enforced and path != template and why is not None and why.startswith(_MET_BY):
                meets = why.removeprefix(_MET_BY)
                finding, why = (
                    replace(finding, advice=f"{finding.advice}\n    the template meets it with {meets}"),
                    None,
                )
            if why is None and path == template and finding.tool == CONTROL_TOWER and checked_resolved:
                fails_resolved = (finding.rule_id, finding.resource) in resolved_failures
                why = None if fails_resolved else PASSES_RESOLVED
            if why is None:
                left[path].append(finding)
            else:
                explained[path].append(Explained(why, finding))
    return left, explained


def _control_tower_gaps(document: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = document.get("Metadata")
    gaps = metadata.get(CONTROL_TOWER_METADATA) if isinstance(metadata, Mapping) else None
    return gaps if isinstance(gaps, Mapping) else {}


def _gap_explanation(finding: Finding, gaps: Mapping[str, Any]) -> str | None:
    gap = gaps.get(finding.rule_id)
    if not isinstance(gap, Mapping) or finding.resource.removeprefix("Resources.") not in gap.get(
        "Resources", []
    ):
        return None
    if "MetBy" in gap:
        return f"{_MET_BY}{gap['MetBy']}"
    return f"cannot be met: {gap.get('Reason', '(no reason given)')}"
