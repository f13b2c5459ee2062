"""The report's tables: entry points, functions, stateful resources, IAM grants, checkov skips, the
template's interface. Each reads the resources' properties and metadata through the template model."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tapstack.cfn.model import Resource, Template, intrinsic_name, references, sub_parts
from tapstack.generate.report.graph import (
    RESOURCE_POLICY_DOCUMENT,
    Graph,
    api_path,
    as_list,
    fold_targets,
    of_type,
    role_statements,
)
from tapstack.generate.report.text import code, expression, markdown_table, named, setting, short_type
from templates.contract import CONTROL_TOWER_METADATA, SETTINGS_METADATA

NOT_SET = "not set (service default)"
DescribedState = tuple[str, str, str]  # encryption, retention, backup and recovery


def _switch(template: Template, value: object) -> str:
    if value is None or isinstance(value, bool):
        return "on" if value else "off"
    return setting(template, value)


def _days(template: Template, value: object, unit: str = "d") -> str:
    return f"{value} {unit}" if isinstance(value, int) else f"{setting(template, value)} {unit}"


def _seconds(template: Template, value: object) -> str:
    for unit, length in (("d", 86400), ("h", 3600)):
        if isinstance(value, int) and value and value % length == 0:
            return f"{value // length} {unit} ({value} s)"
    return _days(template, value, "s")


def _dynamodb_table(template: Template, resource: Resource) -> DescribedState:
    properties = resource.properties
    sse = properties.get("SSESpecification") or {}
    if "KMSMasterKeyId" in sse:
        encryption = f"SSE-KMS, key {named(template, sse['KMSMasterKeyId'], 'AWS::KMS::Key')}"
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
        f"PITR {_switch(template, pitr)}; deletion protection {_switch(template, protection)}",
    )


def _lifecycle_rule(template: Template, rule: dict[str, Any]) -> str:
    parts = [
        f"to {transition.get('StorageClass')} after {_days(template, transition.get('TransitionInDays'))}"
        for transition in as_list(rule.get("Transitions", []))
    ]
    if "ExpirationInDays" in rule:
        parts.append(f"expire after {_days(template, rule['ExpirationInDays'])}")
    if "NoncurrentVersionExpiration" in rule:
        noncurrent_days = rule["NoncurrentVersionExpiration"].get("NoncurrentDays")
        parts.append(f"noncurrent versions expire after {_days(template, noncurrent_days)}")
    if "AbortIncompleteMultipartUpload" in rule:
        abort_days = rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation")
        parts.append(f"incomplete uploads aborted after {_days(template, abort_days)}")
    status = "" if rule.get("Status") == "Enabled" else f" ({rule.get('Status', 'no status')})"
    sizes = [
        f"{comparison} {_days(template, rule[key], 'B')}"
        for key, comparison in (("ObjectSizeGreaterThan", "over"), ("ObjectSizeLessThan", "under"))
        if key in rule
    ]
    scope = f" (objects {' and '.join(sizes)})" if sizes else ""
    return f"{rule.get('Id', 'rule')}{status}{scope}: {', '.join(parts) or 'no action'}"


def _lifecycle(template: Template, lifecycle: Mapping[str, Any]) -> str:
    """The lifecycle rules, after the size below which S3 transitions nothing unless a rule says so."""
    minimum = lifecycle.get("TransitionDefaultMinimumObjectSize", "not stated (S3's default applies)")
    lines = [f"transition default minimum object size: {code(expression(minimum))}"]
    lines += [_lifecycle_rule(template, rule) for rule in as_list(lifecycle.get("Rules", []))]
    return "<br>".join(lines)


def _object_lock(template: Template, properties: Mapping[str, Any]) -> str | None:
    """Object Lock and the default retention of new object versions, with the condition it depends on."""
    if properties.get("ObjectLockEnabled") is not True:
        return None
    rule = (properties.get("ObjectLockConfiguration") or {}).get("Rule")
    only = ""
    if (
        isinstance(rule, dict)
        and intrinsic_name(rule) == "Fn::If"
        and len(sides := as_list(rule["Fn::If"])) == 3
    ):
        condition, when_true, when_false = sides
        holds = intrinsic_name(when_true) is None
        rule = when_true if holds else when_false
        only = f" when {code(condition)}" if holds else f" unless {code(condition)}"
    retention = rule.get("DefaultRetention") if isinstance(rule, dict) else None
    if not isinstance(retention, dict):
        return "object lock on, no default retention"
    period = (
        _days(template, retention["Days"])
        if "Days" in retention
        else _days(template, retention.get("Years"), "years")
    )
    return f"object lock on, default retention {setting(template, retention.get('Mode'))} for {period}{only}"


def _s3_bucket(template: Template, resource: Resource) -> DescribedState:
    properties = resource.properties
    rules = as_list((properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", []))
    first_rule = rules[0] if rules and isinstance(rules[0], dict) else {}
    default = first_rule.get("ServerSideEncryptionByDefault") or {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        key = (
            named(template, default["KMSMasterKeyID"], "AWS::KMS::Key")
            if "KMSMasterKeyID" in default
            else "AWS managed key"
        )
        bucket_key = _switch(template, first_rule.get("BucketKeyEnabled"))
        encryption = f"SSE-KMS ({algorithm}), key {key}, bucket key {bucket_key}"
    else:
        encryption = f"SSE-S3 ({algorithm})" if algorithm else NOT_SET
    lifecycle = properties.get("LifecycleConfiguration")
    retention = (
        _lifecycle(template, lifecycle)
        if isinstance(lifecycle, dict) and lifecycle.get("Rules")
        else "no lifecycle rule: objects kept until deleted"
    )
    backup = [f"versioning {(properties.get('VersioningConfiguration') or {}).get('Status', 'off')}"]
    if "ReplicationConfiguration" in properties:
        backup.append("replicated")
    object_lock = _object_lock(template, properties)
    if object_lock is not None:
        backup.append(object_lock)
    return encryption, retention, "; ".join(backup)


def _sqs_queue(template: Template, resource: Resource) -> DescribedState:
    properties = resource.properties
    if "KmsMasterKeyId" in properties:
        encryption = f"SSE-KMS, key {named(template, properties['KmsMasterKeyId'], 'AWS::KMS::Key')}"
        if "KmsDataKeyReusePeriodSeconds" in properties:
            encryption += f", data key reused {properties['KmsDataKeyReusePeriodSeconds']} s"
    elif "SqsManagedSseEnabled" in properties:
        encryption = f"SSE-SQS {_switch(template, properties['SqsManagedSseEnabled'])}"
    else:
        encryption = NOT_SET
    retention = (
        f"messages kept {_seconds(template, properties['MessageRetentionPeriod'])}"
        if "MessageRetentionPeriod" in properties
        else f"messages kept: {NOT_SET}"
    )
    return encryption, retention, "—"


def _sns_topic(template: Template, resource: Resource) -> DescribedState:
    properties = resource.properties
    encryption = (
        f"SSE-KMS, key {named(template, properties['KmsMasterKeyId'], 'AWS::KMS::Key')}"
        if "KmsMasterKeyId" in properties
        else NOT_SET
    )
    archive = properties.get("ArchivePolicy")
    return (
        encryption,
        f"archive {code(expression(archive))}" if archive else "not stored (delivery only)",
        "—",
    )


def _log_group(template: Template, resource: Resource) -> DescribedState:
    properties = resource.properties
    encryption = (
        f"KMS key {named(template, properties['KmsKeyId'], 'AWS::KMS::Key')}"
        if "KmsKeyId" in properties
        else NOT_SET
    )
    retention = (
        f"{_days(template, properties['RetentionInDays'], 'days')}"
        if "RetentionInDays" in properties
        else "never expires"
    )
    return encryption, retention, "—"


def _kms_key(template: Template, resource: Resource) -> DescribedState:
    properties = resource.properties
    rotation = _switch(template, properties.get("EnableKeyRotation"))
    pending = (
        _days(template, properties["PendingWindowInDays"]) if "PendingWindowInDays" in properties else "30 d"
    )
    return "— (the key itself)", f"rotation {rotation}; deletion waits {pending}", "—"


def _secret(template: Template, resource: Resource) -> DescribedState:
    properties = resource.properties
    encryption = (
        f"KMS key {named(template, properties['KmsKeyId'], 'AWS::KMS::Key')}"
        if "KmsKeyId" in properties
        else "AWS managed key"
    )
    rotations = [
        schedule.logical_id
        for schedule in of_type(template, "AWS::SecretsManager::RotationSchedule")
        if resource.logical_id in references(schedule.properties.get("SecretId"))
    ]
    rotation = f"rotated by {', '.join(map(code, rotations))}" if rotations else "no rotation schedule"
    replicas = properties.get("ReplicaRegions")
    return encryption, rotation, f"replicas {code(expression(replicas))}" if replicas else "—"


# Stateful resource types and how each says its encryption, retention and backup.
STATE_DESCRIBERS: dict[str, Callable[[Template, Resource], DescribedState]] = {
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::S3::Bucket": _s3_bucket,
    "AWS::SQS::Queue": _sqs_queue,
    "AWS::SNS::Topic": _sns_topic,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::KMS::Key": _kms_key,
    "AWS::SecretsManager::Secret": _secret,
}


def stateful_table(template: Template) -> str:
    rows = []
    for resource in of_type(template, *STATE_DESCRIBERS):
        encryption, retention, backup = STATE_DESCRIBERS[resource.type](template, resource)
        policies = [
            resource.definition.get(policy, "not set (Delete)")
            for policy in ("DeletionPolicy", "UpdateReplacePolicy")
        ]
        rows.append(
            [code(resource.logical_id), short_type(resource.type), encryption, retention, backup, *policies]
        )
    headers = ("Resource", "Type", "Encryption", "Retention", "Backup / recovery", "DeletionPolicy")
    return markdown_table((*headers, "UpdateReplacePolicy"), rows)


def parameters_table(template: Template) -> str:
    rows = []
    for name in sorted(template.parameters):
        parameter = template.parameters[name]
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


def outputs_table(template: Template) -> str:
    rows = []
    for name in sorted(template.outputs):
        output = template.outputs[name]
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


def _body_text(body: object) -> str | None:
    """A DashboardBody's JSON text: given as text, or as an Fn::Sub of it (its placeholders sit inside
    JSON strings, so the text parses as it is)."""
    if isinstance(body, str):
        return body
    parts = (
        sub_parts(body["Fn::Sub"]) if isinstance(body, dict) and intrinsic_name(body) == "Fn::Sub" else None
    )
    return parts[0] if parts is not None else None


def _dashboard_graphs(body: object) -> list[tuple[str, str]] | None:
    """(title, what it draws) of each metric widget of a DashboardBody; None when the template does not
    say. A metric drawn with several sets of dimensions (per reason, per queue) reads `in N series`."""
    text = _body_text(body)
    try:
        widgets = json.loads(text)["widgets"] if text is not None else None
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(widgets, list):
        return None
    graphs = []
    for widget in widgets:
        properties = widget.get("properties", {}) if isinstance(widget, dict) else {}
        if widget.get("type") != "metric" or not isinstance(properties.get("metrics"), list):
            continue
        statistics: dict[str, set[str]] = {}
        dimensions: dict[str, set[str]] = {}
        searches = []
        for line in properties["metrics"]:
            options = line[-1] if line and isinstance(line[-1], dict) else {}
            if "expression" in options:
                searches.append(code(str(options["expression"])))
            elif len(line) >= 2:
                name = str(line[1])
                statistics.setdefault(name, set()).add(str(options.get("stat", properties.get("stat", ""))))
                dimensions.setdefault(name, set()).add(
                    json.dumps([i for i in line[2:] if isinstance(i, str)])
                )
        metrics = [
            code(name)
            + (f" in {len(dimensions[name])} series" if len(dimensions[name]) > 1 else "")
            + f" ({', '.join(sorted(stats))})"
            for name, stats in statistics.items()
        ]
        graphs.append((str(properties.get("title", "")), ", ".join([*metrics, *searches])))
    return graphs


def _conditional_graphs(body: object) -> list[tuple[str, str]] | None:
    """The graphs of a body that is an Fn::If between two bodies: those of one branch only say so."""
    condition, when_true, when_false = body["Fn::If"] if isinstance(body, dict) else ("", None, None)
    holding, failing = _dashboard_graphs(when_true), _dashboard_graphs(when_false)
    if holding is None or failing is None:
        return None
    only, unless = f" (only if {code(condition)})", f" (unless {code(condition)})"
    return [(title, drawn + ("" if (title, drawn) in failing else only)) for title, drawn in holding] + [
        (title, drawn + unless) for title, drawn in failing if (title, drawn) not in holding
    ]


def dashboard_table(template: Template) -> str:
    """Each dashboard's graphs and the metrics they draw; a graph drawn under a condition says which."""
    rows = []
    for dashboard in of_type(template, "AWS::CloudWatch::Dashboard"):
        body = dashboard.properties.get("DashboardBody")
        is_choice = (
            isinstance(body, dict) and intrinsic_name(body) == "Fn::If" and len(as_list(body["Fn::If"])) == 3
        )
        graphs = _conditional_graphs(body) if is_choice else _dashboard_graphs(body)
        if graphs is None:
            rows.append([code(dashboard.logical_id), "—", "its body is not readable from the template"])
        rows += [[code(dashboard.logical_id), title, drawn] for title, drawn in graphs or []]
    return markdown_table(("Dashboard", "Graph", "Metrics (statistics)"), rows)


