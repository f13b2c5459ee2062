"""Lint a CloudFormation template with cfn-lint (plus the project's rules in tapstack/lint/rules/), checkov,
AWS Control Tower's proactive controls and cdk-nag's rule packs; fail on any finding.

    tapstack lint [TEMPLATE] [-x E9041:budget=1900 ...] [--params FILE ... | --raw-only]   (`make lint`)

Runs `cfn-lint --include-checks I -a tapstack/lint/rules/ -- TEMPLATE` from this environment,
`checkov --framework cloudformation --skip-download -f TEMPLATE` from .venv-checkov (checkov pins an older
boto3, so it has an environment of its own), and policy/check.js (tapstack/lint/policy_tools.py) on the
template as written and as each parameter file resolves it (params/dev.json, params/prod.json and
params/landing-zone.json unless --params says otherwise; Control Tower's hooks see resolved
properties). The three run at once. It prints every finding as one listing, template by template and
ordered by line: location, rule id, tool, resource and property, the message and what to do.

A checkov check that does not fit the stack is skipped in the resource's Metadata with a reason:
`{"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "why"}]}}`; a cdk-nag rule likewise with
`{"cdk_nag": {"rules_to_suppress": [{"id": "AwsSolutions-SQS3", "reason": "why"}]}}`. Control Tower
controls cannot be suppressed: a finding of one is explained only by the template's Metadata
(`TapStack::ControlTower`: the parameter values that meet the control, or why none can), or, on the
template as written, by no resolved copy failing it. Explained findings are listed apart.

Exit status: 0 when nothing is left unexplained, 1 when findings are, 2 when the template is missing
or cannot be parsed or resolved, or a linter cannot run.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tapstack import paths
from tapstack.exits import CommandError, ExitCode
from tapstack.lint import policy_tools
from tapstack.lint.findings import CannotLintError, Finding, parse_json, run_tool

REPOSITORY = paths.REPOSITORY
RULES_DIRECTORY = paths.RULES
CHECKOV = paths.CHECKOV
# cfn-lint is installed next to the interpreter running this script (.venv/bin).
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
DEFAULT_TEMPLATE = Path("output/TapStack.json")
TOOLS = ("cfn-lint", "checkov", policy_tools.CONTROL_TOWER, policy_tools.CDK_NAG)

# What to do about the checkov checks that concern this stack, where checkov's own name only says
# what it wants (see docs in FIELD-NOTES); anything else points at checkov's policy index.
CHECKOV_ADVICE = {
    "CKV_AWS_7": "set EnableKeyRotation: true on the KMS key",
    "CKV_AWS_18": "set LoggingConfiguration.DestinationBucketName to the access-log bucket",
    "CKV_AWS_21": "set VersioningConfiguration.Status: Enabled",
    "CKV_AWS_26": "set KmsMasterKeyId on the topic (Fn::GetAtt Key.Arn)",
    "CKV_AWS_27": "set KmsMasterKeyId on the queue; SqsManagedSseEnabled does not count",
    "CKV_AWS_28": "set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true",
    "CKV_AWS_59": "set ApiKeyRequired: true or an AuthorizationType other than NONE",
    "CKV_AWS_66": "set RetentionInDays on the log group",
    "CKV_AWS_73": "set TracingEnabled: true on the stage",
    "CKV_AWS_76": "set AccessLogSetting.DestinationArn (and Format) on the stage",
    "CKV_AWS_115": "set ReservedConcurrentExecutions, or skip: reservations are opt-in here (W9040)",
    "CKV_AWS_116": "skip with the reason: failures go to an EventInvokeConfig OnFailure destination (a "
    "DeadLetterConfig beside it doubles each failure, E9031), or the function is invoked synchronously",
    "CKV_AWS_117": "set VpcConfig, or skip with the reason the function needs no VPC",
    "CKV_AWS_119": "set SSESpecification.KMSMasterKeyId to the stack's key",
    "CKV_AWS_120": "set CacheClusterEnabled: true, or skip with the reason a cache does not fit",
    "CKV_AWS_158": "set KmsKeyId on the log group (Fn::GetAtt Key.Arn)",
    "CKV_AWS_173": "set KmsKeyArn on the function that has Environment variables",
}
CHECKOV_POLICY_INDEX = "https://www.checkov.io/5.Policy%20Index/cloudformation.html"


def check_template(template: Path) -> dict[str, Any]:
    """The template document, or CannotLintError unless `template` is a readable JSON or YAML
    CloudFormation template."""
    if not template.is_file():
        raise CannotLintError(f"{template}: no such template file (generate it first: make template)")
    try:
        template.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise CannotLintError(
            f"{template}: not a text file (byte {error.start} is not UTF-8); a template is JSON or YAML text"
        ) from error
    # cfn-lint's decoder costs most of the command's start-up: only `lint` pays for it
    from cfnlint.decode import decode  # noqa: PLC0415

    decoded, parse_errors = decode(str(template))
    if parse_errors:
        details = "; ".join(f"line {error.linenumber}: {error.message}" for error in parse_errors)
        raise CannotLintError(f"{template}: cannot be parsed as JSON or YAML: {details}")
    if not isinstance(decoded, dict) or not isinstance(decoded.get("Resources"), dict):
        raise CannotLintError(f"{template}: not a CloudFormation template (no Resources mapping)")
    return decoded


def cfn_lint_findings(template: Path, rule_configuration: Sequence[str]) -> list[Finding]:
    configure = [option for setting in rule_configuration for option in ("--configure-rule", setting)]
    completed = run_tool(
        [
            CFN_LINT,
            "--include-checks",
            "I",
            "--format",
            "json",
            "--append-rules",
            RULES_DIRECTORY,
            *configure,
            "--",
            template.resolve(),
        ]
    )
    return [_cfn_lint_finding(match) for match in parse_json("cfn-lint", completed)]


def _cfn_lint_finding(match: dict[str, Any]) -> Finding:
    path = [str(part) for part in match["Location"].get("Path") or []]
    if len(path) >= 2 and path[0] in ("Resources", "Outputs", "Parameters", "Conditions"):
        resource, property_parts = f"{path[0]}.{path[1]}", path[2:]
        if property_parts[:1] == ["Properties"]:
            property_parts = property_parts[1:]
    else:
        resource, property_parts = "/".join(path) or "(template)", []
    rule = match["Rule"]
    return Finding(
        line=int(match["Location"]["Start"]["LineNumber"]),
        tool="cfn-lint",
        rule_id=rule["Id"],
        resource=resource,
        property_path=".".join(property_parts),
        message=match["Message"],
        # A rule covering several properties names each one's page in its message; else the rule's page.
        advice="" if "(see https://" in match["Message"] else f"see {rule['Source']}",
    )


def checkov_findings(template: Path) -> list[Finding]:
    if not CHECKOV.exists():
        raise CannotLintError(f"{CHECKOV} is missing: run `make lint` once (it installs .venv-checkov)")
    completed = run_tool(
        [
            CHECKOV,
            "--framework",
            "cloudformation",
            "--skip-download",
            "--quiet",
            "--compact",
            "--output",
            "json",
            "--file",
            template.resolve(),
        ]
    )
    report = parse_json("checkov", completed)
    # One framework gives one report object; checkov prints a list when it ran several.
    reports = report if isinstance(report, list) else [report]
    parsing_errors = [
        error for part in reports for error in part.get("results", {}).get("parsing_errors", [])
    ]
    if parsing_errors:
        raise CannotLintError(f"checkov cannot parse {template}: {parsing_errors}")
    return [
        _checkov_finding(check)
        for part in reports
        for check in part.get("results", {}).get("failed_checks", [])
    ]


def _checkov_finding(check: dict[str, Any]) -> Finding:
    # checkov names resources "AWS::Type::Name.LogicalId" and the properties it looked at as
    # "Properties/Key/Subkey".
    resource_type, _, logical_id = str(check["resource"]).rpartition(".")
    evaluated = check.get("check_result", {}).get("evaluated_keys") or []
    properties = [key.removeprefix("Properties/").replace("/", ".") for key in evaluated]
    advice = CHECKOV_ADVICE.get(check["check_id"], check.get("guideline") or f"see {CHECKOV_POLICY_INDEX}")
    advice = advice if advice.startswith("see ") else f"fix: {advice}"
    skip = {"checkov": {"skip": [{"id": check["check_id"], "comment": "why"}]}}
    return Finding(
        line=int(check["file_line_range"][0]),
        tool="checkov",
        rule_id=check["check_id"],
        resource=f"Resources.{logical_id}" if logical_id else resource_type,
        property_path=", ".join(properties),
        message=f"{resource_type}: {check['check_name']}",
        advice=f"{advice}\n    or, where the check does not fit the stack, skip it with a reason in the "
        f"resource's Metadata: {json.dumps(skip)}",
    )


@dataclass(frozen=True)
class Listing:
    """Every tool's findings on a template: on the template as written, then on each resolved copy."""

    resolved: list[policy_tools.ResolvedTemplate]
    findings: dict[Path, list[Finding]]  # by linted file, in that order, each ordered by line
    explained: dict[Path, list[policy_tools.Explained]]  # Control Tower findings the template explains
    suppressed: list[Mapping[str, Any]]  # cdk-nag findings a suppression in the Metadata answered

    def label(self, path: Path) -> str:
        """Which variant of the template `path` is: `as written` or `with params/dev.json`."""
        return next(
            (f"with {_shown(copy.parameter_file)}" for copy in self.resolved if copy.path == path),
            "as written",
        )


