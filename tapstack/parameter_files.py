"""Parameter files: the `--parameter-overrides` of `aws cloudformation deploy`, a JSON list of "Key=Value".

Read by deploy, preflight, diff and lint alike, and checked against the template as CloudFormation checks
parameter values, before anything reaches AWS; no AWS SDK is imported here, so lint and generation stay
free of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from tapstack.exits import CommandError
from templates.contract import PAYPAL_SIMULATOR_PARAMETER

FORMAT_HINT = 'a JSON list of "Key=Value", see params/dev.json'
DEVELOPMENT_FILE = re.compile(r"(dev|local)(-[A-Za-z0-9_-]+)?\.json")
"""A development parameter file's name: dev.json, local.json, dev-<name>.json or local-<name>.json,
none naming prod. Any other (params/prod.json, params/landing-zone.json, ...) may be production's."""
# CloudFormation's Number: "an integer or float", given as a string; signed, with an optional exponent.
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class ParameterFileError(CommandError):
    """A parameter file that cannot be deployed as it is: the user's input to fix, before any AWS call."""


class ParameterValueError(ParameterFileError):
    """Values CloudFormation would refuse: one line per problem, each naming its parameter, value, rule
    and fix."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        lines = "\n".join(f"  {path}: {problem}" for problem in problems)
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        super().__init__(f"{path}: {count}, found before any AWS call\n{lines}")
        self.problems = problems


def load_parameter_file(path: Path, template: Mapping[str, Any] | None = None) -> dict[str, str]:
    """A `--parameter-overrides` file of `aws cloudformation deploy`: a JSON list of "Key=Value".

    Checked before anything reaches AWS or the artifact is built: readable, JSON, that format, each key
    once, and (given the template) only keys the template declares, with values its constraints allow.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _unusable(f"cannot read the parameter file {path}: {error.strerror}") from error
    except ValueError as error:
        raise _unusable(f"{path} is not valid JSON ({error})") from error
    if not isinstance(entries, list) or not all(isinstance(entry, str) and "=" in entry for entry in entries):
        raise _unusable(f'{path}: expected a JSON list of "Key=Value" strings')
    overrides: dict[str, str] = {}
    problems: list[str] = []
    for key, value in (entry.split("=", 1) for entry in entries):
        if not key:
            problems.append(f'"={value}" names no parameter: write it as "Key={value}"')
        elif key in overrides:
            problems.append(
                f"{key} is given twice ({key}={overrides[key]} and {key}={value}); the AWS CLI would "
                "silently take the last: keep the one you mean"
            )
        else:
            overrides[key] = value
    if template is not None:
        problems += parameter_problems(overrides, template.get("Parameters", {}))
    problems += development_only_problems(path, overrides)
    if problems:
        raise ParameterValueError(path, problems)
    return overrides


def with_added_values(path: Path, added: list[str], template: Mapping[str, Any]) -> dict[str, str]:
    """The parameter file's values and the `Key=Value` pairs `added` (the three the deploy adds, say),
    checked together as the deploy checks the file: each key once, only declared keys, allowed values."""
    combined = load_parameter_file(path)
    problems: list[str] = []
    for entry in added:
        key, equals, value = entry.partition("=")
        if not key or not equals:
            problems.append(f'--add {entry} is not "Key=Value": write it as e.g. --add EnvironmentSuffix=dev')
        elif key in combined:
            problems.append(f"{key} is given twice ({key}={combined[key]} and --add {entry}): keep one")
        else:
            combined[key] = value
    problems += parameter_problems(combined, template.get("Parameters", {}))
    if problems:
        raise ParameterValueError(path, problems)
    return combined


def as_overrides(values: Mapping[str, str]) -> str:
    """A parameter file (`aws cloudformation deploy --parameter-overrides file://...`): ["Key=Value", ...]."""
    return json.dumps([f"{key}={value}" for key, value in values.items()], indent=2) + "\n"


def as_parameters(values: Mapping[str, str]) -> str:
    """`aws cloudformation create-stack|update-stack --parameters file://...`: [{"ParameterKey": ...}]."""
    entries = [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]
    return json.dumps(entries, indent=2) + "\n"


