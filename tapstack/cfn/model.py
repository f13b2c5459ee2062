"""The one model of a CloudFormation template: reading it, walking references, resolving intrinsics.

The report, the cfn-lint rules, the local emulator and runtime and the tests all read templates; they
read them through this module, so that `Fn::Sub` placeholders (with the `${!Literal}` escape),
`Fn::GetAtt` in both its forms and `Ref: AWS::NoValue` mean the same everywhere.

- `read_template` loads a template file; `Template` is its sections, tolerant of a minimal template that
  leaves sections out (the report renders those too).
- `walk` visits every node; `references` lists the names a value refers to (`Ref`, `Fn::GetAtt`,
  `Fn::Sub` placeholders minus the Sub's own variables).
- `sub_parts`, `sub_variables` and `replace_sub_variables` are the one reading of `Fn::Sub`.
- `Resolver.resolve` evaluates a value the way CloudFormation would, given parameter values, the
  template's conditions and what the caller knows of the resources (a deployed stack's physical ids
  and attributes, or local stand-ins); what it cannot evaluate raises `UnresolvableError`, naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final

__all__ = [
    "NO_VALUE",
    "PSEUDO_PARAMETER_PREFIX",
    "Resolver",
    "Resource",
    "Template",
    "TemplateError",
    "UnresolvableError",
    "get_att_parts",
    "intrinsic_name",
    "logical_id_of",
    "read_template",
    "references",
    "replace_sub_variables",
    "sub_parts",
    "sub_variables",
    "walk",
]

# Pseudo parameters (`AWS::Region`, `AWS::NoValue`, ...) share this prefix, which no logical id can have.
PSEUDO_PARAMETER_PREFIX: Final = "AWS::"
_NO_VALUE_REF: Final = "AWS::NoValue"

# `${Name}`, `${Name.Attribute}` or, escaped, `${!Literal}` (which CloudFormation renders as `${Literal}`).
_SUB_PLACEHOLDER: Final = re.compile(r"\$\{([^}]+)\}")
_SUB_ESCAPE: Final = "!"


class _NoValue:
    """The value of a property that `Ref: AWS::NoValue` (or simply leaving it out) removes."""

    def __repr__(self) -> str:
        return _NO_VALUE_REF


NO_VALUE: Final = _NoValue()


class TemplateError(ValueError):
    """A file that parses but is not a template: its document is not a JSON object."""


class UnresolvableError(LookupError):
    """A value `Resolver.resolve` cannot evaluate: a name nothing gives a value for, a function this
    model does not evaluate, or a malformed call. The message names which."""


def read_template(path: Path) -> dict[str, Any]:
    """The template document in a JSON file (what `generate` writes and the report reads).

    Raises OSError when the file cannot be read, ValueError when it is not JSON, TemplateError (a
    ValueError) when the JSON is not an object.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise TemplateError("not a JSON object (a CloudFormation template is one)")
    return document


def walk(node: object) -> Iterator[object]:
    """Every mapping, list and scalar inside node, node included."""
    yield node
    if isinstance(node, Mapping):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def intrinsic_name(value: object) -> str | None:
    """`Ref`, `Fn::If`, ... when `value` is an intrinsic function call, else None."""
    if isinstance(value, Mapping) and len(value) == 1:
        (key,) = value.keys()
        if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
            return str(key)
    return None


def sub_parts(argument: object) -> tuple[str, Mapping[str, Any]] | None:
    """The text and local variables of an `Fn::Sub` argument (a string, or `[text, {name: value}]`);
    None when the argument is neither."""
    if isinstance(argument, str):
        return argument, {}
    if (
        isinstance(argument, list)
        and len(argument) == 2
        and isinstance(argument[0], str)
        and isinstance(argument[1], Mapping)
    ):
        return argument[0], argument[1]
    return None


def sub_variables(text: str) -> list[str]:
    """The placeholders of an `Fn::Sub` text (`Name` or `Name.Attribute`), in order, each once; an
    escaped `${!Literal}` is text, not a placeholder."""
    names = (match[1] for match in _SUB_PLACEHOLDER.finditer(text))
    return list(dict.fromkeys(name for name in names if not name.startswith(_SUB_ESCAPE)))


def replace_sub_variables(text: str, value_of: Callable[[str], str | None]) -> str:
    """`text` with each placeholder `value_of` gives a string for replaced by it. The others, and every
    `${!Literal}`, stay as written, so the result still reads as an `Fn::Sub` text."""
    return _substitute(text, value_of, unescape=False)


