"""What the TapStack rules need to read a CloudFormation template: values behind intrinsic functions.

Every rule in this directory judges property values that may be literals or intrinsic functions. The
template itself (its sections, `Fn::Sub` placeholders, references) is read through `tapstack.cfn.model`;
what is particular to the rules lives here once, over cfn-lint's decoded template, keeping the template
path of every value so that a match points at its line:

- `Resource.lookup` / `branches` expand `Fn::If` into one `Branch` per outcome, each with its template path
  (for the line number) and `NO_VALUE` where `Ref: AWS::NoValue` or a missing key leaves the property unset.
- `parameter_values`, `possible_literals` and `number_range` turn a `Ref` to a parameter into the values it
  can take: its `AllowedValues`, or for numbers its `MinValue`..`MaxValue`. A parameter without such a
  constraint can take any value at deploy time, so it proves nothing either way (`None`).
- `string_forms` renders a value as the `Fn::Sub` strings it can produce (`Ref X` -> `${X}`, `Fn::Join`
  joined, `Fn::If` as alternatives), which is how names, ARNs and export names are compared
  (`includes_environment_suffix`); `referenced_names` is what a value refers to, pseudo parameters aside.
- `violations` judges every outcome of a property against a predicate (literals, parameter values,
  unresolvable functions), `elements` expands lists element by element, and `reserved_concurrency`
  is what both concurrency rules (W9040, E9041) count.

cfn-lint ships no type information; under `TYPE_CHECKING` this module declares the part of
`CloudFormationLintRule` and `RuleMatch` that the rules use, so they type-check without `type: ignore`.
At run time the names are cfn-lint's own classes, which is what `--append-rules` looks for.
cfn-lint loads only files whose name starts with a letter or digit, so it never takes this module for
a rule file.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

from tapstack.cfn import model
from tapstack.cfn.model import (
    NO_VALUE,
    PSEUDO_PARAMETER_PREFIX,
    get_att_parts,
    intrinsic_name,
    references,
    replace_sub_variables,
    sub_parts,
    sub_variables,
)
from templates.contract import SUFFIX_PARAMETER

if TYPE_CHECKING:

    class RuleMatch:
        path: list[str | int]
        message: str

        def __init__(self, path: Sequence[str | int], message: str) -> None: ...

    class CloudFormationLintRule:
        id: str
        shortdesc: str
        description: str
        source_url: str
        tags: ClassVar[list[str]]
        config: dict[str, Any]
        config_definition: dict[str, Any]

        def __init__(self) -> None: ...

        def match(self, cfn: Any) -> list[RuleMatch]: ...

else:
    from cfnlint.rules import CloudFormationLintRule, RuleMatch

__all__ = [
    "ENVIRONMENT_SUFFIX",
    "NO_VALUE",
    "Branch",
    "CloudFormationLintRule",
    "NumberRange",
    "ParameterValues",
    "Reservation",
    "Resource",
    "RuleMatch",
    "Template",
    "Violation",
    "as_number",
    "branches",
    "condition_by_default",
    "describe",
    "elements",
    "includes_environment_suffix",
    "intrinsic_name",
    "is_kms_key_id_ref",
    "is_true",
    "lookup",
    "number_range",
    "parameter_values",
    "possible_literals",
    "referenced_names",
    "reserved_concurrency",
    "resources",
    "rule_match",
    "string_forms",
    "unset",
    "violations",
]

TemplatePath = tuple[str | int, ...]

# The parameter every physical name and export name must contain, so that stacks for several
# environments (and CI runs) can live in one account and region side by side.
ENVIRONMENT_SUFFIX: Final = SUFFIX_PARAMETER

# Rendering every combination of nested Fn::If inside Fn::Join could explode; past this many
# alternatives the extra ones are dropped (templates here have at most a handful).
_MAX_STRING_FORMS: Final = 64


class Template(Protocol):
    """The part of `cfnlint.template.Template` the rules read: the decoded template mapping."""

    template: dict[str, Any]


@dataclass(frozen=True)
class Branch:
    """One outcome of a property's value once the `Fn::If` around it are decided."""

    value: Any
    path: TemplatePath


@dataclass(frozen=True)
class Resource(model.Resource):
    """A resource as the rules judge it: where it is in the template, and its properties' outcomes."""

    @property
    def name(self) -> str:
        """Its logical id, as the rules' messages name it."""
        return self.logical_id

    @property
    def path(self) -> TemplatePath:
        return ("Resources", self.logical_id)

    def lookup(self, *keys: str) -> list[Branch]:
        """The outcomes of `Properties.<keys...>`, following `Fn::If` at every level (Properties too)."""
        return lookup(self.definition.get("Properties", {}), (*self.path, "Properties"), *keys)

    def string_forms(self, *keys: str) -> list[str]:
        """The `Fn::Sub`-style strings `Properties.<keys...>` can be, over every outcome but NoValue."""
        return [
            form
            for branch in self.lookup(*keys)
            if branch.value is not NO_VALUE
            for form in string_forms(branch.value)
        ]