def is_development_file(path: Path) -> bool:
    """Whether `path` names a development parameter file (`DEVELOPMENT_FILE`)."""
    return DEVELOPMENT_FILE.fullmatch(path.name) is not None and "prod" not in path.name.lower()


def development_only_problems(path: Path, overrides: Mapping[str, str]) -> list[str]:
    """Settings only a developer stack may have, set in a file that may be production's."""
    if overrides.get(PAYPAL_SIMULATOR_PARAMETER) != "true" or is_development_file(path):
        return []
    return [
        f"{PAYPAL_SIMULATOR_PARAMETER}=true accepts PayPal simulator events, which anyone can send: it is "
        "for developer stacks only, remove it (only dev.json, local.json, dev-*.json or local-*.json may "
        "set it)"
    ]


def _unusable(message: str) -> ParameterFileError:
    return ParameterFileError(f"{message}; fix the file ({FORMAT_HINT})")


def parameter_problems(overrides: Mapping[str, str], declared: Mapping[str, Any]) -> list[str]:
    """What CloudFormation would refuse in `overrides` against the template's `declared` parameters."""
    problems: list[str] = []
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        choices = f"use one of {', '.join(sorted(declared))}" if declared else "it declares none"
        problems.append(
            f"sets {', '.join(unknown)}, which the template does not declare: remove them ({choices})"
        )
    for key, value in overrides.items():
        if key in declared:
            problems += value_problems(key, value, declared[key])
    return problems


def value_problems(key: str, value: str, parameter: Mapping[str, Any]) -> list[str]:
    """The constraints `value` breaks, by CloudFormation's semantics for the parameter's Type.

    List types (CommaDelimitedList, List<...>) are checked element by element (AllowedPattern and
    AllowedValues apply to each); MinLength/MaxLength apply to String values; MinValue/MaxValue to
    numbers. AWS-specific types are checked as their strings: whether the resource exists is AWS's to say.
    """
    kind = str(parameter.get("Type", "String"))
    is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
    numeric = kind in ("Number", "List<Number>")
    elements = value.split(",") if is_list else [value]
    problems = list(_element_problems(key, value, elements, parameter, numeric, is_list))
    if not is_list:
        problems += _length_problems(key, value, parameter)
    return problems


def _element_problems(
    key: str, value: str, elements: list[str], parameter: Mapping[str, Any], numeric: bool, is_list: bool
) -> Iterator[str]:
    described = parameter.get("ConstraintDescription")
    wanted = f"write {described}" if described else "write a value it matches"
    for element in elements:
        named = f"{key}={value}" + (f": element {element!r}" if is_list else "")
        if numeric:
            if not NUMBER.fullmatch(element):
                yield f"{named} is not a number (Type {parameter['Type']}): write an integer or a decimal"
                continue
            yield from _range_problems(named, Decimal(element), parameter)
        allowed = parameter.get("AllowedValues")
        if allowed is not None and element not in map(str, allowed):
            yield f"{named} is not one of AllowedValues: use one of {', '.join(map(str, allowed))}"
        pattern = parameter.get("AllowedPattern")
        # CloudFormation: the pattern must match the entire value (each element of a list).
        if pattern is not None and not re.fullmatch(pattern, element):
            yield f"{named} does not match AllowedPattern {pattern}: {wanted}"


def _range_problems(named: str, number: Decimal, parameter: Mapping[str, Any]) -> Iterator[str]:
    low, high = parameter.get("MinValue"), parameter.get("MaxValue")
    if low is not None and high is not None:
        bounds = f"from {low} to {high}"
    else:
        bounds = f"of at least {low}" if low is not None else f"of at most {high}"
    if low is not None and number < Decimal(str(low)):
        yield f"{named} is below MinValue {low}: use a number {bounds}"
    if high is not None and number > Decimal(str(high)):
        yield f"{named} is above MaxValue {high}: use a number {bounds}"


def _length_problems(key: str, value: str, parameter: Mapping[str, Any]) -> Iterator[str]:
    shortest, longest = parameter.get("MinLength"), parameter.get("MaxLength")
    if shortest is not None and len(value) < int(shortest):
        yield f"{key}={value} is shorter than MinLength {shortest}: give at least {shortest} characters"
    if longest is not None and len(value) > int(longest):
        yield f"{key}={value} is longer than MaxLength {longest}: give at most {longest} characters"