def collect(
    template: Path,
    rule_configuration: Sequence[str] = (),
    parameter_files: Sequence[Path] = policy_tools.DEFAULT_PARAMETER_FILES,
    *,
    control_tower_enforced: bool = False,
) -> Listing:
    """Run every tool on `template`, and the policy tools on it as each of `parameter_files` resolves it.
    `control_tower_enforced`: the files are for accounts that enforce Control Tower's proactive
    controls, so a control some parameter value meets is a finding where the file's values fail it.
    Raises CannotLintError when the template cannot be read or resolved, or a tool cannot run."""
    document = check_template(template)
    resolved = [policy_tools.write_resolved(template, document, file) for file in parameter_files]
    policy_templates = [template, *(copy.path for copy in resolved)]
    # Separate processes: run at once, the linters take about the time of the slowest.
    with ThreadPoolExecutor(max_workers=3) as pool:
        cfn_lint = pool.submit(cfn_lint_findings, template, rule_configuration)
        checkov = pool.submit(checkov_findings, template)
        report = pool.submit(policy_tools.run, policy_templates).result()
        by_template = policy_tools.findings(report, policy_templates)
        by_template[template] = sorted([*cfn_lint.result(), *checkov.result(), *by_template[template]])
    left, explained = policy_tools.explain_control_tower(
        document, template, by_template, enforced=control_tower_enforced
    )
    return Listing(resolved, left, explained, policy_tools.suppressed(report))