def resources(cfn: Template, *types: str) -> list[Resource]:
    """The resources of these types (every resource if none is given), in the template's order."""
    return [
        Resource(resource.logical_id, resource.type, resource.definition)
        for resource in model.Template(cfn.template).resources_of_type(*types)
    ]


def branches(value: Any, path: TemplatePath) -> list[Branch]:
    """The outcomes of `value`: both sides of every `Fn::If`, with `NO_VALUE` for `Ref: AWS::NoValue`."""
    function = intrinsic_name(value)
    if function == "Ref" and value["Ref"] == "AWS::NoValue":
        return [Branch(NO_VALUE, path)]
    if function == "Fn::If":
        arguments = value["Fn::If"]
        if isinstance(arguments, list) and len(arguments) == 3:
            return [
                *branches(arguments[1], (*path, "Fn::If", 1)),
                *branches(arguments[2], (*path, "Fn::If", 2)),
            ]
    return [Branch(value, path)]


def lookup(value: Any, path: TemplatePath, *keys: str) -> list[Branch]:
    """The outcomes of `value[keys[0]][keys[1]]...`; the first missing key gives `NO_VALUE` at its path.

    A level that is another intrinsic function (a `Ref` to a parameter, `Fn::GetAtt`, ...) cannot be
    looked into, so that branch is returned as it is and the caller judges it as a whole.
    """
    found = branches(value, path)
    for key in keys:
        deeper: list[Branch] = []
        for branch in found:
            if branch.value is NO_VALUE or intrinsic_name(branch.value) is not None:
                deeper.append(branch)
            elif isinstance(branch.value, Mapping) and key in branch.value:
                deeper.extend(branches(branch.value[key], (*branch.path, key)))
            else:
                deeper.append(Branch(NO_VALUE, (*branch.path, key)))
        found = deeper
    return found


@dataclass(frozen=True)
class NumberRange:
    """The smallest and largest number a value can take; None where nothing bounds it."""

    low: float | None
    high: float | None

    def within(self, low: float, high: float) -> bool:
        return self.low is not None and self.high is not None and low <= self.low and self.high <= high

    def describe(self) -> str:
        def bound(number: float | None) -> str:
            return "unbounded" if number is None else f"{number:g}"

        if self.low is not None and self.low == self.high:
            return bound(self.low)
        return f"{bound(self.low)}..{bound(self.high)}"


@dataclass(frozen=True)
class ParameterValues:
    """What a `Ref` to a template parameter can resolve to."""

    name: str
    default: Any
    allowed_values: tuple[Any, ...] | None
    min_value: float | None
    max_value: float | None


def parameter_values(value: Any, cfn: Template) -> ParameterValues | None:
    """The parameter behind `{"Ref": name}`, or None when `value` is not a `Ref` to a parameter."""
    if intrinsic_name(value) != "Ref":
        return None
    declaration = model.Template(cfn.template).parameters.get(value["Ref"])
    if declaration is None:
        return None
    allowed_values = declaration.get("AllowedValues")
    return ParameterValues(
        name=str(value["Ref"]),
        default=declaration.get("Default", NO_VALUE),
        allowed_values=tuple(allowed_values) if isinstance(allowed_values, list) else None,
        min_value=as_number(declaration.get("MinValue")),
        max_value=as_number(declaration.get("MaxValue")),
    )


def condition_by_default(cfn: Template, name: str) -> bool | None:
    """Whether the template's condition `name` holds with every parameter at its Default; None when it
    depends on something without one (a parameter without Default, a pseudo parameter, an unknown name)."""
    try:
        return model.Template(cfn.template).resolver().condition(name)
    except model.UnresolvableError:
        return None


def possible_literals(value: Any, cfn: Template) -> tuple[Any, ...] | None:
    """Every literal `value` (one `Fn::If` outcome) can be, or None when deploy-time input decides.

    A literal is itself; a `Ref` to a parameter with `AllowedValues` is those values; a parameter
    without them, and any other intrinsic function, can be anything.
    """
    parameter = parameter_values(value, cfn)
    if parameter is not None:
        return parameter.allowed_values
    if intrinsic_name(value) is not None:
        return None
    return (value,)


