"""The architecture graph of a template: who calls the stack, and which resource invokes, writes, reads,
watches or encrypts which, every edge pointing the way data or control flows.

Nodes are the template's resources, with plumbing (roles, policies, permissions, log groups, the API's
stage and deployment) folded into the node it serves; an API's methods, drawn inside the API as its
routes; and the callers outside the stack, derived from those routes (`_route_callers`). Edges come from Ref,
Fn::GetAtt, Fn::Sub and DependsOn, asynchronous destinations, dead-letter configs, API integrations,
environment variables, IAM statements, alarm dimensions and metric filters.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.providers.catalogue import CATALOGUE
from tapstack.cfn.model import Resource, Template, references, sub_parts
from tapstack.generate.report.text import short_type

# Resources that only serve another one. The diagram folds each into the node it serves, found through the
# property naming that node, or (None) through whichever node refers to the folded resource (failing
# that, one that depends on it, or the one its NAMED_AFTER property names).
FOLDED_THROUGH: dict[str, str | None] = {
    "AWS::ApiGateway::ApiKey": None,
    "AWS::ApiGateway::Authorizer": "RestApiId",
    "AWS::ApiGateway::Deployment": "RestApiId",
    "AWS::ApiGateway::GatewayResponse": "RestApiId",
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
    "AWS::WAFv2::IPSet": None,
    "AWS::WAFv2::LoggingConfiguration": "ResourceArn",
    "AWS::WAFv2::WebACLAssociation": "WebACLArn",
}
# A log group nothing refers to or depends on belongs to what its name names (`/aws/lambda/${Function}`).
NAMED_AFTER = {"AWS::Logs::LogGroup": "LogGroupName"}
# Resources that watch what they refer to: what they watch is never folded into them.
OBSERVER_TYPES = frozenset(
    {"AWS::CloudWatch::Alarm", "AWS::Logs::MetricFilter", "AWS::Logs::SubscriptionFilter"}
)
# Resources drawn inside the node they belong to (found through this property): an API's methods, its routes.
PART_OF = {"AWS::ApiGateway::Method": "RestApiId"}

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
    "calls",
    "filters",
    "publishes",
    "writes",
    "reads",
    "logs to",
    "log events",
    "metric",
    "notifies",
    "encrypts",
    "uses",
    "depends on",
)
# Relations written in the resource data flows into, so drawn from the resource it refers to: a key
# encrypts what names it, an alarm watches a metric of what its dimensions name, a metric filter reads the
# log events of the log group it names.
REVERSED_KINDS = frozenset({"encrypts", "metric", "log events"})

# How a reference under a property path reads on the diagram; the first matching path wins.
REFERENCE_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::ApiGateway::Method": (("Integration", "invokes"),),
    "AWS::ApiGateway::Stage": (("AccessLogSetting", "logs to"),),
    "AWS::CloudWatch::Alarm": (
        ("AlarmActions", "notifies"),
        ("InsufficientDataActions", "notifies"),
        ("OKActions", "notifies"),
    ),
    "AWS::Lambda::EventInvokeConfig": (
        ("DestinationConfig.OnFailure", "on failure"),
        ("DestinationConfig.OnSuccess", "on success"),
    ),
    "AWS::Lambda::Function": (("DeadLetterConfig", "on failure"), ("LoggingConfig", "logs to")),
    "AWS::Logs::MetricFilter": (("LogGroupName", "log events"),),
    "AWS::Logs::SubscriptionFilter": (("LogGroupName", "log events"), ("DestinationArn", "writes")),
    "AWS::S3::Bucket": (("LoggingConfiguration", "logs to"),),
    "AWS::SQS::Queue": (("RedrivePolicy", "on failure"),),
    "AWS::WAFv2::WebACLAssociation": (("ResourceArn", "filters"),),
}
# Any other reference of an alarm names the metric source it watches.
DEFAULT_REFERENCE_KIND = {"AWS::CloudWatch::Alarm": "metric"}
# A key named under one of these properties encrypts the resource (KmsKeyId, KmsKeyArn, KmsMasterKeyId,
# SSESpecification.KMSMasterKeyId, BucketEncryption...KMSMasterKeyID); anywhere else, such as in an
# environment variable, the resource merely uses it.
ENCRYPTION_PROPERTY = re.compile(r"^(?:Kms|KMS|SSE)[A-Z]|Encryption")
# What a key encrypts of a resource it names (a function's KmsKeyArn encrypts its environment variables),
# and of a resource folded into a node (the key encrypts the logs of the function its log group serves).
ENCRYPTED_PART = {"AWS::Lambda::Function": "env vars"}
ENCRYPTED_FOLDED_PART = {"AWS::Logs::LogGroup": "logs"}

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

# Callers are not resources: their node ids carry this prefix (':' never occurs in a logical id) and
# their type names the group they are drawn in.
CALLER_PREFIX = "caller:"
CALLER_TYPE = "External::Caller"
# How the docs spell a provider whose name the webhook URLs write in lower case (the catalogue's
# titles, and PayPal); any other provider reads as its URL's path segment, capitalised (stripe -> Stripe).
PROVIDER_NAMES = {"paypal": "PayPal", **{name: entry.title for name, entry in CATALOGUE.items()}}

# Diagram groups by the service in the type name, in the order a request flows through them.
SERVICE_TITLES = {
    "External": "Callers",
    "WAFv2": "WAF",
    "ApiGateway": "API Gateway",
    "Lambda": "Lambda",
    "DynamoDB": "DynamoDB",
    "S3": "S3",
    "SNS": "SNS",
    "SQS": "SQS",
    "SecretsManager": "Secrets Manager",
    "Logs": "CloudWatch Logs",
    "CloudWatch": "CloudWatch alarms",
    "Dashboard": "CloudWatch dashboard",
    "KMS": "KMS",
}
# Types drawn in a group of their own, not their service's: the dashboard is no alarm.
OWN_GROUP = {"AWS::CloudWatch::Dashboard": "Dashboard"}
# Types whose references are not drawn: a dashboard graphs metrics of nearly every resource, and an edge
# to each would only say so (templates/dashboard.py lists its graphs).
UNDRAWN_REFERENCES = frozenset({"AWS::CloudWatch::Dashboard"})
GROUP_PREFIX = "service:"  # ':' never occurs in a logical id, so a group name cannot collide with one


def of_type(template: Template, *resource_types: str) -> list[Resource]:
    """The resources of these types (every resource if none is given), sorted by logical id, so the
    report does not depend on the order of the template's keys."""
    return sorted(template.resources_of_type(*resource_types), key=lambda resource: resource.logical_id)


