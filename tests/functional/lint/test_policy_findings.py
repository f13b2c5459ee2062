"""`tapstack lint` on the committed template: nothing unexplained, as written and as each parameter file
resolves it; the Control Tower controls left are the ones the template's Metadata explains, and
params/landing-zone.json fails only those the stack cannot meet; every cdk-nag suppression answers a
finding."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tapstack import paths
from tapstack.cfn.model import read_template
from tapstack.lint import policy_tools, runner
from templates.common import NAG_VALIDATION_FAILURE, RULE_MISREADS_FN_IF
from templates.contract import CONTROL_TOWER_METADATA

LANDING_ZONE = paths.PARAMS / "landing-zone.json"


@pytest.fixture(scope="module")
def listing() -> runner.Listing:
    return runner.collect(paths.TEMPLATE)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return read_template(paths.TEMPLATE)


def gap_pairs(document: Mapping[str, Any], *, met_by_a_parameter: bool | None = None) -> set[tuple[str, str]]:
    """(control, resource) of each Control Tower gap in the Metadata; only those some parameter value
    meets (True), or only those none does (False)."""
    gaps = document["Metadata"][CONTROL_TOWER_METADATA]
    return {
        (control, f"Resources.{resource}")
        for control, gap in gaps.items()
        if met_by_a_parameter is None or ("MetBy" in gap) == met_by_a_parameter
        for resource in gap["Resources"]
    }


def explained_pairs(listing: runner.Listing, path: Path) -> set[tuple[str, str]]:
    return {(item.finding.rule_id, item.finding.resource) for item in listing.explained[path]}


def copy_for(listing: runner.Listing, parameter_file: Path) -> Path:
    return next(copy.path for copy in listing.resolved if copy.parameter_file == parameter_file)


def test_nothing_is_left_unexplained_as_written_or_with_any_parameter_file(listing: runner.Listing) -> None:
    assert [copy.parameter_file for copy in listing.resolved] == list(runner.DEFAULT_PARAMETER_FILES)
    unexplained = {listing.label(path): findings for path, findings in listing.findings.items() if findings}
    assert unexplained == {}


def test_the_landing_zone_file_fails_only_the_controls_the_stack_cannot_meet(
    listing: runner.Listing, document: dict[str, Any]
) -> None:
    cannot_meet = gap_pairs(document, met_by_a_parameter=False)
    assert cannot_meet == {
        ("CT.S3.PR.2", "Resources.AccessLogBucket"),
        ("CT.S3.PR.9", "Resources.AccessLogBucket"),
        ("CT.S3.PR.10", "Resources.AccessLogBucket"),
    }
    assert explained_pairs(listing, copy_for(listing, LANDING_ZONE)) == cannot_meet


def test_each_gap_in_the_metadata_is_failed_with_some_parameter_file(
    listing: runner.Listing, document: dict[str, Any]
) -> None:
    """No stale entry: every (control, resource) the Metadata explains is one a resolved copy fails."""
    failed_resolved = set().union(*(explained_pairs(listing, copy.path) for copy in listing.resolved))
    assert gap_pairs(document) == failed_resolved


def test_findings_only_of_the_template_as_written_are_ones_the_hooks_would_pass(
    listing: runner.Listing,
) -> None:
    as_written = {
        (item.finding.rule_id, item.finding.resource)
        for item in listing.explained[paths.TEMPLATE]
        if item.explanation == policy_tools.PASSES_RESOLVED
    }
    # The controls read Fn::Sub as no value; the hook sees the account id and the bucket's ARN.
    assert as_written == {
        ("CT.LAMBDA.PR.2", "Resources.ReceiverInvokePermission"),
        ("CT.S3.PR.8", "Resources.AuditBucketPolicy"),
        ("CT.S3.PR.8", "Resources.AccessLogBucketPolicy"),
    }


def _regex(pattern: str) -> re.Pattern[str]:
    """A cdk-nag `applies_to` regex, written as JavaScript's /source/flags."""
    source = pattern[1 : pattern.rindex("/")]
    return re.compile(source)


def _answers(resource: str, suppression: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    if event["resource"] != resource:
        return False
    applies_to = suppression.get("applies_to", [])
    if event["event"] == "suppressed-error":
        return suppression["id"] == NAG_VALIDATION_FAILURE and event["rule_id"] in applies_to
    if suppression["id"] != event["rule_id"]:
        return False
    finding = event.get("finding_id") or ""
    return not applies_to or any(
        entry == finding if isinstance(entry, str) else bool(_regex(entry["regex"]).fullmatch(finding))
        for entry in applies_to
    )


def test_every_cdk_nag_suppression_answers_a_finding(
    listing: runner.Listing, document: dict[str, Any]
) -> None:
    suppressions = [
        (logical_id, suppression)
        for logical_id, resource in document["Resources"].items()
        for suppression in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert len(suppressions) > 50
    unused = [
        (logical_id, suppression["id"], suppression.get("applies_to"))
        for logical_id, suppression in suppressions
        if not any(_answers(logical_id, suppression, event) for event in listing.suppressed)
    ]
    assert unused == []


def test_a_suppression_for_a_misread_fn_if_answers_only_the_template_as_written(
    listing: runner.Listing,
) -> None:
    """The resolved copies drop them, and pass those rules on their own (the first test)."""
    misread = [event for event in listing.suppressed if RULE_MISREADS_FN_IF in event["reason"]]
    assert misread
    assert {Path(event["template"]) for event in misread} == {paths.TEMPLATE.resolve()}
