"""`tapstack lint`: every tool over a template, as written and as each parameter file resolves it; one
listing of findings; fail on any.

    tapstack lint [TEMPLATE] [-x E9041:budget=1900 ...] [--params FILE ... | --raw-only] [--only TOOL ...]

The runner only orchestrates: which templates (the template as written, checked readable, and for the
tools that lint them the copies resolve.py writes with each parameter file: params/dev.json,
params/prod.json and params/landing-zone.json unless --params says otherwise), which tools (every
adapter unless --only names some), all at once, one listing, the exit status. The tools are adapters
with one interface (findings.TemplateLinter): cfn_lint (cfn-lint with tapstack/lint/rules/, in this
process), checkov (from .venv-checkov), and policy_tools (Control Tower's proactive controls and
cdk-nag, by policy/check.js on Node, which also lints the resolved copies: Control Tower's hooks see
resolved properties). The listing goes template by template, ordered by line: location, rule id,
tool, resource and property, the message and what to do.

A checkov check that does not fit the stack is skipped in the resource's Metadata with a reason:
`{"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "why"}]}}`; a cdk-nag rule likewise with
`{"cdk_nag": {"rules_to_suppress": [{"id": "AwsSolutions-SQS3", "reason": "why"}]}}`. Control Tower
controls cannot be suppressed: a finding of one is explained only by the template's Metadata
(`TapStack::ControlTower`: the parameter values that meet the control, or why none can), or, on the
template as written, by no resolved copy failing it. Explained findings are listed apart.

Exit status: 0 when nothing is left unexplained, 1 when findings are, 2 when the template is missing
or cannot be parsed or resolved, or a tool cannot run.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tapstack import paths
from tapstack.exits import CommandError, ExitCode
from tapstack.lint.cfn_lint import CfnLint
from tapstack.lint.checkov import Checkov
from tapstack.lint.findings import CannotLintError, Explained, Finding, Report, TemplateLinter
from tapstack.lint.policy_tools import CDK_NAG, PolicyTools
from tapstack.lint.resolve import ResolvedTemplate, decode_template, write_resolved

DEFAULT_PARAMETER_FILES: Final = (
    paths.PARAMS / "dev.json",
    paths.PARAMS / "prod.json",
    paths.PARAMS / "landing-zone.json",
)


@dataclass(frozen=True)
class Listing:
    """Every tool's findings on a template: on the template as written, then on each resolved copy."""

    linters: Sequence[TemplateLinter]  # the tools that ran
    resolved: list[ResolvedTemplate]
    findings: dict[Path, list[Finding]]  # by linted file, in that order, each ordered by line
    explained: dict[Path, list[Explained]]  # findings the template explains
    suppressed: list[Mapping[str, Any]]  # cdk-nag findings a suppression in the Metadata answered

    def label(self, path: Path) -> str:
        """Which variant of the template `path` is: `as written` or `with params/dev.json`."""
        return next(
            (f"with {_shown(copy.parameter_file)}" for copy in self.resolved if copy.path == path),
            "as written",
        )


def linters(
    only: Collection[str] = (),
    rule_configuration: Sequence[str] = (),
    *,
    control_tower_enforced: bool = False,
) -> list[TemplateLinter]:
    """The adapters `only` names (every one when it names none), in the listing's order, set up with the
    command's options."""
    every: list[TemplateLinter] = [
        CfnLint(rule_configuration),
        Checkov(),
        PolicyTools(control_tower_enforced=control_tower_enforced),
    ]
    return [linter for linter in every if not only or linter.name in only]


LINTER_NAMES: Final = tuple(linter.name for linter in linters())