def functions_table(template: Template) -> str:
    invoke_configs = {
        function_id: config.properties
        for config in of_type(template, "AWS::Lambda::EventInvokeConfig")
        for function_id in template.referenced_resources(
            config.properties.get("FunctionName"), "AWS::Lambda::Function"
        )
    }
    rows = []
    for function in of_type(template, "AWS::Lambda::Function"):
        logical_id, properties = function.logical_id, function.properties
        config = invoke_configs.get(logical_id, {})
        destinations = config.get("DestinationConfig") or {}
        on_failure = [
            f"{what} {named(template, value)}"
            for what, value in (
                ("destination", (destinations.get("OnFailure") or {}).get("Destination")),
                ("dead-letter queue", (properties.get("DeadLetterConfig") or {}).get("TargetArn")),
            )
            if value is not None
        ]
        on_success = (destinations.get("OnSuccess") or {}).get("Destination")
        architectures = " ".join(map(str, as_list(properties.get("Architectures", ["x86_64"]))))
        rows.append(
            [
                code(logical_id),
                f"{properties.get('Runtime', '—')} {architectures}",
                f"{properties.get('MemorySize', 128)} MB",
                f"{properties.get('Timeout', 3)} s",
                setting(template, properties["ReservedConcurrentExecutions"])
                if "ReservedConcurrentExecutions" in properties
                else "none",
                str(config.get("MaximumRetryAttempts", "—")),
                _seconds(template, config["MaximumEventAgeInSeconds"])
                if "MaximumEventAgeInSeconds" in config
                else "—",
                named(template, on_success) if on_success is not None else "—",
                "<br>".join(on_failure) or "—",
                (properties.get("TracingConfig") or {}).get("Mode", "PassThrough"),
            ]
        )
    headers = ("Function", "Runtime", "Memory", "Timeout", "Reserved concurrency", "Async retries")
    return markdown_table((*headers, "Max event age", "On success", "On failure", "Tracing"), rows)