def as_list(value: object) -> list[Any]:
    """CloudFormation and IAM take a single item where a list is expected (Action, Resource, ...)."""
    return value if isinstance(value, list) else [value]


def _service(resource_type: str) -> str:
    if resource_type in OWN_GROUP:
        return OWN_GROUP[resource_type]
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
    """A relation between two nodes (or a service group, named GROUP_PREFIX + service), drawn from source
    to target, the way data or control flows. label is what the arrow says: the kind, or for a metric the
    metric's name, for a caller the path it calls, for a key what it encrypts."""

    source: str
    target: str
    kind: str
    label: str


@dataclass(frozen=True)
class Node:
    """A resource drawn on the diagram (with the resources folded into it), or a caller outside the stack."""

    logical_id: str
    resource_type: str
    folded: tuple[str, ...] = ()
    caption: tuple[str, ...] = ()  # the lines the diagram writes; the logical id and short type if empty
    parent: str | None = None  # the node it is drawn inside (the API, for a route)

    @property
    def service(self) -> str:
        return _service(self.resource_type)

    @property
    def lines(self) -> tuple[str, ...]:
        return self.caption or (self.logical_id, short_type(self.resource_type))

    @property
    def is_caller(self) -> bool:
        return self.resource_type == CALLER_TYPE