def _substitute(text: str, value_of: Callable[[str], str | None], *, unescape: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name.startswith(_SUB_ESCAPE):
            return "${" + name.removeprefix(_SUB_ESCAPE) + "}" if unescape else match[0]
        value = value_of(name)
        return match[0] if value is None else value

    return _SUB_PLACEHOLDER.sub(replace, text)


def get_att_parts(argument: object) -> tuple[str, Any] | None:
    """(logical id, attribute) of an `Fn::GetAtt` argument in either form, `[Name, Attribute]` or
    `"Name.Attribute"`; None when it is neither. In the list form the attribute may be a `Ref`."""
    if isinstance(argument, str) and "." in argument:
        logical_id, _, attribute = argument.partition(".")
        return logical_id, attribute
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        return argument[0], argument[1]
    return None


def references(node: object) -> set[str]:
    """Names node refers to through `Ref`, `Fn::GetAtt` or `Fn::Sub` placeholders, at any depth:
    logical ids, parameters and pseudo parameters. A Sub's own variables are not references, but
    what their values refer to is."""
    found: set[str] = set()
    for item in walk(node):
        function = intrinsic_name(item)
        if function is None or not isinstance(item, Mapping):
            continue
        argument = item[function]
        if function == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif function == "Fn::GetAtt" and (parts := get_att_parts(argument)) is not None:
            found.add(parts[0])
        elif function == "Fn::Sub" and (sub := sub_parts(argument)) is not None:
            text, local_variables = sub
            found |= {name.split(".", 1)[0] for name in sub_variables(text)} - local_variables.keys()
    return found


def logical_id_of(value: object) -> str:
    """The logical id a `Ref` or `Fn::GetAtt` names (the resource a property points at)."""
    if isinstance(value, Mapping):
        function = intrinsic_name(value)
        if function == "Ref" and isinstance(value["Ref"], str):
            return value["Ref"]
        if function == "Fn::GetAtt" and (parts := get_att_parts(value["Fn::GetAtt"])) is not None:
            return str(parts[0])
    raise UnresolvableError(f"{value!r} is not a Ref or Fn::GetAtt naming a resource")


@dataclass(frozen=True)
class Resource:
    """One entry of the template's Resources."""

    logical_id: str
    type: str
    definition: Mapping[str, Any]

    @property
    def properties(self) -> Mapping[str, Any]:
        """Its Properties as written (possibly one `Fn::If` around all of them); empty when absent."""
        properties = self.definition.get("Properties", {})
        return properties if isinstance(properties, Mapping) else {}

    def depends_on(self) -> set[str]:
        """The logical ids in its DependsOn (a name or a list of names)."""
        depends_on = self.definition.get("DependsOn", [])
        if isinstance(depends_on, str):
            return {depends_on}
        return {str(name) for name in depends_on} if isinstance(depends_on, list) else set()


def _section(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    return dict(value) if isinstance(value, Mapping) else {}


class Template:
    """A template's sections, in the document's order. A section that is missing or not a mapping
    reads as empty, and an entry that cannot be what its section holds (a resource without a
    string Type, a parameter or output that is not a mapping) is left out."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    @cached_property
    def resources(self) -> dict[str, Resource]:
        return {
            logical_id: Resource(logical_id, definition["Type"], definition)
            for logical_id, definition in _section(self.document, "Resources").items()
            if isinstance(definition, Mapping) and isinstance(definition.get("Type"), str)
        }

    @cached_property
    def parameters(self) -> dict[str, Mapping[str, Any]]:
        return _mappings(_section(self.document, "Parameters"))

    @cached_property
    def outputs(self) -> dict[str, Mapping[str, Any]]:
        return _mappings(_section(self.document, "Outputs"))

    @cached_property
    def conditions(self) -> dict[str, Any]:
        return _section(self.document, "Conditions")

    @property
    def description(self) -> str | None:
        description = self.document.get("Description")
        return description if isinstance(description, str) else None

    def resources_of_type(self, *resource_types: str) -> list[Resource]:
        """The resources of these types (every resource if none is given), in the document's order."""
        return [
            resource
            for resource in self.resources.values()
            if not resource_types or resource.type in resource_types
        ]

    def properties_of_type(self, *resource_types: str) -> dict[str, Mapping[str, Any]]:
        """Logical id -> Properties of the resources of these types."""
        return {
            resource.logical_id: resource.properties for resource in self.resources_of_type(*resource_types)
        }

    def referenced_resources(self, node: object, *resource_types: str) -> list[str]:
        """The logical ids of the resources (of these types, if given) node refers to, sorted."""
        return sorted(
            name
            for name in references(node) & self.resources.keys()
            if not resource_types or self.resources[name].type in resource_types
        )

    def physical_ids_from_outputs(self, output_values: Mapping[str, str]) -> dict[str, str]:
        """Logical id -> what its `Ref` gives, for each resource an output's Value is the `Ref` of,
        from a deployed stack's output values: what a stack tells of its resources' names."""
        return {
            output["Value"]["Ref"]: output_values[key]
            for key, output in self.outputs.items()
            if intrinsic_name(output.get("Value")) == "Ref" and key in output_values
        }

    def scheduled_functions(self) -> dict[str, Resource]:
        """Function logical id -> the EventBridge Scheduler schedule that runs it (a function run on a
        schedule, not by deliveries)."""
        found = {}
        for schedule in self.resources_of_type("AWS::Scheduler::Schedule"):
            target = schedule.properties.get("Target", {})
            arn = target.get("Arn") if isinstance(target, Mapping) else None
            if isinstance(arn, Mapping) and (parts := get_att_parts(arn.get("Fn::GetAtt"))) is not None:
                found[str(parts[0])] = schedule
        return found

    def created_with(self, parameter_values: Mapping[str, Any]) -> dict[str, str]:
        """`{logical id: type}` of the resources a stack with these parameters has: those without a
        Condition, and those whose Condition holds."""
        resolver = self.resolver(parameter_values)
        return {
            resource.logical_id: resource.type
            for resource in self.resources.values()
            if "Condition" not in resource.definition or resolver.condition(resource.definition["Condition"])
        }

    def resolver(
        self,
        parameter_values: Mapping[str, Any] | None = None,
        *,
        physical_ids: Mapping[str, Any] | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Resolver:
        """A `Resolver` for this template: each parameter at its Default unless `parameter_values` (which
        also gives pseudo parameters such as `AWS::Region`) says otherwise, and its conditions. A list
        parameter given as text, as CloudFormation receives it, is its comma-separated items."""
        defaults = {
            name: parameter["Default"]
            for name, parameter in self.parameters.items()
            if "Default" in parameter
        }
        values = {**defaults, **(parameter_values or {})}
        return Resolver(
            parameters={name: self._as_referenced(name, value) for name, value in values.items()},
            conditions=self.conditions,
            physical_ids=physical_ids or {},
            attributes=attributes or {},
        )

    def _as_referenced(self, name: str, value: Any) -> Any:
        """What `Ref` gives for a parameter value: a list parameter's text split at its commas, each item
        trimmed of spaces (an empty text is one empty item), as CloudFormation does."""
        parameter_type = self.parameters.get(name, {}).get("Type", "")
        is_list = parameter_type == "CommaDelimitedList" or str(parameter_type).startswith("List<")
        if is_list and isinstance(value, str):
            return [item.strip() for item in value.split(",")]
        return value


def _mappings(section: dict[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {name: entry for name, entry in section.items() if isinstance(entry, Mapping)}


@dataclass(frozen=True)
class Resolver:
    """What intrinsic functions evaluate against.

    `parameters` holds parameter and pseudo parameter (`AWS::Region`) values by name, `conditions` the
    template's Conditions section, `physical_ids` what `Ref` gives for a resource and `attributes` what
    `Fn::GetAtt` gives (logical id -> attribute name -> value).
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)
    physical_ids: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """value with every intrinsic function evaluated. `Ref: AWS::NoValue` gives `NO_VALUE`, and
        inside a list or mapping removes its entry, as CloudFormation does."""
        function = intrinsic_name(value)
        if function is not None:
            evaluate = _FUNCTIONS.get(function)
            if evaluate is None:
                raise UnresolvableError(f"{function}: this model does not evaluate it")
            return evaluate(self, value[function])
        if isinstance(value, Mapping):
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        return value

    def condition(self, name: object) -> bool:
        """Whether the template's condition `name` holds for these parameter values."""
        if not isinstance(name, str) or name not in self.conditions:
            raise UnresolvableError(f"Condition {name!r}: the template declares no such condition")
        return self._truth(self.conditions[name], f"Condition {name}")

    def _ref(self, name: object) -> Any:
        if name == _NO_VALUE_REF:
            return NO_VALUE
        if isinstance(name, str):
            if name in self.parameters:
                return self.parameters[name]
            if name in self.physical_ids:
                return self.physical_ids[name]
        raise UnresolvableError(
            f"Ref {name}: no value given for this parameter, pseudo parameter or resource"
        )

    def _get_att(self, argument: object) -> Any:
        parts = get_att_parts(argument)
        if parts is None:
            raise UnresolvableError(
                f"Fn::GetAtt {argument!r}: expected [Name, Attribute] or 'Name.Attribute'"
            )
        logical_id, attribute = parts
        return self._attribute(logical_id, self.resolve(attribute))

    def _attribute(self, logical_id: str, attribute: object) -> Any:
        known = self.attributes.get(logical_id, {})
        if not isinstance(attribute, str) or attribute not in known:
            raise UnresolvableError(f"Fn::GetAtt {logical_id}.{attribute}: no value given for this attribute")
        return known[attribute]

    def _sub(self, argument: object) -> str:
        parts = sub_parts(argument)
        if parts is None:
            raise UnresolvableError(f"Fn::Sub {argument!r}: expected a string or [text, {{name: value}}]")
        text, variables = parts
        local = {
            name: _text(self.resolve(value), f"Fn::Sub variable {name}") for name, value in variables.items()
        }

        def value_of(name: str) -> str:
            if name in local:
                return local[name]
            logical_id, dot, attribute = name.partition(".")
            value = self._attribute(logical_id, attribute) if dot else self._ref(name)
            return _text(value, "Fn::Sub ${" + name + "}")

        return _substitute(text, value_of, unescape=True)

    def _if(self, argument: object) -> Any:
        condition, when_true, when_false = _arguments("Fn::If", argument, 3)
        return self.resolve(when_true if self.condition(condition) else when_false)

    def _join(self, argument: object) -> str:
        delimiter, items = _arguments("Fn::Join", argument, 2)
        texts = [_text(item, "Fn::Join") for item in self._resolved_list("Fn::Join", items)]
        return _text(delimiter, "Fn::Join").join(texts)

    def _split(self, argument: object) -> list[str]:
        delimiter, source = _arguments("Fn::Split", argument, 2)
        return _text(self.resolve(source), "Fn::Split").split(_text(delimiter, "Fn::Split"))

    def _select(self, argument: object) -> Any:
        index, items = _arguments("Fn::Select", argument, 2)
        position, found = self.resolve(index), self._resolved_list("Fn::Select", items)
        if not (isinstance(position, int | str) and str(position).isdigit() and int(position) < len(found)):
            raise UnresolvableError(f"Fn::Select {position!r}: not an index into a list of {len(found)}")
        return found[int(position)]

    def _equals(self, argument: object) -> bool:
        left, right = (_comparable(self.resolve(side)) for side in _arguments("Fn::Equals", argument, 2))
        return left == right

    def _not(self, argument: object) -> bool:
        (operand,) = _arguments("Fn::Not", argument, 1)
        return not self._truth(operand, "Fn::Not")

    def _and(self, argument: object) -> bool:
        return all(self._truth(operand, "Fn::And") for operand in _operands("Fn::And", argument))

    def _or(self, argument: object) -> bool:
        return any(self._truth(operand, "Fn::Or") for operand in _operands("Fn::Or", argument))

    def _truth(self, operand: Any, where: str) -> bool:
        """A condition operand: `{"Condition": name}` or a condition function."""
        if isinstance(operand, Mapping) and operand.keys() == {"Condition"}:
            return self.condition(operand["Condition"])
        value = self.resolve(operand)
        if not isinstance(value, bool):
            raise UnresolvableError(f"{where}: {operand!r} is not a condition")
        return value

    def _resolved_list(self, function: str, value: object) -> list[Any]:
        items = self.resolve(value)
        if not isinstance(items, list):
            raise UnresolvableError(f"{function} {value!r}: expected a list")
        return items


_FUNCTIONS: Final[dict[str, Callable[[Resolver, Any], Any]]] = {
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::If": Resolver._if,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::Equals": Resolver._equals,
    "Fn::Not": Resolver._not,
    "Fn::And": Resolver._and,
    "Fn::Or": Resolver._or,
}


def _arguments(function: str, argument: object, count: int) -> list[Any]:
    if not isinstance(argument, list) or len(argument) != count:
        raise UnresolvableError(f"{function} {argument!r}: expected a list of {count}")
    return argument


def _operands(function: str, argument: object) -> list[Any]:
    if not isinstance(argument, list) or not argument:
        raise UnresolvableError(f"{function} {argument!r}: expected a list of conditions")
    return argument


def _text(value: object, where: str) -> str:
    """A scalar as CloudFormation substitutes it into a string (a Number parameter is its digits)."""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, str | int | float):
        return str(value)
    raise UnresolvableError(f"{where}: {value!r} is not a string")


def _comparable(value: object) -> object:
    """Fn::Equals compares scalars as the strings CloudFormation passes parameters as: `0` equals `"0"`."""
    return _text(value, "Fn::Equals") if isinstance(value, str | int | float) else value
