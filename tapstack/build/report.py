"""What a CloudFormation template deploys, for reviewers and auditors: a diagram and audit tables in Markdown.

    python -m tapstack.build.report [--template output/TapStack.json] [--output output/TapStack.md] [--check]
    python -m tapstack.build.report --svg output/TapStack.svg        (the same graph drawn by Graphviz's `dot`)

Everything is derived from the template: the diagram's edges from Ref, Fn::GetAtt, Fn::Sub and DependsOn,
asynchronous destinations, dead-letter configs, API integrations, environment variables, IAM statements and
alarm dimensions; the tables from the resources' properties and metadata. Nothing is drawn by hand, so a
change to the generator shows up in the report. The output is deterministic: sorted, no timestamps.

Exit status: 0 when done (or, with --check, when the report is current), 1 when --check finds it out of
date, 2 when the template cannot be read or `dot` is missing or fails.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tapstack.build.generated_files import check_current, write_atomically
from tapstack import paths

Template = Mapping[str, Any]
Resource = dict[str, Any]

DEFAULT_TEMPLATE = paths.TEMPLATE
EXIT_DONE, EXIT_OUT_OF_DATE, EXIT_CANNOT_RUN = 0, 1, 2
GRAPHVIZ_MISSING = (
    "error: --svg needs Graphviz's `dot`, which is not on PATH. Install it with "
    "`sudo apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` (macOS). "
    "The Markdown report does not need it."
)

# ${Name} or ${Name.Attribute} in Fn::Sub; ${!Literal} is an escaped literal, not a reference.
SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")

# Resources that only serve another one. The diagram folds each into the node it serves, found through the
# property naming that node, or (None) through whichever node refers to the folded resource.
FOLDED_THROUGH: dict[str, str | None] = {
    "AWS::ApiGateway::ApiKey": None,
    "AWS::ApiGateway::Authorizer": "RestApiId",
    "AWS::ApiGateway::Deployment": "RestApiId",
    "AWS::ApiGateway::GatewayResponse": "RestApiId",
    "AWS::ApiGateway::Method": "RestApiId",
    "AWS::ApiGateway::Model": "RestApiId",
    "AWS::ApiGateway::RequestValidator": "RestApiId",
    "AWS::ApiGateway::Resource": "RestApiId",
    "AWS::ApiGateway::Stage": "RestApiId",
    "AWS::ApiGateway::UsagePlan": "ApiStages",
    "AWS::ApiGateway::UsagePlanKey": "UsagePlanId",
    "AWS::IAM::ManagedPolicy": "Roles",
    "AWS::IAM::Policy": "Roles",
    "AWS::IAM::Role": None,
    "AWS::KMS::Alias": "TargetKeyId",
    "AWS::Lambda::Alias": "FunctionName",
    "AWS::Lambda::EventInvokeConfig": "FunctionName",
    "AWS::Lambda::Permission": "FunctionName",
    "AWS::Lambda::Version": "FunctionName",
    "AWS::Logs::LogGroup": None,
    "AWS::S3::BucketPolicy": "Bucket",
    "AWS::SNS::Subscription": "TopicArn",
    "AWS::SNS::TopicPolicy": "Topics",
    "AWS::SQS::QueuePolicy": "Queues",
}

# Where a resource policy lives; its grants are listed in the resource-policy table, not drawn.
RESOURCE_POLICY_DOCUMENT = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
}
IAM_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")

# Edge kinds, strongest first: when several relations join the same two nodes, the diagram draws the
# strongest (the processor's on-failure destination is also a queue its role may write to).
EDGE_KINDS = (
    "on failure",
    "on success",
    "invokes",
    "publishes",
    "writes",
    "reads",
    "alarms on",
    "notifies",
    "logs to",
    "encrypts",
    "uses",
    "depends on",
)
REQUEST_PATH_KINDS = frozenset({"invokes", "on success"})
FAILURE_PATH_KINDS = frozenset({"on failure", "alarms on", "notifies"})
# Kinds drawn from the referenced resource to the referring one (a key encrypts what names it).
REVERSED_KINDS = frozenset({"alarms on", "encrypts"})
FAILURE_COLOUR, ENCRYPTION_COLOUR = "#c0392b", "#7f8c8d"

# How a reference under a property path reads on the diagram; the first matching path wins.
REFERENCE_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::ApiGateway::Method": (("Integration", "invokes"),),
    "AWS::CloudWatch::Alarm": (
        ("AlarmActions", "notifies"),
        ("InsufficientDataActions", "notifies"),
        ("OKActions", "notifies"),
    ),
    "AWS::Lambda::EventInvokeConfig": (
        ("DestinationConfig.OnFailure", "on failure"),
        ("DestinationConfig.OnSuccess", "on success"),
    ),
    "AWS::Lambda::Function": (("DeadLetterConfig", "on failure"),),
    "AWS::S3::Bucket": (("LoggingConfiguration", "logs to"),),
    "AWS::SQS::Queue": (("RedrivePolicy", "on failure"),),
}
# Any other reference of an alarm names the metric source it watches.
DEFAULT_REFERENCE_KIND = {"AWS::CloudWatch::Alarm": "alarms on"}

# IAM action verbs (the part after "service:") and the edge kind they give a role's function.
ACTION_VERB_KINDS = (
    ("Invoke", "invokes"),
    ("Publish", "publishes"),
    ("Put", "writes"),
    ("Update", "writes"),
    ("Delete", "writes"),
    ("BatchWrite", "writes"),
    ("Send", "writes"),
    ("Create", "writes"),
    ("Get", "reads"),
    ("BatchGet", "reads"),
    ("Query", "reads"),
    ("Scan", "reads"),
    ("Receive", "reads"),
    ("List", "reads"),
    ("Describe", "reads"),
)

# Diagram groups by the service in the type name, in the order a request flows through them.
SERVICE_TITLES = {
    "ApiGateway": "API Gateway",
    "Lambda": "Lambda",
    "DynamoDB": "DynamoDB",
    "S3": "S3",
    "SNS": "SNS",
    "SQS": "SQS",
    "CloudWatch": "CloudWatch alarms",
    "SecretsManager": "Secrets Manager",
    "KMS": "KMS",
}
GROUP_PREFIX = "service:"  # ':' never occurs in a logical id, so a group name cannot collide with one
MERMAID_KEYWORDS = frozenset(
    {"call", "class", "classdef", "click", "default", "direction", "end", "flowchart", "graph", "href"}
    | {"linkstyle", "style", "subgraph"}
)


def walk(node: object) -> Iterator[object]:
    """Every dict, list and scalar inside node, node included."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def _sub_parts(sub: object) -> tuple[str, dict[str, Any]]:
    """The text and local variables of an Fn::Sub argument (a string, or [text, {name: value}])."""
    if isinstance(sub, str):
        return sub, {}
    if isinstance(sub, list) and len(sub) == 2 and isinstance(sub[0], str) and isinstance(sub[1], dict):
        return sub[0], sub[1]
    return "", {}