@dataclass(frozen=True)
class Graph:
    groups: tuple[tuple[str, tuple[Node, ...]], ...]  # (service, its nodes), in SERVICE_TITLES order
    edges: tuple[Edge, ...]

    def group_members(self, name: str) -> tuple[Node, ...]:
        return dict(self.groups)[name.removeprefix(GROUP_PREFIX)]

    @property
    def nodes(self) -> dict[str, Node]:
        return {node.logical_id: node for _, nodes in self.groups for node in nodes}

    def children(self, logical_id: str) -> tuple[Node, ...]:
        """The nodes drawn inside this one (an API's routes), in logical id order."""
        return tuple(node for _, nodes in self.groups for node in nodes if node.parent == logical_id)


@dataclass(frozen=True)
class Relation:
    """A relation between two resources before plumbing is folded; detail is a metric's name."""

    source: str
    target: str
    kind: str
    detail: str = ""


def fold_targets(template: Template) -> dict[str, str]:
    """Logical id -> the diagram node it is drawn as: itself, or for plumbing the resource it serves."""
    referrers: dict[str, set[str]] = defaultdict(set)
    dependents: dict[str, set[str]] = defaultdict(set)
    for logical_id, resource in template.resources.items():
        if resource.type not in OBSERVER_TYPES:
            for name in template.referenced_resources(resource.properties):
                referrers[name].add(logical_id)
        for name in resource.depends_on() & template.resources.keys():
            dependents[name].add(logical_id)
    resolved: dict[str, str] = {}

    def target(logical_id: str, visiting: frozenset[str]) -> str:
        if logical_id in resolved:
            return resolved[logical_id]
        resource = template.resources[logical_id]
        if resource.type not in FOLDED_THROUGH or logical_id in visiting:
            return logical_id
        through = FOLDED_THROUGH[resource.type]
        named_after = NAMED_AFTER.get(resource.type)
        candidates = (
            set(template.referenced_resources(resource.properties.get(through)))
            if through
            else referrers[logical_id]
            or dependents[logical_id]
            or set(
                template.referenced_resources(resource.properties.get(named_after) if named_after else None)
            )
        )
        served = sorted({target(name, visiting | {logical_id}) for name in candidates} - {logical_id})
        resolved[logical_id] = served[0] if served else logical_id
        return resolved[logical_id]

    return {logical_id: target(logical_id, frozenset()) for logical_id in sorted(template.resources)}


def part_parents(template: Template, drawn_as: Mapping[str, str]) -> dict[str, str]:
    """Node -> the node it is drawn inside (a method -> its API), for the types in PART_OF; only a node of
    the same service holds another, so each is drawn once, in its service's group."""
    parents = {}
    for resource in of_type(template, *PART_OF):
        owners = template.referenced_resources(resource.properties.get(PART_OF[resource.type]))
        drawn = sorted(
            {
                drawn_as[name]
                for name in owners
                if _service(template.resources[drawn_as[name]].type) == _service(resource.type)
            }
            - {resource.logical_id}
        )
        if drawn:
            parents[resource.logical_id] = drawn[0]
    return parents


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


def _reference_kind(resource_type: str, path: str, is_key: bool) -> str:
    if is_key and ENCRYPTION_PROPERTY.search(path) and not path.startswith("Environment"):
        return "encrypts"
    rules = REFERENCE_KINDS.get(resource_type, ())
    return next(
        (kind for prefix, kind in rules if f"{path}.".startswith(f"{prefix}.")),
        DEFAULT_REFERENCE_KIND.get(resource_type, "uses"),
    )