def _stage_throttling(template: Template, api: str, http_method: str, path: str) -> str:
    """Each stage's throttle for the route: its own MethodSettings entry, else the stage-wide `/*` one."""
    encoded_path = "/" + path.lstrip("/").replace("/", "~1")
    lines = []
    for stage in of_type(template, "AWS::ApiGateway::Stage"):
        properties = stage.properties
        if api not in references(properties.get("RestApiId")):
            continue
        settings = [
            setting for setting in as_list(properties.get("MethodSettings", [])) if isinstance(setting, dict)
        ]
        matching = [
            setting
            for route in ((encoded_path, http_method), ("/*", "*"))
            for setting in settings
            if (setting.get("ResourcePath"), setting.get("HttpMethod")) == route
            and "ThrottlingRateLimit" in setting
        ]
        throttle = (
            f"rate {setting(template, matching[0]['ThrottlingRateLimit'])}/s, "
            f"burst {setting(template, matching[0].get('ThrottlingBurstLimit'))}"
            if matching
            else "account default"
        )
        lines.append(f"stage {code(expression(properties.get('StageName')))}: {throttle}")
    return "<br>".join(lines) or "no stage"


def _usage_plans(template: Template, api: str, http_method: str, path: str) -> str:
    lines = []
    for plan in of_type(template, "AWS::ApiGateway::UsagePlan"):
        properties = plan.properties
        stages = [stage for stage in as_list(properties.get("ApiStages", [])) if isinstance(stage, dict)]
        if not any(api in references(stage.get("ApiId")) for stage in stages):
            continue
        method_throttles = [stage.get("Throttle", {}).get(f"{path}/{http_method}") for stage in stages]
        throttle = (
            next((value for value in method_throttles if value), None) or properties.get("Throttle") or {}
        )
        quota = properties.get("Quota") or {}
        parts = [
            f"rate {setting(template, throttle['RateLimit'])}/s" if "RateLimit" in throttle else "",
            f"burst {setting(template, throttle['BurstLimit'])}" if "BurstLimit" in throttle else "",
            f"quota {setting(template, quota['Limit'])} per {quota.get('Period', '?')}"
            if "Limit" in quota
            else "",
        ]
        lines.append(f"{code(plan.logical_id)}: {', '.join(part for part in parts if part) or 'no limits'}")
    return "<br>".join(lines) or "none"