def number_range(value: Any, cfn: Template) -> NumberRange | None:
    """The numbers `value` (one `Fn::If` outcome) can be; None when it is not a number at all.

    A `Ref` to a parameter is bounded by its `AllowedValues`, else by its `MinValue`/`MaxValue`, and
    always includes its `Default` (CloudFormation validates the default against neither bound).
    """
    parameter = parameter_values(value, cfn)
    if parameter is None:
        number = as_number(value)
        return None if number is None else NumberRange(number, number)
    if parameter.allowed_values is not None:
        numbers = [as_number(allowed) for allowed in parameter.allowed_values]
        if any(number is None for number in numbers) or not numbers:
            return NumberRange(None, None)
        return NumberRange(min(n for n in numbers if n is not None), max(n for n in numbers if n is not None))
    low, high = parameter.min_value, parameter.max_value
    default = as_number(parameter.default)
    if default is not None:
        low = None if low is None else min(low, default)
        high = None if high is None else max(high, default)
    return NumberRange(low, high)


def as_number(value: Any) -> float | None:
    """`value` as a number when it is one (JSON/YAML number or numeric string); booleans are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def is_true(value: Any) -> bool:
    """CloudFormation accepts both `true` and `"true"` for boolean properties."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def string_forms(value: Any) -> list[str]:
    """The `Fn::Sub`-style strings `value` can produce, one per `Fn::If` alternative.

    `Ref: X` is `${X}`, `Fn::GetAtt: [X, Attr]` is `${X.Attr}`, `Fn::Sub` variables are substituted,
    `Fn::Join` is joined, `Fn::If` yields each side except `AWS::NoValue`. Other functions
    (`Fn::ImportValue`, `Fn::Select`, ...) render as an opaque `${Fn::...}` that matches nothing.
    """
    function = intrinsic_name(value)
    if function is None:
        return [str(value)] if isinstance(value, str | int | float) else []
    render = _FUNCTION_FORMS.get(function)
    forms = render(value[function]) if render is not None else None
    return ["${" + function + "}"] if forms is None else forms


def _ref_forms(name: Any) -> list[str] | None:
    return [] if name == "AWS::NoValue" else ["${" + str(name) + "}"]


def _getatt_forms(arguments: Any) -> list[str] | None:
    parts = get_att_parts(arguments)
    if parts is None:
        return None
    logical_id, attribute = parts
    return ["${" + f"{logical_id}.{attribute}" + "}"]


def _if_forms(arguments: Any) -> list[str] | None:
    if not (isinstance(arguments, list) and len(arguments) == 3):
        return None
    return [*string_forms(arguments[1]), *string_forms(arguments[2])][:_MAX_STRING_FORMS]


def _join_forms(arguments: Any) -> list[str] | None:
    if not (isinstance(arguments, list) and len(arguments) == 2):
        return None
    delimiter, parts = arguments
    if not (isinstance(delimiter, str) and isinstance(parts, list)):
        return None
    return _combine([string_forms(part) for part in parts], str(delimiter).join)


def _sub_forms(arguments: Any) -> list[str] | None:
    parts = sub_parts(arguments)
    if parts is None:
        return None
    text, variables = parts
    substituted = [name for name in sub_variables(text) if name in variables]
    if not substituted:
        return [text]

    def render(values: Sequence[str]) -> str:
        chosen = dict(zip(substituted, values, strict=True))
        return replace_sub_variables(text, chosen.get)

    return _combine([string_forms(variables[name]) for name in substituted], render)


_FUNCTION_FORMS: Final[dict[str, Callable[[Any], list[str] | None]]] = {
    "Ref": _ref_forms,
    "Fn::GetAtt": _getatt_forms,
    "Fn::If": _if_forms,
    "Fn::Join": _join_forms,
    "Fn::Sub": _sub_forms,
}


def _combine(alternatives: list[list[str]], render: Callable[[Sequence[str]], str]) -> list[str]:
    combinations = itertools.islice(itertools.product(*alternatives), _MAX_STRING_FORMS)
    return [render(combination) for combination in combinations]


def referenced_names(value: Any) -> set[str]:
    """Logical ids (and parameters) that `value` refers to through `Ref`, `Fn::GetAtt` or `Fn::Sub`
    placeholders; pseudo parameters are not the template's own, so they are left out."""
    return {name for name in references(value) if not name.startswith(PSEUDO_PARAMETER_PREFIX)}