def _metric_name(properties: Mapping[str, Any]) -> str:
    name = properties.get("MetricName")
    return name if isinstance(name, str) else "metric"


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _metric_filter_relations(template: Template) -> Iterator[Relation]:
    """A metric filter feeds the alarms on the metric it emits (same name and namespace)."""
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    for metric_filter in of_type(template, "AWS::Logs::MetricFilter"):
        for transformation in as_list(metric_filter.properties.get("MetricTransformations", [])):
            if not isinstance(transformation, dict):
                continue
            metric = (transformation.get("MetricName"), _canonical(transformation.get("MetricNamespace")))
            for alarm in alarms:
                properties = alarm.properties
                if (properties.get("MetricName"), _canonical(properties.get("Namespace"))) == metric:
                    yield Relation(
                        metric_filter.logical_id, alarm.logical_id, "metric", _metric_name(properties)
                    )


def _web_acl_metric_relations(template: Template) -> Iterator[Relation]:
    """A web ACL's metrics carry its metric name (VisibilityConfig.MetricName) as their `WebACL`
    dimension: an alarm with that dimension watches the web ACL, though it names it as text."""
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    for web_acl in of_type(template, "AWS::WAFv2::WebACL"):
        visibility = web_acl.properties.get("VisibilityConfig")
        if not isinstance(visibility, dict) or "MetricName" not in visibility:
            continue
        metric_name = _canonical(visibility["MetricName"])
        for alarm in alarms:
            dimensions = as_list(alarm.properties.get("Dimensions", []))
            if any(
                isinstance(d, dict)
                and d.get("Name") == "WebACL"
                and _canonical(d.get("Value")) == metric_name
                for d in dimensions
            ):
                yield Relation(web_acl.logical_id, alarm.logical_id, "metric", _metric_name(alarm.properties))


def _relations(template: Template) -> Iterator[Relation]:
    """Every relation between resources, before plumbing is folded into the nodes it serves."""
    keys = {key.logical_id for key in template.resources_of_type("AWS::KMS::Key")}
    for role, _, statement in role_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        kind = _action_kind([str(action) for action in as_list(statement.get("Action", []))])
        # A role's use of the key shows in the IAM table; the diagram shows what the key encrypts.
        for name in set(template.referenced_resources(statement.get("Resource"))) - keys:
            yield Relation(role, name, kind)
    for resource in of_type(template):
        logical_id, resource_type = resource.logical_id, resource.type
        if resource_type in RESOURCE_POLICY_DOCUMENT or resource_type in (
            "AWS::IAM::Role",
            "AWS::Lambda::Permission",
            *IAM_POLICY_TYPES,
        ):
            continue  # grants, listed in the IAM tables rather than drawn
        if resource_type in UNDRAWN_REFERENCES:
            continue
        for path, name in _leaf_references(resource.properties):
            if name not in template.resources:
                continue
            kind = _reference_kind(resource_type, path, name in keys)
            detail = _metric_name(resource.properties) if kind == "metric" else ""
            if kind in REVERSED_KINDS:
                yield Relation(name, logical_id, kind, detail)
            else:
                yield Relation(logical_id, name, kind, detail)
        for name in resource.depends_on() & template.resources.keys():
            yield Relation(logical_id, name, "depends on")
    yield from _metric_filter_relations(template)
    yield from _web_acl_metric_relations(template)


def api_path(template: Template, resource_id: object, visiting: frozenset[str] = frozenset()) -> str:
    """The path of an API Gateway resource, from its chain of parents (the root resource is `/`)."""
    names = [
        name
        for name in template.referenced_resources(resource_id, "AWS::ApiGateway::Resource")
        if name not in visiting
    ]
    if not names:
        return "/"
    properties = template.resources[names[0]].properties
    parent = api_path(template, properties.get("ParentId"), visiting | {names[0]})
    return f"{parent.rstrip('/')}/{properties.get('PathPart', '?')}"


def _api_keys(template: Template, api: str) -> list[Resource]:
    """The API keys of the usage plans on this API (and keys naming it in their StageKeys)."""
    plans = {
        plan.logical_id
        for plan in of_type(template, "AWS::ApiGateway::UsagePlan")
        if api in references(plan.properties.get("ApiStages"))
    }
    names = {
        name
        for plan_key in of_type(template, "AWS::ApiGateway::UsagePlanKey")
        if plans & set(template.referenced_resources(plan_key.properties.get("UsagePlanId")))
        for name in template.referenced_resources(plan_key.properties.get("KeyId"), "AWS::ApiGateway::ApiKey")
    }
    names |= {
        key.logical_id
        for key in of_type(template, "AWS::ApiGateway::ApiKey")
        if api in references(key.properties.get("StageKeys"))
    }
    return [template.resources[name] for name in sorted(names)]