def routes_table(template: Template) -> str:
    rows = []
    for method in of_type(template, "AWS::ApiGateway::Method"):
        properties = method.properties
        http_method = str(properties.get("HttpMethod", "?"))
        path = api_path(template, properties.get("ResourceId"))
        api = next(
            iter(template.referenced_resources(properties.get("RestApiId"), "AWS::ApiGateway::RestApi")), ""
        )
        integration = properties.get("Integration") or {}
        target = named(template, integration.get("Uri"), "AWS::Lambda::Function")
        validators = template.referenced_resources(
            properties.get("RequestValidatorId"), "AWS::ApiGateway::RequestValidator"
        )
        validated = [
            what
            for validator in validators
            for what, flag in (("body", "ValidateRequestBody"), ("parameters", "ValidateRequestParameters"))
            if template.resources[validator].properties.get(flag) is True
        ]
        key_required = properties.get("ApiKeyRequired") is True
        authorization = str(properties.get("AuthorizationType", "NONE"))
        authorizers = template.referenced_resources(properties.get("AuthorizerId"))
        rows.append(
            [
                http_method,
                code(path),
                authorization + "".join(f" ({code(name)})" for name in authorizers),
                "required" if key_required else "no",
                ", ".join(validated) or "none",
                f"{integration.get('Type', '?')} → {target}",
                _stage_throttling(template, api, http_method, path),
                _usage_plans(template, api, http_method, path) if key_required else "— (no API key)",
                "<br>".join(reason for _, reason in _checkov_skips(method)) or "",
            ]
        )
    headers = ("Method", "Path", "Authorization", "API key", "Validation", "Integration", "Throttling")
    return markdown_table((*headers, "Usage plan", "Notes (from the template)"), rows)


