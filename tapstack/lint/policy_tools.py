"""Policy as code for `tapstack lint`: AWS Control Tower's proactive controls and cdk-nag's rule packs.

Organisations that run AWS Control Tower enforce its proactive controls as CloudFormation hooks,
which evaluate each resource's properties once CloudFormation has resolved them: a stack failing one
does not deploy there. So the template is checked as written and as each parameter file resolves it:

- `resolve` applies a parameter file the way CloudFormation would (conditions decided, `Fn::If`
  replaced by its branch, parameters substituted), leaving references to resources, pseudo
  parameters and parameters only the deploy supplies as they are; `write_resolved` writes the
  result under build/policy/.
- `run` gives those files to policy/check.js (Node, its packages pinned by policy/package-lock.json),
  which runs the Control Tower rules with the cfn-guard binary that @cdklabs/cdk-validator-cfnguard
  bundles, and cdk-nag's AwsSolutions, Serverless, NIST 800-53 rev 5, PCI DSS 3.2.1 and HIPAA
  Security packs over each template included with CfnInclude.
- `findings` turns its report into the listing's findings, by template.

A cdk-nag rule that does not fit the stack is suppressed with a reason in the resource's Metadata:
`{"cdk_nag": {"rules_to_suppress": [{"id": "AwsSolutions-SQS3", "reason": "why"}]}}` (cdk-nag reads it
itself, and wants a reason of 10 characters or more). A Control Tower control cannot be suppressed:
the hook runs whatever the template says.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import takewhile
from pathlib import Path
from typing import Any, Final

from tapstack import paths
from tapstack.cfn.model import (
    NO_VALUE,
    Resolver,
    Template,
    UnresolvableError,
    intrinsic_name,
    replace_sub_variables,
    sub_parts,
)
from tapstack.lint.findings import CannotLintError, Finding, line_of, parse_json, run_tool
from tapstack.parameter_files import ParameterFileError, load_parameter_file
from templates.common import RULE_MISREADS_FN_IF
from templates.contract import CONTROL_TOWER_METADATA

POLICY: Final = paths.REPOSITORY / "policy"
POLICY_CHECK: Final = POLICY / "check.js"
NODE_MODULES: Final = POLICY / "node_modules"
RESOLVED: Final = paths.BUILD / "policy"
DEFAULT_PARAMETER_FILES: Final = (
    paths.PARAMS / "dev.json",
    paths.PARAMS / "prod.json",
    paths.PARAMS / "landing-zone.json",
)

CONTROL_TOWER: Final = "control-tower"
CDK_NAG: Final = "cdk-nag"
# "[CT.S3.PR.2]: Require an Amazon S3 bucket to have server access logging configured"
_CONTROL_DESCRIPTION: Final = re.compile(r"\s*\[(?P<control>[^\]]+)\]:\s*(?P<text>.*)", re.DOTALL)
_MOST_PROPERTIES_NAMED: Final = 3
_UNSUPPRESSIBLE: Final = "a Control Tower control runs as a CloudFormation hook: it cannot be suppressed"
PASSES_RESOLVED: Final = "passes once resolved with each parameter file, as the hook sees it"
_MET_BY: Final = "met by "


@dataclass(frozen=True)
class ResolvedTemplate:
    """A template with one parameter file applied, as written under build/policy/."""

    path: Path
    parameter_file: Path
    # Parameters neither the file nor a Default gives (the deploy supplies them): left as references.
    unresolved: tuple[str, ...]


# What a hook sees in place of the pseudo parameters: a placeholder account in a real Region (no control
# compares them with anything; some want a non-empty SourceAccount or an ARN's shape).
HOOK_PSEUDO_PARAMETERS: Final = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
SUFFIX_PARAMETER: Final = "EnvironmentSuffix"


def resolve(
    document: Mapping[str, Any], overrides: Mapping[str, str], *, environment_suffix: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """`document` as a CloudFormation hook sees its resources: with parameter values `overrides` (over
    the Defaults, and `environment_suffix` for EnvironmentSuffix, which the deploy gives) applied, the
    pseudo parameters of HOOK_PSEUDO_PARAMETERS, and each S3 bucket's `Ref` and `Arn` known once its
    BucketName is; with the names of the parameters that have no value, which stay declared and
    referenced.

    Resources and outputs whose Condition is false are left out and the others lose their Condition;
    `Fn::If` becomes its branch, `Ref: AWS::NoValue` removes its entry, a parameter's `Ref` or `Fn::Sub`
    placeholder becomes its value (a Number parameter's as a number), and a function left with nothing
    unknown is evaluated. A cdk-nag suppression whose reason says the rule misreads an `Fn::If`
    (RULE_MISREADS_FN_IF) is dropped: with the `Fn::If` gone, the copy must pass that rule on its own.
    Raises UnresolvableError when a condition needs a value nothing gives.
    """
    template = Template(document)
    declared = template.parameters
    given_overrides = dict(overrides)
    if environment_suffix is not None and SUFFIX_PARAMETER in declared:
        given_overrides.setdefault(SUFFIX_PARAMETER, environment_suffix)
    given = template.resolver(given_overrides).parameters
    values = {name: _typed(name, declared[name], given[name]) for name in declared if name in given}
    unresolved = sorted(declared.keys() - values.keys())
    resolver = Resolver(parameters={**values, **HOOK_PSEUDO_PARAMETERS}, conditions=template.conditions)
    resolver = _with_bucket_names(resolver, template)
    resolved = {key: value for key, value in document.items() if key not in ("Parameters", "Conditions")}
    if unresolved:
        resolved["Parameters"] = {name: declared[name] for name in unresolved}
    for section in ("Resources", "Outputs"):
        if isinstance(document.get(section), Mapping):
            resolved[section] = {
                name: _without_condition(_partially_resolved(resolver, entry))
                for name, entry in document[section].items()
                if not (isinstance(entry, Mapping) and "Condition" in entry)
                or resolver.condition(entry["Condition"])
            }
    for entry in resolved.get("Resources", {}).values():
        _drop_misread_suppressions(entry)
    return resolved, unresolved


def _drop_misread_suppressions(resource: Any) -> None:
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    cdk_nag = metadata.get("cdk_nag") if isinstance(metadata, dict) else None
    if not isinstance(cdk_nag, dict) or not isinstance(cdk_nag.get("rules_to_suppress"), list):
        return
    cdk_nag["rules_to_suppress"] = [
        suppression
        for suppression in cdk_nag["rules_to_suppress"]
        if not (isinstance(suppression, dict) and RULE_MISREADS_FN_IF in str(suppression.get("reason")))
    ]


def _with_bucket_names(resolver: Resolver, template: Template) -> Resolver:
    """`resolver` knowing what `Ref` and `Fn::GetAtt ... Arn` give for each bucket whose BucketName it
    can evaluate: the hook of a bucket policy sees the bucket's ARN, not the function that names it."""
    names: dict[str, str] = {}
    for resource in template.resources_of_type("AWS::S3::Bucket"):
        try:
            name = resolver.resolve(resource.properties.get("BucketName"))
        except UnresolvableError:
            continue
        if isinstance(name, str):
            names[resource.logical_id] = name
    partition = HOOK_PSEUDO_PARAMETERS["AWS::Partition"]
    return Resolver(
        parameters=resolver.parameters,
        conditions=resolver.conditions,
        physical_ids=names,
        attributes={bucket: {"Arn": f"arn:{partition}:s3:::{name}"} for bucket, name in names.items()},
    )


def _typed(name: str, declaration: Mapping[str, Any], value: Any) -> Any:
    """A parameter's value as the template would have it written: a parameter file gives strings, but
    a rule comparing `RetentionInDays >= 365` needs the number."""
    if declaration.get("Type") != "Number" or not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError as error:
        raise UnresolvableError(f"parameter {name}: {value!r} is not a Number") from error
    return int(number) if number.is_integer() else number


def _without_condition(entry: Any) -> Any:
    return (
        {key: value for key, value in entry.items() if key != "Condition"}
        if isinstance(entry, dict)
        else entry
    )


def _partially_resolved(resolver: Resolver, value: Any) -> Any:
    """`value` with what `resolver` knows evaluated and the rest, references to resources included, kept."""
    function = intrinsic_name(value)
    if function is None:
        if isinstance(value, Mapping):
            entries = {key: _partially_resolved(resolver, item) for key, item in value.items()}
            return {key: item for key, item in entries.items() if item is not NO_VALUE}
        if isinstance(value, list):
            items = [_partially_resolved(resolver, item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        return value
    argument = value[function]
    if function == "Fn::If":
        if not (isinstance(argument, list) and len(argument) == 3):
            raise UnresolvableError(f"Fn::If {argument!r}: expected a list of 3")
        condition, when_true, when_false = argument
        return _partially_resolved(resolver, when_true if resolver.condition(condition) else when_false)
    if function == "Fn::Sub" and (parts := sub_parts(argument)) is not None:
        text, variables = parts
        text = replace_sub_variables(
            text,
            lambda name: (
                str(resolver.parameters[name])
                if name in resolver.parameters and name not in variables
                else None
            ),
        )
        call: dict[str, Any] = {
            "Fn::Sub": [text, _partially_resolved(resolver, variables)] if variables else text
        }
    else:
        call = {function: _partially_resolved(resolver, argument)}
    try:  # evaluated when nothing unknown is left in it: `Fn::Sub "${Suffix}"` becomes "dev"
        return resolver.resolve(call)
    except UnresolvableError:
        return call


def write_resolved(template: Path, document: Mapping[str, Any], parameter_file: Path) -> ResolvedTemplate:
    """`document` (read from `template`) resolved with `parameter_file`, written to
    build/policy/<template>.<parameter file>.json. Raises CannotLintError when the file is not a
    parameter file for this template or a condition needs a value nothing gives."""
    try:
        overrides = load_parameter_file(parameter_file, dict(document))
        resolved, unresolved = resolve(document, overrides, environment_suffix=parameter_file.stem)
    except ParameterFileError as error:
        raise CannotLintError(
            f"cannot resolve {template} with {parameter_file}: {error} (a template these parameter files "
            "are not for: lint it with --raw-only)"
        ) from error
    except UnresolvableError as error:
        raise CannotLintError(f"cannot resolve {template} with {parameter_file}: {error}") from error
    RESOLVED.mkdir(parents=True, exist_ok=True)
    path = RESOLVED / f"{template.stem}.{parameter_file.stem}.json"
    # Written whole, then renamed: a parallel lint of the same template reads a complete file.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(resolved, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return ResolvedTemplate(path, parameter_file, tuple(unresolved))


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


@dataclass(frozen=True, order=True)
class Explained:
    """A Control Tower finding the template explains: which parameter values meet the control, why the
    stack cannot, or that the hook, which sees resolved properties, would pass it."""

    explanation: str
    finding: Finding


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
