"""The architecture graph of a template: which resource uses, invokes, writes or encrypts which.

Edges come from Ref, Fn::GetAtt, Fn::Sub and DependsOn, asynchronous destinations, dead-letter configs,
API integrations, environment variables, IAM statements and alarm dimensions. Plumbing (roles,
policies, permissions, the API's parts) is folded into the node it serves, so the diagram shows what
the stack does rather than every resource it needs to do it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tapstack.cfn.model import Resource, Template, references

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
# Kinds drawn from the referenced resource to the referring one (a key encrypts what names it).
REVERSED_KINDS = frozenset({"alarms on", "encrypts"})

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


def of_type(template: Template, *resource_types: str) -> list[Resource]:
    """The resources of these types (every resource if none is given), sorted by logical id, so the
    report does not depend on the order of the template's keys."""
    return sorted(template.resources_of_type(*resource_types), key=lambda resource: resource.logical_id)


def as_list(value: object) -> list[Any]:
    """CloudFormation and IAM take a single item where a list is expected (Action, Resource, ...)."""
    return value if isinstance(value, list) else [value]


def _service(resource_type: str) -> str:
    parts = resource_type.split("::")
    return parts[1] if parts[0] == "AWS" and len(parts) == 3 else parts[0]


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


@dataclass(frozen=True)
class Graph:
    groups: tuple[tuple[str, tuple[Node, ...]], ...]  # (service, its nodes), in SERVICE_TITLES order
    edges: tuple[Edge, ...]

    def group_members(self, name: str) -> tuple[Node, ...]:
        return dict(self.groups)[name.removeprefix(GROUP_PREFIX)]


def fold_targets(template: Template) -> dict[str, str]:
    """Logical id -> the diagram node it is drawn as: itself, or for plumbing the resource it serves."""
    referrers: dict[str, set[str]] = defaultdict(set)
    for logical_id, resource in template.resources.items():
        for name in template.referenced_resources(resource.properties):
            referrers[name].add(logical_id)
    resolved: dict[str, str] = {}

    def target(logical_id: str, visiting: frozenset[str]) -> str:
        if logical_id in resolved:
            return resolved[logical_id]
        resource = template.resources[logical_id]
        if resource.type not in FOLDED_THROUGH or logical_id in visiting:
            return logical_id
        through = FOLDED_THROUGH[resource.type]
        candidates = (
            set(template.referenced_resources(resource.properties.get(through)))
            if through
            else referrers[logical_id]
        )
        served = sorted({target(name, visiting | {logical_id}) for name in candidates} - {logical_id})
        resolved[logical_id] = served[0] if served else logical_id
        return resolved[logical_id]

    return {logical_id: target(logical_id, frozenset()) for logical_id in sorted(template.resources)}


def _action_kind(actions: list[str]) -> str:
    kinds = {
        kind
        for action in actions
        for verb, kind in ACTION_VERB_KINDS
        if action.partition(":")[2].startswith(verb)
    }
    return min(kinds, key=EDGE_KINDS.index, default="uses")


def role_statements(template: Template) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(role, policy name, statement) for the inline policies of every role and policies attached to it."""
    for role in of_type(template, "AWS::IAM::Role"):
        for policy in as_list(role.properties.get("Policies", [])):
            document = policy.get("PolicyDocument", {}) if isinstance(policy, dict) else {}
            for statement in as_list(document.get("Statement", [])):
                yield role.logical_id, str(policy.get("PolicyName", "")), statement
    for policy in of_type(template, *IAM_POLICY_TYPES):
        properties = policy.properties
        for role_id in template.referenced_resources(properties.get("Roles"), "AWS::IAM::Role"):
            for statement in as_list(properties.get("PolicyDocument", {}).get("Statement", [])):
                yield role_id, policy.logical_id, statement


def _relations(template: Template) -> Iterator[Edge]:
    """Every relation between resources, before plumbing is folded into the nodes it serves."""
    keys = {key.logical_id for key in template.resources_of_type("AWS::KMS::Key")}
    for role, _, statement in role_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        kind = _action_kind([str(action) for action in as_list(statement.get("Action", []))])
        # A role's use of the key shows in the IAM table; the diagram shows what the key encrypts.
        for name in set(template.referenced_resources(statement.get("Resource"))) - keys:
            yield Edge(role, name, kind)
    for resource in of_type(template):
        logical_id, resource_type = resource.logical_id, resource.type
        if resource_type in RESOURCE_POLICY_DOCUMENT or resource_type in (
            "AWS::IAM::Role",
            "AWS::Lambda::Permission",
            *IAM_POLICY_TYPES,
        ):
            continue  # grants, listed in the IAM tables rather than drawn
        for path, name in _leaf_references(resource.properties):
            if name not in template.resources:
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
        for name in resource.depends_on() & template.resources.keys():
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


def build_graph(document: Mapping[str, Any]) -> Graph:
    """The architecture graph: plumbing folded into the node it serves, one edge (its strongest kind)
    per pair of nodes, and edges shared by a whole service group drawn once from or to the group."""
    template = Template(document)
    drawn_as = fold_targets(template)
    strongest: dict[tuple[str, str], str] = {}
    for relation in _relations(template):
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
        node = Node(node_id, template.resources[node_id].type, tuple(folded[node_id]))
        by_service[node.service].append(node)
    service_order = [*SERVICE_TITLES, *sorted(by_service.keys() - SERVICE_TITLES.keys())]
    groups = tuple(
        (service, tuple(by_service[service])) for service in service_order if service in by_service
    )
    edges = {Edge(source, target, kind) for (source, target), kind in strongest.items()}
    members = {service: [node.logical_id for node in nodes] for service, nodes in groups}
    return Graph(groups, tuple(sorted(_group_shared_edges(edges, members))))