def _principal(principal: object) -> str:
    if isinstance(principal, dict):
        return "<br>".join(
            f"{kind} {', '.join(code(expression(value)) for value in as_list(values))}"
            for kind, values in sorted(principal.items())
        )
    return code(expression(principal)) if principal is not None else "—"


def _conditions(condition: object) -> str:
    if not isinstance(condition, dict):
        return "—"
    return "<br>".join(
        f"{operator} {code(key)} = {', '.join(code(expression(value)) for value in as_list(values))}"
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
        f"action {code(action)}" for action in as_list(statement.get("Action", [])) if "*" in str(action)
    ]
    if "*" in as_list(statement.get("Resource", [])):
        found.append("resource `*`" + (" (in a key policy: this key)" if in_key_policy else ""))
    principal = statement.get("Principal")
    if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))):
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
        code(action) for action in as_list(statement.get("Action", statement.get("NotAction", [])))
    )


def _resources(statement: dict[str, Any]) -> str:
    resources = statement.get("Resource", statement.get("NotResource", []))
    return ", ".join(code(expression(resource)) for resource in as_list(resources))


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


def role_grants(template: Template) -> list[Grant]:
    return [
        Grant(role, f"{code(role)} ({code(policy)})", statement)
        for role, policy, statement in role_statements(template)
        if isinstance(statement, dict)
    ]