def includes_environment_suffix(value: Any, cfn: Template, *, via_resources: bool) -> bool:
    """True when every string `value` can produce contains `${EnvironmentSuffix}`.

    With `via_resources`, a name built from another resource of the stack (`${ReceiverFunction}`) counts
    too: that resource's own name carries the suffix (the same check) or is generated unique by
    CloudFormation.
    """
    accepted = {ENVIRONMENT_SUFFIX}
    if via_resources:
        accepted |= {resource.name for resource in resources(cfn)}
    forms = string_forms(value)

    def carries_suffix(form: str) -> bool:
        placeholders = {placeholder.split(".", 1)[0] for placeholder in sub_variables(form)}
        return bool(placeholders & accepted)

    return bool(forms) and all(carries_suffix(form) for form in forms)


@dataclass(frozen=True)
class Violation:
    """A branch whose value fails a rule, with how that value reads in a message."""

    path: TemplatePath
    found: str


def violations(
    found: list[Branch],
    cfn: Template,
    acceptable: Callable[[Any], bool],
    *,
    unresolved_is_acceptable: bool = False,
) -> list[Violation]:
    """The branches whose possible values are not all `acceptable` (which also judges `NO_VALUE`).

    A `Ref` to a parameter fails when one of its `AllowedValues` fails or when it has none (it can then
    be anything at deploy time); any other unresolvable intrinsic function fails as unverifiable. Where
    any resolved value will do (a key given by `Fn::GetAtt Key.Arn`), `unresolved_is_acceptable` says so.
    """
    found_violations: list[Violation] = []
    for branch in found:
        if branch.value is NO_VALUE:
            if not acceptable(NO_VALUE):
                found_violations.append(Violation(branch.path, "not set"))
            continue
        literals = possible_literals(branch.value, cfn)
        parameter = parameter_values(branch.value, cfn)
        if literals is None:
            if unresolved_is_acceptable:
                continue
            reading = (
                f"parameter {parameter.name} without AllowedValues (any value at deploy time)"
                if parameter is not None
                else f"{intrinsic_name(branch.value)} (cannot be resolved; use a literal)"
            )
            found_violations.append(Violation(branch.path, reading))
            continue
        failing = [describe(literal) for literal in literals if not acceptable(literal)]
        if failing:
            prefix = f"parameter {parameter.name} allowing " if parameter is not None else ""
            found_violations.append(Violation(branch.path, prefix + ", ".join(failing)))
    return found_violations


def describe(value: Any) -> str:
    """A literal as a message shows it."""
    if value is NO_VALUE:
        return "not set"
    return json.dumps(value, default=str)


def unset(found: list[Branch]) -> list[Branch]:
    """The branches where the property ends up not set."""
    return [branch for branch in found if branch.value is NO_VALUE]


def is_kms_key_id_ref(value: Any, cfn: Template) -> bool:
    """`Ref` to an `AWS::KMS::Key` resource: the key *id*, where Lambda and CloudWatch Logs need its ARN."""
    return intrinsic_name(value) == "Ref" and any(
        key.name == value["Ref"] for key in resources(cfn, "AWS::KMS::Key")
    )


def rule_match(path: TemplatePath, message: str) -> RuleMatch:
    return RuleMatch(list(path), message)


@dataclass(frozen=True)
class Reservation:
    """One `Fn::If` side of a function's `ReservedConcurrentExecutions` that reserves concurrency."""

    path: TemplatePath
    amount: float | None  # None when an intrinsic function or a parameter without Default hides it
    origin: str
    parameter: str | None
    optional: bool  # another Fn::If side drops the property through AWS::NoValue


def reserved_concurrency(function: Resource, cfn: Template) -> list[Reservation]:
    """What a Lambda function's `ReservedConcurrentExecutions` reserves, one entry per `Fn::If` side."""
    found = function.lookup("ReservedConcurrentExecutions")
    optional = any(branch.value is NO_VALUE for branch in found)
    reservations: list[Reservation] = []
    for branch in found:
        if branch.value is NO_VALUE:
            continue
        parameter = parameter_values(branch.value, cfn)
        if parameter is not None:
            has_default = parameter.default is not NO_VALUE
            amount = as_number(parameter.default) if has_default else None
            origin = f"the Default of parameter {parameter.name}" if has_default else parameter.name
            reservations.append(Reservation(branch.path, amount, origin, parameter.name, optional))
        elif (function_name := intrinsic_name(branch.value)) is not None:
            reservations.append(Reservation(branch.path, None, function_name, None, optional))
        else:
            amount = as_number(branch.value)
            reservations.append(Reservation(branch.path, amount, "a literal", None, optional))
    return reservations


def elements(found: list[Branch]) -> list[Branch]:
    """The outcomes of every element of the list-valued branches; other branches are kept whole."""
    outcomes: list[Branch] = []
    for branch in found:
        if isinstance(branch.value, list):
            for index, element in enumerate(branch.value):
                outcomes.extend(branches(element, (*branch.path, index)))
        else:
            outcomes.append(branch)
    return outcomes