def _url_texts(template: Template, api: str) -> list[str]:
    """The texts of the outputs that build a URL of this API (`https://${Api}.execute-api.../v1/...`)."""
    texts = []
    for output in template.outputs.values():
        value = output.get("Value")
        if api not in references(value) or not isinstance(value, Mapping) or "Fn::Sub" not in value:
            continue
        sub = sub_parts(value["Fn::Sub"])
        if sub is not None:
            texts.append(sub[0])
    return texts


def _path_values(path: str, texts: Sequence[str]) -> list[str]:
    """The values a route's path parameter takes in these URLs (/webhooks/{provider}: .../webhooks/stripe)."""
    pieces = re.split(r"(\{[^}]+\})", path)
    if len(pieces) != 3:  # no parameter, or more than one: no single value names a caller
        return []
    pattern = re.compile(re.escape(pieces[0]) + r"([^/${}]+)" + re.escape(pieces[2]) + "$")
    return sorted({match[1] for text in texts if (match := pattern.search(text))})


def _caller(name: str, *caption: str) -> Node:
    return Node(CALLER_PREFIX + name, CALLER_TYPE, caption=caption)


def _key_holders(key: Resource) -> str:
    """Who holds an API key: its Description ("Internal clients"), else its logical id."""
    description = key.properties.get("Description")
    return description if isinstance(description, str) and description else key.logical_id


def _route_callers(template: Template, route: Resource) -> list[tuple[Node, str]]:
    """(caller, what its arrow says) for one route: the holders of the API keys it requires (named by the
    key's Description); else the callers its URL outputs name by its path parameter (the webhook URLs name
    the providers: .../webhooks/stripe); else whoever its authorization lets in."""
    properties = route.properties
    api = next(iter(template.referenced_resources(properties.get("RestApiId"))), "")
    if properties.get("ApiKeyRequired") is True:
        keys = _api_keys(template, api)
        holders = [(_key_holders(key), key.logical_id) for key in keys] or [("API key holders", "")]
        return [
            (_caller(f"key:{key_id}", name, f"API key {key_id}".strip()), "with API key")
            for name, key_id in holders
        ]
    path = api_path(template, properties.get("ResourceId"))
    values = _path_values(path, _url_texts(template, api))
    if values:
        return [
            (
                _caller(f"url:{value}", PROVIDER_NAMES.get(value, value[:1].upper() + value[1:])),
                re.sub(r"\{[^}]+\}", value, path),
            )
            for value in values
        ]
    authorization = str(properties.get("AuthorizationType", "NONE"))
    if authorization == "NONE":
        return [(_caller("anyone", "Anyone"), "no auth")]
    return [(_caller(f"auth:{authorization}", f"{authorization} callers"), authorization)]


def _label(template: Template, kind: str, relations: Sequence[Relation], drawn_as: Mapping[str, str]) -> str:
    """What the arrow says: the kind; for a metric, its name; for a key, what of the node it encrypts."""
    if kind == "metric":
        return ", ".join(sorted({relation.detail for relation in relations}))
    if kind != "encrypts":
        return kind
    parts = set()
    for relation in relations:
        encrypted = template.resources[relation.target]
        node = drawn_as[relation.target]
        if node == relation.target:
            parts.add(ENCRYPTED_PART.get(encrypted.type))
        else:
            parts.add(ENCRYPTED_FOLDED_PART.get(encrypted.type, short_type(encrypted.type)))
    if parts == {None}:
        return "encrypts"
    node_type = template.resources[drawn_as[relations[0].target]].type
    named = sorted(part if part is not None else short_type(node_type).lower() for part in parts)
    return f"encrypts {' + '.join(named)} of"