def references(node: object) -> set[str]:
    """Names node refers to through Ref, Fn::GetAtt or ${...} in Fn::Sub: logical ids and parameters."""
    found: set[str] = set()
    for item in walk(node):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("Ref"), str):
            found.add(item["Ref"])
        get_att = item.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att and isinstance(get_att[0], str):
            found.add(get_att[0])
        elif isinstance(get_att, str):
            found.add(get_att.split(".")[0])
        if "Fn::Sub" in item:
            text, local_names = _sub_parts(item["Fn::Sub"])
            found |= {match[1].split(".")[0] for match in SUB_VARIABLE.finditer(text)} - local_names.keys()
    return found


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
    text, local_names = _sub_parts(sub)

    def in_place(match: re.Match[str]) -> str:
        if match[1] not in local_names:
            return match[0]
        rendered = expression(local_names[match[1]])
        for short_form in ("!Ref ", "!GetAtt "):
            if rendered.startswith(short_form):
                return "${" + rendered.removeprefix(short_form) + "}"
        return rendered

    return SUB_VARIABLE.sub(in_place, text)


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


def _service(resource_type: str) -> str:
    parts = resource_type.split("::")
    return parts[1] if parts[0] == "AWS" and len(parts) == 3 else parts[0]


def _short_type(resource_type: str) -> str:
    return resource_type.rsplit("::", maxsplit=1)[-1]


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _properties(resource: Resource) -> dict[str, Any]:
    properties = resource.get("Properties")
    return properties if isinstance(properties, dict) else {}


def _leaf_references(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted property path, name) for every reference under node; list positions are not in the path."""
    if isinstance(node, dict):
        if "Ref" in node or "Fn::GetAtt" in node or "Fn::Sub" in node:
            for name in sorted(references(node)):
                yield path, name
            return
        for key, value in node.items():
            yield from _leaf_references(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for value in node:
            yield from _leaf_references(value, path)


@dataclass(frozen=True)
class Stack:
    """The parts of a template the report reads, tolerant of a minimal template that omits sections."""

    resources: dict[str, Resource]
    parameters: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, template: Template) -> Stack:
        def section(name: str) -> dict[str, Any]:
            value = template.get(name)
            return dict(value) if isinstance(value, dict) else {}

        resources = {
            logical_id: resource
            for logical_id, resource in section("Resources").items()
            if isinstance(resource, dict) and isinstance(resource.get("Type"), str)
        }
        return cls(resources, section("Parameters"), section("Outputs"))

    def of_type(self, *resource_types: str) -> list[tuple[str, Resource]]:
        """(logical id, resource) of these types (every resource if none is given), sorted by id."""
        return [
            (logical_id, self.resources[logical_id])
            for logical_id in sorted(self.resources)
            if not resource_types or self.resources[logical_id]["Type"] in resource_types
        ]

    def properties_of(self, logical_id: str) -> dict[str, Any]:
        return _properties(self.resources[logical_id])

    def resources_named(self, node: object, *resource_types: str) -> list[str]:
        """The logical ids of the resources (of these types, if given) that node refers to, sorted."""
        return sorted(
            name
            for name in references(node) & self.resources.keys()
            if not resource_types or self.resources[name]["Type"] in resource_types
        )

    def setting(self, value: object) -> str:
        """value as code, with the default of a parameter it refers to (what an unchanged deploy gets)."""
        defaults = {
            name: expression(self.parameters[name]["Default"])
            for name in sorted(references(value) & self.parameters.keys())
            if "Default" in self.parameters[name]
        }
        if len(defaults) == 1:
            return f"{code(expression(value))} (default {next(iter(defaults.values()))})"
        listed = ", ".join(f"{name} = {default}" for name, default in defaults.items())
        return code(expression(value)) + (f" (defaults {listed})" if defaults else "")

    def named(self, value: object, *resource_types: str) -> str:
        """The resources (of these types) value refers to, or value itself when it names none of them."""
        names = self.resources_named(value, *resource_types)
        return ", ".join(map(code, names)) if names else code(expression(value))


# --- The graph --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Edge:
    """A relation between two nodes (or a service group, named GROUP_PREFIX + service)."""

    source: str
    target: str
    kind: str


@dataclass(frozen=True)
class Node:
    logical_id: str
    resource_type: str
    folded: tuple[str, ...]

    @property
    def service(self) -> str:
        return _service(self.resource_type)

    @property
    def is_stateful(self) -> bool:
        return self.resource_type in STATE_DESCRIBERS


@dataclass(frozen=True)
class Graph:
    groups: tuple[tuple[str, tuple[Node, ...]], ...]  # (service, its nodes), in SERVICE_TITLES order
    edges: tuple[Edge, ...]

    def group_members(self, name: str) -> tuple[Node, ...]:
        return dict(self.groups)[name.removeprefix(GROUP_PREFIX)]


def fold_targets(stack: Stack) -> dict[str, str]:
    """Logical id -> the diagram node it is drawn as: itself, or for plumbing the resource it serves."""
    referrers: dict[str, set[str]] = defaultdict(set)
    for logical_id, resource in stack.resources.items():
        for name in stack.resources_named(_properties(resource)):
            referrers[name].add(logical_id)
    resolved: dict[str, str] = {}

    def target(logical_id: str, visiting: frozenset[str]) -> str:
        if logical_id in resolved:
            return resolved[logical_id]
        resource = stack.resources[logical_id]
        if resource["Type"] not in FOLDED_THROUGH or logical_id in visiting:
            return logical_id
        through = FOLDED_THROUGH[resource["Type"]]
        candidates = (
            set(stack.resources_named(_properties(resource).get(through)))
            if through
            else referrers[logical_id]
        )
        served = sorted({target(name, visiting | {logical_id}) for name in candidates} - {logical_id})
        resolved[logical_id] = served[0] if served else logical_id
        return resolved[logical_id]

    return {logical_id: target(logical_id, frozenset()) for logical_id in sorted(stack.resources)}


def _action_kind(actions: list[str]) -> str:
    kinds = {
        kind
        for action in actions
        for verb, kind in ACTION_VERB_KINDS
        if action.partition(":")[2].startswith(verb)
    }
    return min(kinds, key=EDGE_KINDS.index, default="uses")


def role_statements(stack: Stack) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(role, policy name, statement) for the inline policies of every role and policies attached to it."""
    for role, resource in stack.of_type("AWS::IAM::Role"):
        for policy in _as_list(_properties(resource).get("Policies", [])):
            document = policy.get("PolicyDocument", {}) if isinstance(policy, dict) else {}
            for statement in _as_list(document.get("Statement", [])):
                yield role, str(policy.get("PolicyName", "")), statement
    for policy_id, resource in stack.of_type(*IAM_POLICY_TYPES):
        properties = _properties(resource)
        for role in stack.resources_named(properties.get("Roles"), "AWS::IAM::Role"):
            for statement in _as_list(properties.get("PolicyDocument", {}).get("Statement", [])):
                yield role, policy_id, statement


