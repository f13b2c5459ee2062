"""How template values read in the report: Markdown code spans and tables, CloudFormation's short forms,
settings with the parameter defaults behind them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from tapstack.cfn.model import Template, references, replace_sub_variables, sub_parts


def expression(node: object) -> str:
    """node in CloudFormation's short form (`!Ref X`, `!GetAtt X.Arn`); an Fn::Sub reads as its text."""
    if isinstance(node, bool) or node is None:
        return json.dumps(node)
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list):
        return "[" + ", ".join(map(expression, node)) + "]"
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Fn::Sub":
            return _sub_text(argument)
        if function == "Ref" or function.startswith("Fn::"):
            if function == "Fn::GetAtt" and isinstance(argument, list):
                argument = ".".join(map(str, argument))
            rendered = argument if isinstance(argument, str) else expression(argument)
            return f"!{function.removeprefix('Fn::')} {rendered}"
    return json.dumps(node, sort_keys=True)


def _sub_text(sub: object) -> str:
    """An Fn::Sub with its local variables written in place: `${Api}` for `{"Api": {"Ref": "Api"}}`."""
    text, local_variables = sub_parts(sub) or ("", {})

    def in_place(name: str) -> str | None:
        if name not in local_variables:
            return None
        rendered = expression(local_variables[name])
        for short_form in ("!Ref ", "!GetAtt "):
            if rendered.startswith(short_form):
                return "${" + rendered.removeprefix(short_form) + "}"
        return rendered

    return replace_sub_variables(text, in_place)


def code(text: object) -> str:
    """text as a Markdown code span."""
    content = str(text)
    fence = "``" if "`" in content else "`"
    padding = " " if fence == "``" else ""
    return f"{fence}{padding}{content}{padding}{fence}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub Markdown table; `_None._` when there is no row."""
    lines = [_table_row(headers), _table_row(["---"] * len(headers))]
    lines += [_table_row(row) for row in rows]
    return "\n".join(lines) if len(lines) > 2 else "_None._"


def _table_row(cells: Sequence[str]) -> str:
    escaped = (cell.replace("|", "\\|").replace("\n", "<br>") or " " for cell in cells)
    return "| " + " | ".join(escaped) + " |"


def short_type(resource_type: str) -> str:
    return resource_type.rsplit("::", maxsplit=1)[-1]


def setting(template: Template, value: object) -> str:
    """value as code, with the default of a parameter it refers to (what an unchanged deploy gets)."""
    defaults = {
        name: expression(template.parameters[name]["Default"])
        for name in sorted(references(value) & template.parameters.keys())
        if "Default" in template.parameters[name]
    }
    if len(defaults) == 1:
        return f"{code(expression(value))} (default {next(iter(defaults.values()))})"
    listed = ", ".join(f"{name} = {default}" for name, default in defaults.items())
    return code(expression(value)) + (f" (defaults {listed})" if defaults else "")


def named(template: Template, value: object, *resource_types: str) -> str:
    """The resources (of these types) value refers to, or value itself when it names none of them."""
    names = template.referenced_resources(value, *resource_types)
    return ", ".join(map(code, names)) if names else code(expression(value))