def resource_grants(template: Template) -> list[Grant]:
    drawn_as = fold_targets(template)
    grants = []
    for resource in of_type(template, *RESOURCE_POLICY_DOCUMENT):
        logical_id = resource.logical_id
        document = resource.properties.get(RESOURCE_POLICY_DOCUMENT[resource.type]) or {}
        owner = drawn_as[logical_id]
        granted_by = code(logical_id) + (f" on {code(owner)}" if owner != logical_id else "")
        if "Condition" in resource.definition:  # as the outputs table says it
            granted_by += f" (only if {code(resource.definition['Condition'])})"
        in_key_policy = resource.type == "AWS::KMS::Key"
        grants += [
            Grant(logical_id, granted_by, statement, in_key_policy)
            for statement in as_list(document.get("Statement", []))
            if isinstance(statement, dict)
        ]
    for permission in of_type(template, "AWS::Lambda::Permission"):
        logical_id = permission.logical_id
        properties = permission.properties
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


def iam_table(template: Template) -> str:
    drawn_as = fold_targets(template)
    rows = []
    for grant in role_grants(template):
        role = grant.source
        trust = template.resources[role].properties.get("AssumeRolePolicyDocument") or {}
        principals = "<br>".join(
            _principal(statement.get("Principal")) for statement in as_list(trust.get("Statement", []))
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
    for resource in of_type(template, "AWS::IAM::Role"):
        for arn in as_list(resource.properties.get("ManagedPolicyArns", [])):
            rows.append(
                [
                    code(resource.logical_id),
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


def resource_policies_table(template: Template) -> str:
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
        for grant in resource_grants(template)
    ]
    headers = ("Resource policy", "Statement", "Effect", "Principal", "Actions", "Resources", "Conditions")
    return markdown_table((*headers, "Wildcard"), rows)


def wildcard_table(template: Template) -> str:
    """Every Allow statement with a wildcard; its Sid is the reason the template gives for it."""
    rows = [
        [
            grant.granted_by,
            grant.sid,
            _actions(grant.statement),
            ", ".join(wildcards(grant.statement, grant.in_key_policy)),
        ]
        for grant in [*role_grants(template), *resource_grants(template)]
        if grant.statement.get("Effect") == "Allow" and wildcards(grant.statement, grant.in_key_policy)
    ]
    return markdown_table(("Granted by", "Statement (reason)", "Actions", "Wildcard"), rows)


def _checkov_skips(resource: Resource) -> list[tuple[str, str]]:
    metadata = resource.definition.get("Metadata")
    checkov = metadata.get("checkov") if isinstance(metadata, dict) else None
    skips = checkov.get("skip", []) if isinstance(checkov, dict) else []
    return sorted(
        (str(skip.get("id", "?")), str(skip.get("comment", "(no reason given)")))
        for skip in as_list(skips)
        if isinstance(skip, dict)
    )


def checkov_table(template: Template) -> str:
    rows = [
        [code(resource.logical_id), short_type(resource.type), code(check), reason]
        for resource in of_type(template)
        for check, reason in _checkov_skips(resource)
    ]
    return markdown_table(("Resource", "Type", "Check", "Reason"), rows)


def _cdk_nag_suppressions(resource: Resource) -> dict[str, list[str]]:
    """Reason -> the rule ids it answers on this resource (`Rule[finding]` where it names findings)."""
    metadata = resource.definition.get("Metadata")
    cdk_nag = metadata.get("cdk_nag") if isinstance(metadata, dict) else None
    suppressions = cdk_nag.get("rules_to_suppress", []) if isinstance(cdk_nag, dict) else []
    by_reason: dict[str, list[str]] = {}
    for suppression in as_list(suppressions):
        if not isinstance(suppression, dict):
            continue
        findings = [
            entry if isinstance(entry, str) else str(entry.get("regex"))
            for entry in as_list(suppression.get("applies_to", []))
        ]
        rule = str(suppression.get("id", "?")) + (f"[{', '.join(findings)}]" if findings else "")
        by_reason.setdefault(str(suppression.get("reason", "(no reason given)")), []).append(rule)
    return by_reason


def cdk_nag_table(template: Template) -> str:
    """Every cdk-nag suppression in the resources' Metadata, one row per resource and reason."""
    rows = [
        [code(resource.logical_id), short_type(resource.type), "<br>".join(map(code, rules)), reason]
        for resource in of_type(template)
        for reason, rules in _cdk_nag_suppressions(resource).items()
    ]
    return markdown_table(("Resource", "Type", "Rules", "Reason"), rows)


def control_tower_table(template: Template) -> str:
    """The Control Tower controls the template's Metadata says some parameter values, or none, fail."""
    metadata = template.document.get("Metadata")
    gaps = metadata.get(CONTROL_TOWER_METADATA) if isinstance(metadata, dict) else None
    rows = [
        [
            code(control),
            ", ".join(code(name) for name in as_list(gap.get("Resources", []))),
            str(gap.get("MetBy", "cannot be met")),
            str(gap.get("Reason", "")),
        ]
        for control, gap in sorted((gaps or {}).items())
        if isinstance(gap, dict)
    ]
    return markdown_table(("Control", "Resources", "Met by", "Why"), rows)


def folded_table(graph: Graph) -> str:
    rows = [
        [code(node.logical_id), ", ".join(f"{code(name)}" for name in node.folded)]
        for _, nodes in graph.groups
        for node in nodes
        if node.folded
    ]
    return markdown_table(("Node", "Resources drawn as part of it"), rows)


def settings_table(template: Template) -> str:
    """The generation settings the template records in its Metadata (templates/stack.py writes them)."""
    metadata = template.document.get("Metadata")
    settings = metadata.get(SETTINGS_METADATA) if isinstance(metadata, dict) else None
    rows = [[code(name), code(value)] for name, value in sorted((settings or {}).items())]
    return markdown_table(("Setting", "Value"), rows)