def _relations(stack: Stack) -> Iterator[Edge]:
    """Every relation between resources, before plumbing is folded into the nodes it serves."""
    keys = {logical_id for logical_id, _ in stack.of_type("AWS::KMS::Key")}
    for role, _, statement in role_statements(stack):
        if statement.get("Effect") != "Allow":
            continue
        kind = _action_kind([str(action) for action in _as_list(statement.get("Action", []))])
        # A role's use of the key shows in the IAM table; the diagram shows what the key encrypts.
        for name in set(stack.resources_named(statement.get("Resource"))) - keys:
            yield Edge(role, name, kind)
    for logical_id in sorted(stack.resources):
        resource = stack.resources[logical_id]
        resource_type = resource["Type"]
        if resource_type in RESOURCE_POLICY_DOCUMENT or resource_type in (
            "AWS::IAM::Role",
            "AWS::Lambda::Permission",
            *IAM_POLICY_TYPES,
        ):
            continue  # grants, listed in the IAM tables rather than drawn
        for path, name in _leaf_references(_properties(resource)):
            if name not in stack.resources:
                continue
            if name in keys:
                kind = "encrypts"
            else:
                rules = REFERENCE_KINDS.get(resource_type, ())
                kind = next(
                    (kind for prefix, kind in rules if f"{path}.".startswith(f"{prefix}.")),
                    DEFAULT_REFERENCE_KIND.get(resource_type, "uses"),
                )
            yield Edge(name, logical_id, kind) if kind in REVERSED_KINDS else Edge(logical_id, name, kind)
        for name in _as_list(resource.get("DependsOn", [])):
            if name in stack.resources:
                yield Edge(logical_id, name, "depends on")


def _group_shared_edges(edges: set[Edge], groups: Mapping[str, Sequence[str]]) -> set[Edge]:
    """Draw an edge every member of a service group has with the same node once, from or to the group."""
    result = set(edges)
    for service, members in groups.items():
        if len(members) < 2:
            continue
        group, member_set = GROUP_PREFIX + service, set(members)
        outgoing = {(edge.target, edge.kind) for edge in result if edge.source in member_set}
        for target, kind in sorted(outgoing):
            shared = {Edge(member, target, kind) for member in members}
            if target not in member_set and shared <= result:
                result = (result - shared) | {Edge(group, target, kind)}
        incoming = {(edge.source, edge.kind) for edge in result if edge.target in member_set}
        for source, kind in sorted(incoming):
            shared = {Edge(source, member, kind) for member in members}
            if source not in member_set and shared <= result:
                result = (result - shared) | {Edge(source, group, kind)}
    return result


def build_graph(template: Template) -> Graph:
    """The architecture graph: plumbing folded into the node it serves, one edge (its strongest kind)
    per pair of nodes, and edges shared by a whole service group drawn once from or to the group."""
    stack = Stack.of(template)
    drawn_as = fold_targets(stack)
    strongest: dict[tuple[str, str], str] = {}
    for relation in _relations(stack):
        pair = (drawn_as[relation.source], drawn_as[relation.target])
        if pair[0] != pair[1]:
            current = strongest.get(pair, relation.kind)
            strongest[pair] = min(current, relation.kind, key=EDGE_KINDS.index)
    folded: dict[str, list[str]] = defaultdict(list)
    for logical_id, node_id in drawn_as.items():
        if logical_id != node_id:
            folded[node_id].append(logical_id)
    by_service: dict[str, list[Node]] = defaultdict(list)
    for node_id in sorted(set(drawn_as.values())):
        node = Node(node_id, stack.resources[node_id]["Type"], tuple(folded[node_id]))
        by_service[node.service].append(node)
    service_order = [*SERVICE_TITLES, *sorted(by_service.keys() - SERVICE_TITLES.keys())]
    groups = tuple(
        (service, tuple(by_service[service])) for service in service_order if service in by_service
    )
    edges = {Edge(source, target, kind) for (source, target), kind in strongest.items()}
    members = {service: [node.logical_id for node in nodes] for service, nodes in groups}
    return Graph(groups, tuple(sorted(_group_shared_edges(edges, members))))


def mermaid_id(name: str) -> str:
    """A Mermaid-safe node id: the logical id itself unless it is a keyword or has unsafe characters.

    Escaped ids carry an underscore, which CloudFormation logical ids cannot contain, so they never
    collide with a plain one.
    """
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) and name.lower() not in MERMAID_KEYWORDS:
        return name
    return "r_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def _service_title(service: str) -> str:
    return SERVICE_TITLES.get(service, service)