def _group_shared_edges(edges: set[Edge], groups: Mapping[str, Sequence[str]]) -> set[Edge]:
    """Draw an edge every member of a service group has with the same node once, from or to the group."""
    result = set(edges)
    for service, members in groups.items():
        if len(members) < 2:
            continue
        group, member_set = GROUP_PREFIX + service, set(members)
        outgoing = {(edge.target, edge.kind, edge.label) for edge in result if edge.source in member_set}
        for target, kind, label in sorted(outgoing):
            shared = {Edge(member, target, kind, label) for member in members}
            if target not in member_set and shared <= result:
                result = (result - shared) | {Edge(group, target, kind, label)}
        incoming = {(edge.source, edge.kind, edge.label) for edge in result if edge.target in member_set}
        for source, kind, label in sorted(incoming):
            shared = {Edge(source, member, kind, label) for member in members}
            if source not in member_set and shared <= result:
                result = (result - shared) | {Edge(source, group, kind, label)}
    return result


def build_graph(document: Mapping[str, Any]) -> Graph:
    """The architecture graph: callers and the routes they call, plumbing folded into the node it serves,
    one edge (its strongest kind) per pair of nodes, pointing the way data or control flows, and edges
    shared by a whole service group drawn once from or to the group."""
    template = Template(document)
    drawn_as = fold_targets(template)
    parents = part_parents(template, drawn_as)
    by_pair: dict[tuple[str, str], list[Relation]] = defaultdict(list)
    for relation in _relations(template):
        pair = (drawn_as[relation.source], drawn_as[relation.target])
        # A route's references to its own API (RestApiId, its resources, validator) are structure, not flow.
        if pair[0] != pair[1] and parents.get(pair[0]) != pair[1] and parents.get(pair[1]) != pair[0]:
            by_pair[pair].append(relation)
    edges = set()
    for pair, relations in by_pair.items():
        kind = min((relation.kind for relation in relations), key=EDGE_KINDS.index)
        strongest = [relation for relation in relations if relation.kind == kind]
        edges.add(Edge(*pair, kind, _label(template, kind, strongest, drawn_as)))
    folded: dict[str, list[str]] = defaultdict(list)
    for logical_id, node_id in drawn_as.items():
        if logical_id != node_id:
            folded[node_id].append(logical_id)
    nodes = [
        Node(
            node_id,
            template.resources[node_id].type,
            tuple(folded[node_id]),
            _route_caption(template, template.resources[node_id]),
            parents.get(node_id),
        )
        for node_id in sorted(set(drawn_as.values()))
    ]
    callers: dict[str, Node] = {}
    for route in nodes:
        if route.resource_type == "AWS::ApiGateway::Method":
            for caller, label in _route_callers(template, template.resources[route.logical_id]):
                callers[caller.logical_id] = caller
                edges.add(Edge(caller.logical_id, route.logical_id, "calls", label))
    by_service: dict[str, list[Node]] = defaultdict(list)
    for node in [*nodes, *(callers[name] for name in sorted(callers))]:
        by_service[node.service].append(node)
    service_order = [*SERVICE_TITLES, *sorted(by_service.keys() - SERVICE_TITLES.keys())]
    groups = tuple(
        (service, tuple(by_service[service])) for service in service_order if service in by_service
    )
    members = {service: [node.logical_id for node in nodes] for service, nodes in groups}
    return Graph(groups, tuple(sorted(_group_shared_edges(edges, members))))


def _route_caption(template: Template, resource: Resource) -> tuple[str, ...]:
    """A method reads as its route (`POST /transactions`) above its logical id; other nodes as themselves."""
    if resource.type != "AWS::ApiGateway::Method":
        return ()
    http_method = str(resource.properties.get("HttpMethod", "?"))
    return f"{http_method} {api_path(template, resource.properties.get('ResourceId'))}", resource.logical_id
