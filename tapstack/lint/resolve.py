"""The templates `tapstack lint` lints: the template as written, and as each parameter file resolves it.

Organisations that run AWS Control Tower enforce its proactive controls as CloudFormation hooks,
which evaluate each resource's properties once CloudFormation has resolved them: a stack failing one
does not deploy there. So the policy tools lint the template as written and as each parameter file
resolves it:

- `decode_template` reads the template as written, refusing a file that is not one;
- `resolve` applies a parameter file the way CloudFormation would (conditions decided, `Fn::If`
  replaced by its branch, parameters substituted), leaving references to resources, pseudo
  parameters and parameters only the deploy supplies as they are; `write_resolved` writes the
  result under build/policy/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
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
from tapstack.lint.findings import CannotLintError
from tapstack.parameter_files import ParameterFileError, load_parameter_file
from templates.common import RULE_MISREADS_FN_IF

RESOLVED: Final = paths.BUILD / "policy"


def decode_template(template: Path) -> dict[str, Any]:
    """The template document, or CannotLintError unless `template` is a readable JSON or YAML
    CloudFormation template. Its nodes carry their positions in the file (see findings.line_of)."""
    if not template.is_file():
        raise CannotLintError(f"{template}: no such template file (generate it first: make template)")
    try:
        template.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise CannotLintError(
            f"{template}: not a text file (byte {error.start} is not UTF-8); a template is JSON or YAML text"
        ) from error
    # cfn-lint's decoder costs most of a command's start-up: only `lint` pays for it
    from cfnlint.decode import decode  # noqa: PLC0415

    decoded, parse_errors = decode(str(template))
    if parse_errors:
        details = "; ".join(f"line {error.linenumber}: {error.message}" for error in parse_errors)
        raise CannotLintError(f"{template}: cannot be parsed as JSON or YAML: {details}")
    if not isinstance(decoded, dict) or not isinstance(decoded.get("Resources"), dict):
        raise CannotLintError(f"{template}: not a CloudFormation template (no Resources mapping)")
    return decoded


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