def render_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart: one subgraph per service, request path thick, failures dotted."""
    lines = ["flowchart LR"]
    for service, nodes in graph.groups:
        lines.append(f'  subgraph {mermaid_id(GROUP_PREFIX + service)}["{_service_title(service)}"]')
        for node in nodes:
            label = f"{node.logical_id}<br/>{_short_type(node.resource_type)}"
            opening, closing = ('[("', '")]') if node.is_stateful else ('["', '"]')
            lines.append(f"    {mermaid_id(node.logical_id)}{opening}{label}{closing}")
        lines.append("  end")
    coloured: dict[str, list[str]] = defaultdict(list)
    for index, edge in enumerate(graph.edges):
        arrow = {"bold": "==>", "dashed": "-.->", "solid": "-->"}[_line_style(edge.kind)]
        lines.append(f"  {mermaid_id(edge.source)} {arrow}|{edge.kind}| {mermaid_id(edge.target)}")
        colour = _edge_colour(edge.kind)
        if colour:
            coloured[colour].append(str(index))
    lines += [
        f"  linkStyle {','.join(indexes)} stroke:{colour}" for colour, indexes in sorted(coloured.items())
    ]
    return "\n".join(lines)


def _line_style(kind: str) -> str:
    """Request path bold, failure path and encryption dashed, the rest solid (Mermaid and DOT alike)."""
    if kind in REQUEST_PATH_KINDS:
        return "bold"
    return "dashed" if kind in FAILURE_PATH_KINDS or kind == "encrypts" else "solid"


def _edge_colour(kind: str) -> str | None:
    if kind == "encrypts":
        return ENCRYPTION_COLOUR
    return FAILURE_COLOUR if kind in FAILURE_PATH_KINDS else None


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(template: Template) -> str:
    """The same graph as render_report's diagram, in Graphviz DOT (clusters for the service groups)."""
    graph = build_graph(template)
    lines = [
        "digraph TapStack {",
        '  graph [rankdir=LR, compound=true, fontname="Helvetica", fontsize=11];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for service, nodes in graph.groups:
        lines.append(f"  subgraph {_dot_quote('cluster_' + service)} {{")
        lines.append(f"    label={_dot_quote(_service_title(service))};")
        for node in nodes:
            label = _dot_quote(f"{node.logical_id}\n{_short_type(node.resource_type)}").replace("\n", "\\n")
            shape = ", shape=cylinder" if node.is_stateful else ""
            lines.append(f"    {_dot_quote(node.logical_id)} [label={label}{shape}];")
        lines.append("  }")
    for edge in graph.edges:
        # Graphviz draws an edge to a cluster as an edge to one member clipped at the cluster's border.
        attributes = [f"label={_dot_quote(edge.kind)}"]
        ends = []
        for end, clip in ((edge.source, "ltail"), (edge.target, "lhead")):
            if end.startswith(GROUP_PREFIX):
                attributes.append(f"{clip}={_dot_quote('cluster_' + end.removeprefix(GROUP_PREFIX))}")
                ends.append(graph.group_members(end)[0].logical_id)
            else:
                ends.append(end)
        if _line_style(edge.kind) != "solid":
            attributes.append(f"style={_line_style(edge.kind)}")
        colour = _edge_colour(edge.kind)
        if colour:
            attributes.append(f"color={_dot_quote(colour)}")
        lines.append(f"  {_dot_quote(ends[0])} -> {_dot_quote(ends[1])} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- The tables -------------------------------------------------------------------------------------

NOT_SET = "not set (service default)"
DescribedState = tuple[str, str, str]  # encryption, retention, backup and recovery


def _switch(stack: Stack, value: object) -> str:
    if value is None or isinstance(value, bool):
        return "on" if value else "off"
    return stack.setting(value)


def _days(stack: Stack, value: object, unit: str = "d") -> str:
    return f"{value} {unit}" if isinstance(value, int) else f"{stack.setting(value)} {unit}"


def _seconds(stack: Stack, value: object) -> str:
    for unit, length in (("d", 86400), ("h", 3600)):
        if isinstance(value, int) and value and value % length == 0:
            return f"{value // length} {unit} ({value} s)"
    return _days(stack, value, "s")


def _dynamodb_table(stack: Stack, logical_id: str) -> DescribedState:
    properties = stack.properties_of(logical_id)
    sse = properties.get("SSESpecification") or {}
    if "KMSMasterKeyId" in sse:
        encryption = f"SSE-KMS, key {stack.named(sse['KMSMasterKeyId'], 'AWS::KMS::Key')}"
    else:
        encryption = (
            "SSE-KMS, AWS managed key" if sse.get("SSEEnabled") is True else "AWS owned key (default)"
        )
    ttl = properties.get("TimeToLiveSpecification") or {}
    retention = (
        f"TTL on {code(ttl.get('AttributeName'))}"
        if ttl.get("Enabled") is True
        else "items kept until deleted"
    )
    pitr = (properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    protection = properties.get("DeletionProtectionEnabled")
    return (
        encryption,
        retention,
        f"PITR {_switch(stack, pitr)}; deletion protection {_switch(stack, protection)}",
    )


def _lifecycle_rule(stack: Stack, rule: dict[str, Any]) -> str:
    parts = [
        f"to {transition.get('StorageClass')} after {_days(stack, transition.get('TransitionInDays'))}"
        for transition in _as_list(rule.get("Transitions", []))
    ]
    if "ExpirationInDays" in rule:
        parts.append(f"expire after {_days(stack, rule['ExpirationInDays'])}")
    if "NoncurrentVersionExpiration" in rule:
        noncurrent_days = rule["NoncurrentVersionExpiration"].get("NoncurrentDays")
        parts.append(f"noncurrent versions expire after {_days(stack, noncurrent_days)}")
    if "AbortIncompleteMultipartUpload" in rule:
        abort_days = rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation")
        parts.append(f"incomplete uploads aborted after {_days(stack, abort_days)}")
    status = "" if rule.get("Status") == "Enabled" else f" ({rule.get('Status', 'no status')})"
    return f"{rule.get('Id', 'rule')}{status}: {', '.join(parts) or 'no action'}"


def _s3_bucket(stack: Stack, logical_id: str) -> DescribedState:
    properties = stack.properties_of(logical_id)
    rules = _as_list((properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", []))
    first_rule = rules[0] if rules and isinstance(rules[0], dict) else {}
    default = first_rule.get("ServerSideEncryptionByDefault") or {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        key = (
            stack.named(default["KMSMasterKeyID"], "AWS::KMS::Key")
            if "KMSMasterKeyID" in default
            else "AWS managed key"
        )
        bucket_key = _switch(stack, first_rule.get("BucketKeyEnabled"))
        encryption = f"SSE-KMS ({algorithm}), key {key}, bucket key {bucket_key}"
    else:
        encryption = f"SSE-S3 ({algorithm})" if algorithm else NOT_SET
    lifecycle = (properties.get("LifecycleConfiguration") or {}).get("Rules", [])
    retention = "<br>".join(_lifecycle_rule(stack, rule) for rule in _as_list(lifecycle)) or (
        "no lifecycle rule: objects kept until deleted"
    )
    backup = [f"versioning {(properties.get('VersioningConfiguration') or {}).get('Status', 'off')}"]
    if "ReplicationConfiguration" in properties:
        backup.append("replicated")
    if properties.get("ObjectLockEnabled") is True:
        backup.append("object lock on")
    return encryption, retention, "; ".join(backup)


def _sqs_queue(stack: Stack, logical_id: str) -> DescribedState:
    properties = stack.properties_of(logical_id)
    if "KmsMasterKeyId" in properties:
        encryption = f"SSE-KMS, key {stack.named(properties['KmsMasterKeyId'], 'AWS::KMS::Key')}"
        if "KmsDataKeyReusePeriodSeconds" in properties:
            encryption += f", data key reused {properties['KmsDataKeyReusePeriodSeconds']} s"
    elif "SqsManagedSseEnabled" in properties:
        encryption = f"SSE-SQS {_switch(stack, properties['SqsManagedSseEnabled'])}"
    else:
        encryption = NOT_SET
    retention = (
        f"messages kept {_seconds(stack, properties['MessageRetentionPeriod'])}"
        if "MessageRetentionPeriod" in properties
        else f"messages kept: {NOT_SET}"
    )
    return encryption, retention, "—"


def _sns_topic(stack: Stack, logical_id: str) -> DescribedState:
    properties = stack.properties_of(logical_id)
    encryption = (
        f"SSE-KMS, key {stack.named(properties['KmsMasterKeyId'], 'AWS::KMS::Key')}"
        if "KmsMasterKeyId" in properties
        else NOT_SET
    )
    archive = properties.get("ArchivePolicy")
    return (
        encryption,
        f"archive {code(expression(archive))}" if archive else "not stored (delivery only)",
        "—",
    )


def _log_group(stack: Stack, logical_id: str) -> DescribedState:
    properties = stack.properties_of(logical_id)
    encryption = (
        f"KMS key {stack.named(properties['KmsKeyId'], 'AWS::KMS::Key')}"
        if "KmsKeyId" in properties
        else NOT_SET
    )
    retention = (
        f"{_days(stack, properties['RetentionInDays'], 'days')}"
        if "RetentionInDays" in properties
        else "never expires"
    )
    return encryption, retention, "—"


def _kms_key(stack: Stack, logical_id: str) -> DescribedState:
    properties = stack.properties_of(logical_id)
    rotation = _switch(stack, properties.get("EnableKeyRotation"))
    pending = (
        _days(stack, properties["PendingWindowInDays"]) if "PendingWindowInDays" in properties else "30 d"
    )
    return "— (the key itself)", f"rotation {rotation}; deletion waits {pending}", "—"


def _secret(stack: Stack, logical_id: str) -> DescribedState:
    properties = stack.properties_of(logical_id)
    encryption = (
        f"KMS key {stack.named(properties['KmsKeyId'], 'AWS::KMS::Key')}"
        if "KmsKeyId" in properties
        else "AWS managed key"
    )
    rotations = [
        schedule_id
        for schedule_id, schedule in stack.of_type("AWS::SecretsManager::RotationSchedule")
        if logical_id in references(_properties(schedule).get("SecretId"))
    ]
    rotation = f"rotated by {', '.join(map(code, rotations))}" if rotations else "no rotation schedule"
    replicas = properties.get("ReplicaRegions")
    return encryption, rotation, f"replicas {code(expression(replicas))}" if replicas else "—"


# Stateful resource types and how each says its encryption, retention and backup.
STATE_DESCRIBERS: dict[str, Callable[[Stack, str], DescribedState]] = {
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::S3::Bucket": _s3_bucket,
    "AWS::SQS::Queue": _sqs_queue,
    "AWS::SNS::Topic": _sns_topic,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::KMS::Key": _kms_key,
    "AWS::SecretsManager::Secret": _secret,
}


def stateful_table(stack: Stack) -> str:
    rows = []
    for logical_id, resource in stack.of_type(*STATE_DESCRIBERS):
        encryption, retention, backup = STATE_DESCRIBERS[resource["Type"]](stack, logical_id)
        policies = [
            resource.get(policy, "not set (Delete)") for policy in ("DeletionPolicy", "UpdateReplacePolicy")
        ]
        rows.append(
            [code(logical_id), _short_type(resource["Type"]), encryption, retention, backup, *policies]
        )
    headers = ("Resource", "Type", "Encryption", "Retention", "Backup / recovery", "DeletionPolicy")
    return markdown_table((*headers, "UpdateReplacePolicy"), rows)


def parameters_table(stack: Stack) -> str:
    rows = []
    for name in sorted(stack.parameters):
        parameter = stack.parameters[name]
        allowed = []
        if "AllowedValues" in parameter:
            allowed.append(
                "one of " + ", ".join(code(expression(value)) for value in parameter["AllowedValues"])
            )
        if "AllowedPattern" in parameter:
            allowed.append(f"pattern {code(parameter['AllowedPattern'])}")
        for low, high, what in (("MinValue", "MaxValue", "value"), ("MinLength", "MaxLength", "length")):
            if low in parameter and high in parameter:
                allowed.append(f"{what} {parameter[low]} to {parameter[high]}")
            elif low in parameter or high in parameter:
                bound, limit = (
                    ("at least", parameter[low]) if low in parameter else ("at most", parameter[high])
                )
                allowed.append(f"{what} {bound} {limit}")
        if "ConstraintDescription" in parameter:
            allowed.append(f"({parameter['ConstraintDescription']})")
        if parameter.get("NoEcho") in (True, "true"):
            allowed.append("NoEcho")
        default = code(json.dumps(parameter["Default"])) if "Default" in parameter else "(required)"
        rows.append(
            [
                code(name),
                str(parameter.get("Type", "")),
                default,
                "; ".join(allowed),
                parameter.get("Description", ""),
            ]
        )
    return markdown_table(("Parameter", "Type", "Default", "Allowed", "Description"), rows)


def outputs_table(stack: Stack) -> str:
    rows = []
    for name in sorted(stack.outputs):
        output = stack.outputs[name]
        export = output.get("Export", {}).get("Name")
        description = str(output.get("Description", ""))
        if "Condition" in output:
            description += f" (only if {code(output['Condition'])})"
        rows.append(
            [
                code(name),
                code(expression(output.get("Value"))),
                code(expression(export)) if export else "—",
                description,
            ]
        )
    return markdown_table(("Output", "Value", "Export name", "Description"), rows)


def functions_table(stack: Stack) -> str:
    invoke_configs = {
        function: _properties(config)
        for _, config in stack.of_type("AWS::Lambda::EventInvokeConfig")
        for function in stack.resources_named(
            _properties(config).get("FunctionName"), "AWS::Lambda::Function"
        )
    }
    rows = []
    for logical_id, resource in stack.of_type("AWS::Lambda::Function"):
        properties = _properties(resource)
        config = invoke_configs.get(logical_id, {})
        destinations = config.get("DestinationConfig") or {}
        on_failure = [
            f"{what} {stack.named(value)}"
            for what, value in (
                ("destination", (destinations.get("OnFailure") or {}).get("Destination")),
                ("dead-letter queue", (properties.get("DeadLetterConfig") or {}).get("TargetArn")),
            )
            if value is not None
        ]
        on_success = (destinations.get("OnSuccess") or {}).get("Destination")
        architectures = " ".join(map(str, _as_list(properties.get("Architectures", ["x86_64"]))))
        rows.append(
            [
                code(logical_id),
                f"{properties.get('Runtime', '—')} {architectures}",
                f"{properties.get('MemorySize', 128)} MB",
                f"{properties.get('Timeout', 3)} s",
                stack.setting(properties["ReservedConcurrentExecutions"])
                if "ReservedConcurrentExecutions" in properties
                else "none",
                str(config.get("MaximumRetryAttempts", "—")),
                _seconds(stack, config["MaximumEventAgeInSeconds"])
                if "MaximumEventAgeInSeconds" in config
                else "—",
                stack.named(on_success) if on_success is not None else "—",
                "<br>".join(on_failure) or "—",
                (properties.get("TracingConfig") or {}).get("Mode", "PassThrough"),
            ]
        )
    headers = ("Function", "Runtime", "Memory", "Timeout", "Reserved concurrency", "Async retries")
    return markdown_table((*headers, "Max event age", "On success", "On failure", "Tracing"), rows)


def _api_path(stack: Stack, resource_id: object, visiting: frozenset[str] = frozenset()) -> str:
    """The path of an API Gateway resource, from its chain of parents (the root resource is `/`)."""
    names = [
        name
        for name in stack.resources_named(resource_id, "AWS::ApiGateway::Resource")
        if name not in visiting
    ]
    if not names:
        return "/"
    properties = _properties(stack.resources[names[0]])
    parent = _api_path(stack, properties.get("ParentId"), visiting | {names[0]})
    return f"{parent.rstrip('/')}/{properties.get('PathPart', '?')}"


def _stage_throttling(stack: Stack, api: str, http_method: str, path: str) -> str:
    """Each stage's throttle for the route: its own MethodSettings entry, else the stage-wide `/*` one."""
    encoded_path = "/" + path.lstrip("/").replace("/", "~1")
    lines = []
    for _, stage in stack.of_type("AWS::ApiGateway::Stage"):
        properties = _properties(stage)
        if api not in references(properties.get("RestApiId")):
            continue
        settings = [
            setting for setting in _as_list(properties.get("MethodSettings", [])) if isinstance(setting, dict)
        ]
        matching = [
            setting
            for route in ((encoded_path, http_method), ("/*", "*"))
            for setting in settings
            if (setting.get("ResourcePath"), setting.get("HttpMethod")) == route
            and "ThrottlingRateLimit" in setting
        ]
        throttle = (
            f"rate {stack.setting(matching[0]['ThrottlingRateLimit'])}/s, "
            f"burst {stack.setting(matching[0].get('ThrottlingBurstLimit'))}"
            if matching
            else "account default"
        )
        lines.append(f"stage {code(expression(properties.get('StageName')))}: {throttle}")
    return "<br>".join(lines) or "no stage"


def _usage_plans(stack: Stack, api: str, http_method: str, path: str) -> str:
    lines = []
    for plan_id, plan in stack.of_type("AWS::ApiGateway::UsagePlan"):
        properties = _properties(plan)
        stages = [stage for stage in _as_list(properties.get("ApiStages", [])) if isinstance(stage, dict)]
        if not any(api in references(stage.get("ApiId")) for stage in stages):
            continue
        method_throttles = [stage.get("Throttle", {}).get(f"{path}/{http_method}") for stage in stages]
        throttle = (
            next((value for value in method_throttles if value), None) or properties.get("Throttle") or {}
        )
        quota = properties.get("Quota") or {}
        parts = [
            f"rate {stack.setting(throttle['RateLimit'])}/s" if "RateLimit" in throttle else "",
            f"burst {stack.setting(throttle['BurstLimit'])}" if "BurstLimit" in throttle else "",
            f"quota {stack.setting(quota['Limit'])} per {quota.get('Period', '?')}"
            if "Limit" in quota
            else "",
        ]
        lines.append(f"{code(plan_id)}: {', '.join(part for part in parts if part) or 'no limits'}")
    return "<br>".join(lines) or "none"


def routes_table(stack: Stack) -> str:
    rows = []
    for _, method in stack.of_type("AWS::ApiGateway::Method"):
        properties = _properties(method)
        http_method = str(properties.get("HttpMethod", "?"))
        path = _api_path(stack, properties.get("ResourceId"))
        api = next(iter(stack.resources_named(properties.get("RestApiId"), "AWS::ApiGateway::RestApi")), "")
        integration = properties.get("Integration") or {}
        target = stack.named(integration.get("Uri"), "AWS::Lambda::Function")
        validators = stack.resources_named(
            properties.get("RequestValidatorId"), "AWS::ApiGateway::RequestValidator"
        )
        validated = [
            what
            for validator in validators
            for what, flag in (("body", "ValidateRequestBody"), ("parameters", "ValidateRequestParameters"))
            if _properties(stack.resources[validator]).get(flag) is True
        ]
        key_required = properties.get("ApiKeyRequired") is True
        authorization = str(properties.get("AuthorizationType", "NONE"))
        authorizers = stack.resources_named(properties.get("AuthorizerId"))
        rows.append(
            [
                http_method,
                code(path),
                authorization + "".join(f" ({code(name)})" for name in authorizers),
                "required" if key_required else "no",
                ", ".join(validated) or "none",
                f"{integration.get('Type', '?')} → {target}",
                _stage_throttling(stack, api, http_method, path),
                _usage_plans(stack, api, http_method, path) if key_required else "— (no API key)",
                "<br>".join(reason for _, reason in _checkov_skips(method)) or "",
            ]
        )
    headers = ("Method", "Path", "Authorization", "API key", "Validation", "Integration", "Throttling")
    return markdown_table((*headers, "Usage plan", "Notes (from the template)"), rows)


def _principal(principal: object) -> str:
    if isinstance(principal, dict):
        return "<br>".join(
            f"{kind} {', '.join(code(expression(value)) for value in _as_list(values))}"
            for kind, values in sorted(principal.items())
        )
    return code(expression(principal)) if principal is not None else "—"


def _conditions(condition: object) -> str:
    if not isinstance(condition, dict):
        return "—"
    return "<br>".join(
        f"{operator} {code(key)} = {', '.join(code(expression(value)) for value in _as_list(values))}"
        for operator, pairs in sorted(condition.items())
        if isinstance(pairs, dict)
        for key, values in sorted(pairs.items())
    )


def wildcards(statement: dict[str, Any], in_key_policy: bool = False) -> list[str]:
    """What in statement is a wildcard: `*` actions or resources, a `*` principal, or a Not* element."""
    found = [
        f"{element} (matches everything not listed)"
        for element in ("NotAction", "NotResource", "NotPrincipal")
        if element in statement
    ]
    found += [
        f"action {code(action)}" for action in _as_list(statement.get("Action", [])) if "*" in str(action)
    ]
    if "*" in _as_list(statement.get("Resource", [])):
        found.append("resource `*`" + (" (in a key policy: this key)" if in_key_policy else ""))
    principal = statement.get("Principal")
    if principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))):
        found.append("principal `*`")
    return found


def _wildcard_cell(statement: dict[str, Any], in_key_policy: bool = False) -> str:
    found = wildcards(statement, in_key_policy)
    if not found:
        return ""
    if statement.get("Effect") == "Deny":
        return "in a Deny, which grants nothing: " + ", ".join(found)
    return "**WILDCARD** " + ", ".join(found)


def _actions(statement: dict[str, Any]) -> str:
    return ", ".join(
        code(action) for action in _as_list(statement.get("Action", statement.get("NotAction", [])))
    )


def _resources(statement: dict[str, Any]) -> str:
    resources = statement.get("Resource", statement.get("NotResource", []))
    return ", ".join(code(expression(resource)) for resource in _as_list(resources))


@dataclass(frozen=True)
class Grant:
    """One policy statement, with where it comes from (a role's policy or a resource policy)."""

    source: str  # logical id of the role, or of the resource holding the policy
    granted_by: str
    statement: dict[str, Any]
    in_key_policy: bool = False

    @property
    def sid(self) -> str:
        return code(self.statement["Sid"]) if "Sid" in self.statement else "—"


def role_grants(stack: Stack) -> list[Grant]:
    return [
        Grant(role, f"{code(role)} ({code(policy)})", statement)
        for role, policy, statement in role_statements(stack)
        if isinstance(statement, dict)
    ]


def resource_grants(stack: Stack) -> list[Grant]:
    drawn_as = fold_targets(stack)
    grants = []
    for logical_id, resource in stack.of_type(*RESOURCE_POLICY_DOCUMENT):
        document = _properties(resource).get(RESOURCE_POLICY_DOCUMENT[resource["Type"]]) or {}
        owner = drawn_as[logical_id]
        granted_by = code(logical_id) + (f" on {code(owner)}" if owner != logical_id else "")
        in_key_policy = resource["Type"] == "AWS::KMS::Key"
        grants += [
            Grant(logical_id, granted_by, statement, in_key_policy)
            for statement in _as_list(document.get("Statement", []))
            if isinstance(statement, dict)
        ]
    for logical_id, permission in stack.of_type("AWS::Lambda::Permission"):
        properties = _properties(permission)
        conditions = {
            operator: {f"aws:{name}": properties[name]}
            for operator, name in (("ArnLike", "SourceArn"), ("StringEquals", "SourceAccount"))
            if name in properties
        }
        statement = {
            "Effect": "Allow",
            "Principal": properties.get("Principal"),
            "Action": properties.get("Action"),
            "Resource": properties.get("FunctionName"),
            **({"Condition": conditions} if conditions else {}),
        }
        grants.append(Grant(logical_id, code(logical_id), statement))
    return grants


def iam_table(stack: Stack) -> str:
    drawn_as = fold_targets(stack)
    rows = []
    for grant in role_grants(stack):
        role = grant.source
        trust = stack.properties_of(role).get("AssumeRolePolicyDocument") or {}
        principals = "<br>".join(
            _principal(statement.get("Principal")) for statement in _as_list(trust.get("Statement", []))
        )
        used_by = code(drawn_as[role]) if drawn_as[role] != role else "—"
        rows.append(
            [
                grant.granted_by,
                f"{used_by}<br>assumed by {principals}",
                grant.sid,
                str(grant.statement.get("Effect", "")),
                _actions(grant.statement),
                _resources(grant.statement),
                _wildcard_cell(grant.statement),
            ]
        )
    for role, resource in stack.of_type("AWS::IAM::Role"):
        for arn in _as_list(_properties(resource).get("ManagedPolicyArns", [])):
            rows.append(
                [
                    code(role),
                    "—",
                    "managed policy",
                    "",
                    "",
                    code(expression(arn)),
                    "**REVIEW** its statements are not in the template",
                ]
            )
    return markdown_table(
        ("Role (policy)", "Used by", "Statement", "Effect", "Actions", "Resources", "Wildcard"), rows
    )


def resource_policies_table(stack: Stack) -> str:
    rows = [
        [
            grant.granted_by,
            grant.sid,
            str(grant.statement.get("Effect", "")),
            _principal(grant.statement.get("Principal")),
            _actions(grant.statement),
            _resources(grant.statement),
            _conditions(grant.statement.get("Condition")),
            _wildcard_cell(grant.statement, grant.in_key_policy),
        ]
        for grant in resource_grants(stack)
    ]
    headers = ("Resource policy", "Statement", "Effect", "Principal", "Actions", "Resources", "Conditions")
    return markdown_table((*headers, "Wildcard"), rows)


def wildcard_table(stack: Stack) -> str:
    """Every Allow statement with a wildcard; its Sid is the reason the template gives for it."""
    rows = [
        [
            grant.granted_by,
            grant.sid,
            _actions(grant.statement),
            ", ".join(wildcards(grant.statement, grant.in_key_policy)),
        ]
        for grant in [*role_grants(stack), *resource_grants(stack)]
        if grant.statement.get("Effect") == "Allow" and wildcards(grant.statement, grant.in_key_policy)
    ]
    return markdown_table(("Granted by", "Statement (reason)", "Actions", "Wildcard"), rows)


def _checkov_skips(resource: Resource) -> list[tuple[str, str]]:
    metadata = resource.get("Metadata")
    checkov = metadata.get("checkov") if isinstance(metadata, dict) else None
    skips = checkov.get("skip", []) if isinstance(checkov, dict) else []
    return sorted(
        (str(skip.get("id", "?")), str(skip.get("comment", "(no reason given)")))
        for skip in _as_list(skips)
        if isinstance(skip, dict)
    )


def checkov_table(stack: Stack) -> str:
    rows = [
        [code(logical_id), _short_type(resource["Type"]), code(check), reason]
        for logical_id, resource in stack.of_type()
        for check, reason in _checkov_skips(resource)
    ]
    return markdown_table(("Resource", "Type", "Check", "Reason"), rows)


def folded_table(graph: Graph) -> str:
    rows = [
        [code(node.logical_id), ", ".join(f"{code(name)}" for name in node.folded)]
        for _, nodes in graph.groups
        for node in nodes
        if node.folded
    ]
    return markdown_table(("Node", "Resources drawn as part of it"), rows)


LEGEND = (
    "Thick arrows are the request path (invokes, on success); dashed red arrows the failure path "
    "(on failure, alarms on, notifies); dashed grey arrows what a KMS key encrypts. An arrow to or "
    "from a group applies to every resource in the group. Stateful resources are drawn as cylinders. "
    "Roles, policies, log groups, permissions, invoke configs and the API's resources, methods, stage "
    "and deployment are drawn as part of the node they serve:"
)


def render_report(template: Template) -> str:
    """The Markdown report of template: diagram, entry points, functions, state, IAM, skips, interface."""
    stack = Stack.of(template)
    graph = build_graph(template)
    description = template.get("Description")
    sections = [
        "# What the template deploys",
        "Generated from the CloudFormation template by `python -m tapstack.build.report` (run by `make template`); "
        "do not edit it by hand.",
        f"> {description}" if isinstance(description, str) else "",
        "## Architecture",
        "Derived from the template's references, destinations, dead-letter configs, API integrations, "
        "environment variables, IAM statements and alarm dimensions. Each pair of nodes has one arrow, "
        "labelled with its strongest relation.",
        f"```mermaid\n{render_mermaid(graph)}\n```",
        LEGEND,
        folded_table(graph),
        "## Public entry points",
        routes_table(stack),
        "## Functions",
        functions_table(stack),
        "## Stateful resources",
        stateful_table(stack),
        "## IAM",
        "### Roles",
        iam_table(stack),
        "### Wildcards",
        "Every Allow statement with a wildcard action, resource or principal. The statement id (Sid) is the "
        "reason the template gives for it.",
        wildcard_table(stack),
        "### Resource policies",
        resource_policies_table(stack),
        "## checkov skips",
        checkov_table(stack),
        "## Parameters",
        parameters_table(stack),
        "## Outputs",
        outputs_table(stack),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


# --- Command line -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Render the Markdown report (or an SVG diagram) of a template."
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="the template JSON to read")
    parser.add_argument("--output", type=Path, help="where to write the report (default: the template's .md)")
    parser.add_argument("--check", action="store_true", help="compare with --output instead of writing it")
    parser.add_argument("--svg", type=Path, help="draw the diagram with Graphviz to this SVG instead")
    return parser.parse_args(argv)


def write_svg(template: Template, path: Path) -> int:
    dot = shutil.which("dot")
    if dot is None:
        print(GRAPHVIZ_MISSING, file=sys.stderr)
        return EXIT_CANNOT_RUN
    path.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 (dot from PATH, reading our own DOT on stdin)
        [dot, "-Tsvg", "-o", str(path)],
        input=render_dot(template),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"error: dot failed:\n{result.stderr}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print(f"wrote {path}")
    return EXIT_DONE


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        template = json.loads(args.template.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"error: cannot read --template {args.template}: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if not isinstance(template, dict):
        print(f"error: --template {args.template} is not a JSON object", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if args.svg is not None:
        return write_svg(template, args.svg)
    output = args.output or args.template.with_suffix(".md")
    report = render_report(template)
    if args.check:
        return check_current(output, report)
    write_atomically(output, report)
    print(f"wrote {output} ({len(report.encode())} bytes)")
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