def collect(
    template: Path,
    rule_configuration: Sequence[str] = (),
    parameter_files: Sequence[Path] = DEFAULT_PARAMETER_FILES,
    *,
    control_tower_enforced: bool = False,
    only: Collection[str] = (),
) -> Listing:
    """Run the tools `only` names (every one by default) on `template`, and those that lint resolved
    copies also on it as each of `parameter_files` resolves it. `control_tower_enforced`: the files are
    for accounts that enforce Control Tower's proactive controls, so a control some parameter value
    meets is a finding where the file's values fail it. Raises CannotLintError when the template cannot
    be read or resolved, or a tool cannot run."""
    chosen = linters(only, rule_configuration, control_tower_enforced=control_tower_enforced)
    document = decode_template(template)
    copies_wanted = any(linter.lints_resolved_copies for linter in chosen)
    resolved = [write_resolved(template, document, file) for file in parameter_files] if copies_wanted else []
    variants = [template, *(copy.path for copy in resolved)]  # as written, then each resolved copy

    def run(linter: TemplateLinter) -> Report:
        return linter.lint(variants if linter.lints_resolved_copies else [template])

    # checkov and node are processes whose threads only wait, beside cfn-lint in this one: run at once,
    # the tools take about the time of the slowest.
    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        reports = list(pool.map(run, chosen))
    return Listing(
        linters=chosen,
        resolved=resolved,
        findings={
            path: sorted(found for report in reports for found in report.findings.get(path, []))
            for path in variants
        },
        explained={
            path: [item for report in reports for item in report.explained.get(path, [])] for path in variants
        },
        suppressed=[event for report in reports for event in report.suppressed],
    )


def lint(
    template: Path,
    rule_configuration: Sequence[str] = (),
    parameter_files: Sequence[Path] = DEFAULT_PARAMETER_FILES,
    *,
    control_tower_enforced: bool = False,
    only: Collection[str] = (),
) -> ExitCode:
    """Print every tool's findings as one listing; FAILED when there is any, USAGE when it cannot lint."""
    try:
        listing = collect(
            template,
            rule_configuration,
            parameter_files,
            control_tower_enforced=control_tower_enforced,
            only=only,
        )
    except CannotLintError as error:
        raise CommandError(f"lint: {error}") from error
    for finding in listing.findings[template]:
        print(finding.render(template))
    for copy in listing.resolved:
        if listing.findings[copy.path]:
            left = f"; {', '.join(copy.unresolved)} left as references (the deploy supplies them)"
            heading = f"{_shown(copy.path)}: {template} {listing.label(copy.path)}"
            print(f"\n{heading}{left if copy.unresolved else ''}")
        for finding in listing.findings[copy.path]:
            print(finding.render(_shown(copy.path)))
    print_explained(listing)
    if listing.suppressed:
        suppressed = (
            f"{len(listing.suppressed)} finding(s) suppressed with a reason in the resources' Metadata"
        )
        print(f"\n{CDK_NAG}: {suppressed}")
    every_finding = [finding for findings in listing.findings.values() for finding in findings]
    tools = [tool for linter in listing.linters for tool in linter.tools]
    if every_finding:
        print(f"\n{template}: {len(every_finding)} finding(s) ({_counts(every_finding, tools)})")
        for path, findings in listing.findings.items():
            print(f"  {listing.label(path)}: {len(findings)} ({_counts(findings, tools)})")
        return ExitCode.FAILED
    ran = ", ".join(linter.title for linter in listing.linters)
    variants = ", ".join(listing.label(path) for path in listing.findings)
    print(f"\n{template}: clean ({ran} found nothing unexplained; {variants})")
    return ExitCode.OK


def print_explained(listing: Listing) -> None:
    """The findings the template explains, one line per control and explanation."""
    resources: dict[tuple[str, str], set[str]] = {}
    variants: dict[tuple[str, str], list[str]] = {}
    tools: set[str] = set()
    for path, explained in listing.explained.items():
        for item in explained:
            key = (item.finding.rule_id, item.explanation)
            tools.add(item.finding.tool)
            resources.setdefault(key, set()).add(item.finding.resource.removeprefix("Resources."))
            if listing.label(path) not in variants.setdefault(key, []):
                variants[key].append(listing.label(path))
    if not resources:
        return
    heading = "findings the template explains (its Metadata, TapStack::ControlTower)"
    print(f"\n{', '.join(sorted(tools))}: {heading}:")
    for (control, explanation), names in sorted(resources.items()):
        print(f"  {control} {', '.join(sorted(names))} ({', '.join(variants[control, explanation])}):")
        print(f"    {explanation}")


def _counts(findings: Iterable[Finding], tools: Sequence[str]) -> str:
    found = [finding.tool for finding in findings]
    return ", ".join(f"{tool}: {found.count(tool)}" for tool in tools)


def _shown(path: Path) -> Path:
    """`path` relative to the working directory when it is inside it, as a reader would type it."""
    relative = os.path.relpath(path)
    return Path(relative) if not relative.startswith("..") else path