def lint(
    template: Path,
    rule_configuration: Sequence[str] = (),
    parameter_files: Sequence[Path] = policy_tools.DEFAULT_PARAMETER_FILES,
    *,
    control_tower_enforced: bool = False,
) -> ExitCode:
    """Print every tool's findings as one listing; FAILED when there is any, USAGE when it cannot lint."""
    try:
        listing = collect(
            template, rule_configuration, parameter_files, control_tower_enforced=control_tower_enforced
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
        print(f"\n{policy_tools.CDK_NAG}: {suppressed}")
    every_finding = [finding for findings in listing.findings.values() for finding in findings]
    if every_finding:
        print(f"\n{template}: {len(every_finding)} finding(s) ({_counts(every_finding)})")
        for path, findings in listing.findings.items():
            print(f"  {listing.label(path)}: {len(findings)} ({_counts(findings)})")
        return ExitCode.FAILED
    variants = ", ".join(listing.label(path) for path in listing.findings)
    print(
        f"\n{template}: clean (cfn-lint with {RULES_DIRECTORY.name}/, checkov, Control Tower's proactive "
        f"controls and cdk-nag found nothing unexplained; {variants})"
    )
    return ExitCode.OK


def print_explained(listing: Listing) -> None:
    """The Control Tower findings the template explains, one line per control and explanation."""
    resources: dict[tuple[str, str], set[str]] = {}
    variants: dict[tuple[str, str], list[str]] = {}
    for path, explained in listing.explained.items():
        for item in explained:
            key = (item.finding.rule_id, item.explanation)
            resources.setdefault(key, set()).add(item.finding.resource.removeprefix("Resources."))
            if listing.label(path) not in variants.setdefault(key, []):
                variants[key].append(listing.label(path))
    if not resources:
        return
    print(
        f"\n{policy_tools.CONTROL_TOWER}: findings the template explains"
        " (its Metadata, TapStack::ControlTower):"
    )
    for (control, explanation), names in sorted(resources.items()):
        print(f"  {control} {', '.join(sorted(names))} ({', '.join(variants[control, explanation])}):")
        print(f"    {explanation}")


def _counts(findings: Iterable[Finding]) -> str:
    tools = [finding.tool for finding in findings]
    return ", ".join(f"{tool}: {tools.count(tool)}" for tool in TOOLS)


def _shown(path: Path) -> Path:
    """`path` relative to the working directory when it is inside it, as a reader would type it."""
    relative = os.path.relpath(path)
    return Path(relative) if not relative.startswith("..") else path
