"""The report of the real template, of templates the generator emits with other settings, and of odd ones."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tapstack.cfn.model import references, sub_parts
from tapstack.generate.report import (
    MERMAID_KEYWORDS,
    Edge,
    build_graph,
    expression,
    mermaid_id,
    render_dot,
    render_report,
)
from tapstack.generate.report.diagram import LINE_STYLES, legend
from tapstack.generate.report.graph import EDGE_KINDS
from templates.contract import CONTROL_TOWER_METADATA, ROLES, webhook_url_output
from tests.support.report import (
    built_template,
    committed_template,
    diagram_edges,
    dot_edge_attributes,
    dot_edges,
    mermaid_arrows,
    mermaid_block,
    rows_naming,
    table_rows,
    variant,
)
from tests.support.settings import CONFIG_IN_FORCE

SECTIONS = (
    "## Architecture",
    "## Public entry points",
    "## Functions",
    "## Stateful resources",
    "## Dashboard",
    "## IAM",
    "### Roles",
    "### Wildcards",
    "### Resource policies",
    "## Guardrail exceptions",
    "### checkov skips",
    "### cdk-nag suppressions",
    "### Control Tower controls",
    "## Parameters",
    "## Outputs",
)
STATEFUL_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return committed_template()


@pytest.fixture(scope="module")
def report(template: dict[str, Any]) -> str:
    return render_report(template)


@pytest.fixture(scope="module")
def default_report() -> str:
    """The report of what the generator emits with default settings: the baseline for variants."""
    return render_report(built_template())


def test_report_has_every_section_and_a_mermaid_diagram(report: str) -> None:
    positions = [report.index(f"\n{heading}\n") for heading in SECTIONS]
    assert positions == sorted(positions)
    assert mermaid_block(report).startswith("flowchart LR\n")
    for heading in (
        "## Parameters", "## Outputs", "## Stateful resources", "### Roles", "### checkov skips",
        "### cdk-nag suppressions", "### Control Tower controls",
    ):  # fmt: skip
        assert table_rows(report, heading), heading


def test_diagram_draws_the_request_failure_and_encryption_paths(report: str) -> None:
    expected = {
        # The callers, from the routes: the webhook URL outputs name the providers, the API key its holders.
        ("r_caller_url_stripe", "/webhooks/stripe", "ApiWebhookPostMethod"),
        ("r_caller_url_paypal", "/webhooks/paypal", "ApiWebhookPostMethod"),
        ("r_caller_key_ApiKey", "with API key", "ApiTransactionsPostMethod"),
        # The web ACL associated with the API's stage filters what reaches the API.
        ("WebAcl", "filters", "Api"),
        ("ApiWebhookPostMethod", "invokes", "ReceiverFunction"),
        ("ApiTransactionsPostMethod", "invokes", "ReceiverFunction"),
        ("ReceiverFunction", "invokes", "ProcessorFunction"),
        ("ReceiverFunction", "reads", "WebhookSecret"),
        ("ProcessorFunction", "writes", "TransactionsTable"),
        ("ProcessorFunction", "writes", "ObjectsTable"),
        ("ProcessorFunction", "writes", "AuditBucket"),
        ("ProcessorFunction", "on success", "NotifierFunction"),
        ("ProcessorFunction", "on failure", "ProcessorDeadLetterQueue"),
        ("NotifierFunction", "publishes", "PaymentEventsTopic"),
        ("NotifierFunction", "on failure", "NotifierDeadLetterQueue"),
        # The schedule runs the reconciler, which hands what the table lacks to the processor.
        ("ReconcileSchedule", "invokes", "ReconcilerFunction"),
        ("ReconcilerFunction", "reads", "TransactionsTable"),
        ("ReconcilerFunction", "writes", "ReconciliationTable"),
        ("ReconcilerFunction", "reads", "WebhookSecret"),
        ("ReconcilerFunction", "invokes", "ProcessorFunction"),
        ("ReconcilerFunction", "on failure", "ReconcilerDeadLetterQueue"),
        # Metric source -> (metric) -> alarm -> alarm topic.
        ("Api", "5XXError", "Api5xxAlarm"),
        ("WebAcl", "BlockedRequests", "WafBlockedRequestsAlarm"),
        ("ReceiverFunction", "Errors", "ReceiverErrorsAlarm"),
        ("ProcessorDeadLetterQueue", "ApproximateNumberOfMessagesVisible", "ProcessorDeadLettersAlarm"),
        ("NotifierDeadLetterQueue", "ApproximateNumberOfMessagesVisible", "NotifierDeadLettersAlarm"),
        ("ProcessorFunction", "log events", "QuarantinedMetricFilter"),
        ("QuarantinedMetricFilter", "Quarantined", "QuarantinedAlarm"),
        ("r_service_CloudWatch", "notifies", "AlarmTopic"),
        ("AuditBucket", "logs to", "AccessLogBucket"),
    }
    edges = diagram_edges(report)
    assert expected <= edges, expected - edges
    # One arrow per pair of nodes: the on-success destination is not also drawn as an IAM "invokes".
    pairs = [(source, target) for source, _, target in edges]
    assert len(pairs) == len(set(pairs))


def test_arrows_point_the_way_data_flows(template: dict[str, Any]) -> None:
    graph = build_graph(template)
    nodes = graph.nodes
    alarms = {name for name, node in nodes.items() if node.resource_type == "AWS::CloudWatch::Alarm"}
    keys = {name for name, node in nodes.items() if node.resource_type == "AWS::KMS::Key"}
    callers = {name for name, node in nodes.items() if node.is_caller}
    assert len(alarms) >= 9
    for edge in graph.edges:
        # Into an alarm only its metric; out of the alarms only what they notify.
        if edge.target in alarms:
            assert edge.kind == "metric", edge
        if edge.source in alarms or edge.source == "service:CloudWatch":
            assert edge.kind == "notifies", edge
        # A key only encrypts, and nothing points at it; callers only call, and nothing calls them.
        assert (edge.source in keys) == (edge.kind == "encrypts"), edge
        assert edge.target not in keys | callers, edge
        assert (edge.source in callers) == (edge.kind == "calls"), edge
    assert not any(edge.kind == "alarms on" or "alarms on" in edge.label for edge in graph.edges)
    # The receiver is invoked by the routes and invokes the processor, not the other way round.
    invokes = {(edge.source, edge.target) for edge in graph.edges if edge.kind == "invokes"}
    assert ("ReceiverFunction", "ProcessorFunction") in invokes
    assert ("ProcessorFunction", "ReceiverFunction") not in invokes
    assert ("ReceiverFunction", "ApiWebhookPostMethod") not in invokes


def test_the_key_points_at_what_it_encrypts(template: dict[str, Any], report: str) -> None:
    key_edges = {(label, target) for source, label, target in diagram_edges(report) if source == "StackKey"}
    assert key_edges == {
        # The API itself is not encrypted: its access and execution log groups, drawn as part of it, are.
        ("encrypts logs of", "Api"),
        # A function's KmsKeyArn encrypts its environment variables; its log group is folded into it.
        ("encrypts env vars + logs of", "r_service_Lambda"),
        ("encrypts", "r_service_DynamoDB"),  # every table
        ("encrypts", "ReconcileSchedule"),
        ("encrypts", "AuditBucket"),
        ("encrypts", "WebhookSecret"),
        # The web ACL's log group, drawn as part of it through its logging configuration.
        ("encrypts logs of", "WebAcl"),
        # Every queue and topic is encrypted: drawn once, to the group.
        ("encrypts", "r_service_SQS"),
        ("encrypts", "r_service_SNS"),
    }
    # The access-log bucket is SSE-S3 (S3 cannot deliver access logs to an SSE-KMS bucket).
    assert "AccessLogBucket" not in {target for _, target in key_edges}
    graph = build_graph(template)
    assert {"ApiAccessLogGroup", "ApiExecutionLogGroup"} <= set(graph.nodes["Api"].folded)


def test_a_key_edge_says_which_part_of_a_node_it_encrypts() -> None:
    key_arn = {"Fn::GetAtt": ["Key", "Arn"]}
    log_group: dict[str, Any] = {"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": key_arn}}
    encrypted = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key"},
            # Named after its function, which neither refers to it nor is encrypted itself.
            "PlainLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"KmsKeyId": key_arn, "LogGroupName": {"Fn::Sub": "/aws/lambda/${Plain}"}},
            },
            "Plain": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Both": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
                    "LoggingConfig": {"LogGroup": {"Ref": "BothLogs"}},
                    "Environment": {"Variables": {"KEY_ID": {"Ref": "Key"}}},
                },
            },
            "BothLogs": log_group,
            # A metric filter reads a log group; the log group stays part of the function writing it.
            "AFilter": {
                "Type": "AWS::Logs::MetricFilter",
                "Properties": {"LogGroupName": {"Ref": "BothLogs"}},
            },
            "Unencrypted": {"Type": "AWS::SQS::Queue"},
        }
    }
    edges = set(build_graph(encrypted).edges)
    assert Edge("Key", "Plain", "encrypts", "encrypts logs of") in edges
    assert Edge("Key", "Both", "encrypts", "encrypts env vars + logs of") in edges
    assert Edge("Both", "AFilter", "log events", "log events") in edges
    assert not any(edge.target == "Unencrypted" for edge in edges)
    assert build_graph(encrypted).nodes["Both"].folded == ("BothLogs",)


def test_the_alarms_are_one_group_between_their_metrics_and_the_alarm_topic(
    template: dict[str, Any], report: str
) -> None:
    alarms = sorted(
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    )
    block = mermaid_block(report)
    group = block.split('  subgraph r_service_CloudWatch["CloudWatch alarms"]\n', 1)[1].split("\n  end\n", 1)[
        0
    ]
    assert re.findall(r"^    (\w+)\[", group, re.MULTILINE) == alarms
    # Every alarm notifies the alarm topic: one arrow from the group, none from a single alarm.
    edges = diagram_edges(report)
    assert ("r_service_CloudWatch", "notifies", "AlarmTopic") in edges
    assert not any(source in alarms for source, _, _ in edges)
    # The SVG draws them as one cluster, in one column.
    dot = render_dot(template)
    cluster = dot.split('  subgraph "cluster_service_CloudWatch" {\n', 1)[1].split("\n  }\n", 1)[0]
    ranked = re.search(r"\{rank=same; (.*)\}", cluster)
    assert ranked is not None
    assert ranked[1] == "; ".join(f'"{alarm}"' for alarm in alarms)


def test_callers_feed_the_routes_they_call(report: str) -> None:
    block = mermaid_block(report)
    callers = block.split('  subgraph r_service_External["Callers"]\n', 1)[1].split("\n  end\n", 1)[0]
    # One caller per accepted provider (the `providers` setting), titled as the docs write it.
    providers = sorted(CONFIG_IN_FORCE.accepted_providers, key=lambda name: name.replace("-", "_"))
    titles = {"paypal": "PayPal", "checkout-com": "Checkout.com", "gocardless": "GoCardless"}
    titles |= {"github": "GitHub", "standard-webhooks": "Standard Webhooks"}
    assert callers.splitlines() == [
        '    r_caller_key_ApiKey(["Internal clients<br/>API key ApiKey"])',
        *(
            f'    r_caller_url_{name.replace("-", "_")}(["{titles.get(name, name.capitalize())}"])'
            for name in providers
        ),
    ]
    # The API is drawn around its routes, inside the API Gateway group.
    api = block.split('  subgraph r_service_ApiGateway["API Gateway"]\n', 1)[1].split("\n  end\n", 1)[0]
    assert api.splitlines() == [
        '    subgraph Api["Api (RestApi)"]',
        '      ApiTransactionsPostMethod["POST /transactions<br/>ApiTransactionsPostMethod"]',
        '      ApiWebhookPostMethod["POST /webhooks/{provider}<br/>ApiWebhookPostMethod"]',
        "    end",
    ]
    calls = {(source, label, target) for source, label, target in diagram_edges(report) if "caller" in source}
    assert calls == {
        ("r_caller_key_ApiKey", "with API key", "ApiTransactionsPostMethod"),
        *(
            (f"r_caller_url_{name.replace('-', '_')}", f"/webhooks/{name}", "ApiWebhookPostMethod")
            for name in providers
        ),
    }


def test_callers_follow_the_template(template: dict[str, Any]) -> None:
    changed = variant(template)
    outputs = changed["Outputs"]
    for name in CONFIG_IN_FORCE.catalogue_providers:
        del outputs[webhook_url_output(name)]
    outputs["AdyenWebhookUrl"] = copy.deepcopy(outputs[webhook_url_output("stripe")])
    outputs["AdyenWebhookUrl"]["Value"]["Fn::Sub"][0] = outputs["AdyenWebhookUrl"]["Value"]["Fn::Sub"][
        0
    ].replace("/stripe", "/adyen")
    del outputs[webhook_url_output("paypal")]
    changed["Resources"]["ApiTransactionsPostMethod"]["Properties"]["ApiKeyRequired"] = False
    callers = {
        (source, label, target)
        for source, label, target in diagram_edges(render_report(changed))
        if "caller" in source
    }
    assert callers == {
        ("r_caller_url_adyen", "/webhooks/adyen", "ApiWebhookPostMethod"),
        ("r_caller_url_generic", "/webhooks/generic", "ApiWebhookPostMethod"),
        ("r_caller_url_stripe", "/webhooks/stripe", "ApiWebhookPostMethod"),
        # No key required and no path parameter: whoever reaches the URL.
        ("r_caller_anyone", "no auth", "ApiTransactionsPostMethod"),
    }


def test_failure_paths_are_dashed_red_and_nothing_else_is(template: dict[str, Any], report: str) -> None:
    arrows = mermaid_arrows(report)
    failures = [(source, target) for source, label, target, style in arrows if "#c0392b" in style]
    assert failures == [(source, target) for source, label, target, _ in arrows if label == "on failure"]
    assert len(failures) == 3
    for _, label, _, style in arrows:
        if label == "on failure":
            assert style == "stroke:#c0392b,stroke-width:2px,stroke-dasharray:8 4"
    assert '==>|"invokes"| ProcessorFunction' in mermaid_block(report)
    dot = dot_edge_attributes(render_dot(template))
    for (source, label, target), attributes in dot.items():
        assert ("style=dashed" in attributes and "#c0392b" in attributes) == (label == "on failure"), (
            source,
            target,
        )


def test_the_legend_explains_every_line_and_shape(template: dict[str, Any], report: str) -> None:
    section = report.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    assert f"```\n\n{legend()}\n\n" in section  # right below the diagram
    line_table = legend().split("\n\n", 1)[0]
    lines = {row[0]: row for row in table_rows(f"\n# legend\n{line_table}", "# legend")}
    assert set(lines) >= {"thick black", "thin black", "dashed red", "thin orange", "dotted grey"}
    assert "on failure" in lines["dashed red"][2]
    assert "metric's name" in lines["thin orange"][2]
    # Every kind of edge the graph draws has one line style, named in the legend.
    kinds = [kind for style in LINE_STYLES for kind in style.kinds]
    assert sorted(kinds) == sorted(EDGE_KINDS)
    for shape in ("| oval |", "| cylinder |", "| box |"):
        assert shape in section
    # The SVG carries its own legend: a sample arrow per line style, and the shapes.
    dot = render_dot(template)
    svg_legend = dot.split('  subgraph "cluster_legend" {\n', 1)[1].split("\n  }\n", 1)[0]
    for index, style in enumerate(LINE_STYLES):
        assert f'<td port="p{index}" height="16" align="left">&#160;{style.name}</td>' in svg_legend
        assert (
            f'"legend:from":p{index}:e -> "legend:to":p{index}:w [{", ".join(style.dot_attributes)}]'
            in svg_legend
        )
    assert "shape=ellipse" in svg_legend
    assert "shape=cylinder" in svg_legend


def test_plumbing_is_folded_into_the_node_it_serves_and_every_resource_is_accounted_for(
    template: dict[str, Any], report: str
) -> None:
    graph = build_graph(template)
    nodes = {node.logical_id: node for _, members in graph.groups for node in members}
    assert {"ReceiverRole", "ReceiverLogGroup", "ReceiverInvokePermission"} <= set(
        nodes["ReceiverFunction"].folded
    )
    assert {"ProcessorInvokeConfig", "ProcessorRole"} <= set(nodes["ProcessorFunction"].folded)
    assert {"ApiStage", "ApiKey", "ApiUsagePlan", "ApiAccessLogGroup", "ApiExecutionLogGroup"} <= set(
        nodes["Api"].folded
    )
    # The API's methods are its routes, drawn inside it.
    assert [node.logical_id for node in graph.children("Api")] == [
        "ApiTransactionsPostMethod",
        "ApiWebhookPostMethod",
    ]
    resources = {name: node for name, node in nodes.items() if not node.is_caller}
    drawn = set(resources) | {name for node in resources.values() for name in node.folded}
    assert drawn == set(template["Resources"])
    assert not any(node.resource_type.startswith("AWS::IAM::") for node in nodes.values())
    for logical_id in template["Resources"]:
        assert f"`{logical_id}`" in report or f" {logical_id}[" in mermaid_block(report), logical_id


def test_node_ids_are_mermaid_safe(report: str) -> None:
    block = mermaid_block(report)
    ids = re.findall(r"^ +(\S+?)[\[(]", block, re.MULTILINE) + re.findall(
        r"^ +subgraph (\S+?)\[", block, re.M
    )
    assert "r_caller_url_stripe" in ids
    ids += [end for source, _, target in diagram_edges(report) for end in (source, target)]
    for node_id in ids:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", node_id), node_id
        assert node_id.lower() not in MERMAID_KEYWORDS, node_id
    assert mermaid_id("end") == "r_end"
    assert mermaid_id("service:Lambda") == "r_service_Lambda"
    assert mermaid_id("ReceiverFunction") == "ReceiverFunction"


def test_dot_draws_the_same_graph_as_the_diagram(template: dict[str, Any], report: str) -> None:
    dot = render_dot(template)
    assert dot.startswith("digraph TapStack {\n")
    assert dot.endswith("}\n")
    assert dot_edges(dot) == diagram_edges(report)


def test_report_is_deterministic_whatever_the_key_order(template: dict[str, Any], report: str) -> None:
    reordered = variant(template)
    reordered["Resources"] = dict(reversed(list(reordered["Resources"].items())))
    reordered["Outputs"] = dict(reversed(list(reordered["Outputs"].items())))
    assert render_report(template) == report
    assert render_report(reordered) == report
    assert render_dot(reordered) == render_dot(template)


def test_intrinsic_functions_read_as_short_forms(report: str) -> None:
    # No intrinsic is left as raw JSON (prose from the template may still name one, as a skip reason does).
    assert '{"Fn::' not in report
    assert '{"Ref"' not in report
    assert expression({"Fn::Sub": ["https://${Api}/v1", {"Api": {"Ref": "Api"}}]}) == "https://${Api}/v1"
    assert expression({"Fn::Sub": ["${Arn}/*", {"Arn": {"Fn::GetAtt": ["Bucket", "Arn"]}}]}) == (
        "${Bucket.Arn}/*"
    )
    assert expression({"Fn::GetAtt": "Bucket.Arn"}) == "!GetAtt Bucket.Arn"
    assert expression({"Fn::If": ["C", 1, {"Ref": "AWS::NoValue"}]}) == "!If [C, 1, !Ref AWS::NoValue]"
    assert references({"Fn::Sub": "${A.Arn}-${!Literal}-${AWS::Region}"}) == {"A", "AWS::Region"}


def test_the_dashboard_s_graphs_are_listed_with_the_metrics_they_draw(
    template: dict[str, Any], report: str
) -> None:
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    condition, with_all, without = dashboard["Properties"]["DashboardBody"]["Fn::If"]

    def titles(body: dict[str, Any]) -> list[str]:
        parts = sub_parts(body["Fn::Sub"])
        assert parts is not None
        return [w["properties"]["title"] for w in json.loads(parts[0])["widgets"] if w["type"] == "metric"]

    rows = table_rows(report, "## Dashboard")
    assert [row[1] for row in rows] == titles(with_all)
    for row in rows:
        assert row[2].endswith(f"(only if `{condition}`)") == (row[1] not in titles(without)), row
    # Each alarm's metric is among those a graph draws.
    drawn = " ".join(row[2] for row in rows)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            assert f"`{resource['Properties']['MetricName']}`" in drawn


def test_a_dashboard_body_the_template_does_not_spell_out_says_so() -> None:
    body = {"Fn::Join": ["", ['{"widgets":[]', "}"]]}
    document = {
        "Resources": {"Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": body}}}
    }
    assert table_rows(render_report(document), "## Dashboard") == [
        ["`Board`", "—", "its body is not readable from the template"]
    ]


def test_parameters_show_type_default_constraints_and_description(report: str) -> None:
    (suffix,) = rows_naming(report, "## Parameters", "`EnvironmentSuffix`")
    assert suffix[1:3] == ["String", "(required)"]
    assert "pattern `^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`" in suffix[3]
    assert "length 1 to 19" in suffix[3]
    (retention,) = rows_naming(report, "## Parameters", "`LogRetentionDays`")
    assert retention[2] == f"`{CONFIG_IN_FORCE.default_log_retention_days}`"
    assert "one of `1`, `3`" in retention[3]
    (rate,) = rows_naming(report, "## Parameters", "`ApiThrottleRateLimit`")
    assert "value 1 to 10000" in rate[3]


def test_outputs_show_values_and_export_names_readably(report: str) -> None:
    rows = {row[0]: row for row in table_rows(report, "## Outputs")}
    assert rows["`ApiId`"][1:3] == [
        "`!Ref Api`",
        f"`{CONFIG_IN_FORCE.name_prefix}-${{EnvironmentSuffix}}-ApiId`",
    ]
    assert rows["`TransactionsUrl`"][1] == (
        f"`https://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{CONFIG_IN_FORCE.api_stage_name}/transactions`"
    )
    assert rows["`KmsKeyArn`"][1] == "`!GetAtt StackKey.Arn`"


def test_every_stateful_resource_has_its_key_retention_and_policies(
    template: dict[str, Any], report: str
) -> None:
    rows = {row[0]: row for row in table_rows(report, "## Stateful resources")}
    audit_days = CONFIG_IN_FORCE.default_audit_retention_days
    noncurrent_days = CONFIG_IN_FORCE.default_audit_noncurrent_retention_days
    stateful = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in STATEFUL_TYPES
    }
    assert set(rows) == {f"`{logical_id}`" for logical_id in stateful}
    table = rows["`TransactionsTable`"]
    assert table[2:7] == ["SSE-KMS, key `StackKey`", "items kept until deleted", table[4], "Delete", "Delete"]
    assert table[4].startswith("PITR on")
    assert rows["`AuditBucket`"][2].startswith("SSE-KMS (aws:kms), key `StackKey`")
    assert rows["`AuditBucket`"][3].split("<br>") == [
        "transition default minimum object size: `all_storage_classes_128K`",
        f"ExpireRawPayloads: expire after `!Ref AuditRetentionDays` (default {audit_days}) d, noncurrent "
        f"versions expire after `!Ref AuditNoncurrentRetentionDays` (default {noncurrent_days}) d, "
        "incomplete uploads aborted after 7 d",
    ]
    assert rows["`AuditBucket`"][4] == (
        "versioning Enabled; object lock on, default retention `!Ref AuditObjectLockMode` (default NONE) "
        f"for `!Ref AuditObjectLockRetentionDays` (default {audit_days}) d when `HasAuditObjectLock`"
    )
    assert rows["`AccessLogBucket`"][4] == "versioning Enabled"
    assert rows["`AccessLogBucket`"][2] == "SSE-S3 (AES256)"
    kept = rows["`ProcessorDeadLetterQueue`"][3]
    assert kept.startswith("messages kept ")
    assert kept.endswith(f"({CONFIG_IN_FORCE.dlq_retention_seconds} s)")
    assert rows["`ReceiverLogGroup`"][3] == (
        f"`!Ref LogRetentionDays` (default {CONFIG_IN_FORCE.default_log_retention_days}) days"
    )
    assert rows["`StackKey`"][3].startswith("rotation on")
    # Topics set no DeletionPolicy: the report says so rather than leaving the cell blank.
    assert rows["`PaymentEventsTopic`"][5] == "not set (Delete)"


def test_entry_points_show_auth_api_key_and_throttling(report: str) -> None:
    rows = {(row[0], row[1]): row for row in table_rows(report, "## Public entry points")}
    webhook = rows[("POST", "`/webhooks/{provider}`")]
    assert webhook[2:4] == ["NONE", "no"]
    assert "provider signature" in webhook[8]
    assert webhook[5] == "AWS_PROXY → `ReceiverFunction`"
    assert (
        f"stage `{CONFIG_IN_FORCE.api_stage_name}`: rate `!Ref ApiThrottleRateLimit` (default 50)/s"
        in webhook[6]
    )
    transactions = rows[("POST", "`/transactions`")]
    assert transactions[2:4] == ["NONE", "required"]
    assert "quota `!Ref ApiQuotaPerDay` (default 100000) per DAY" in transactions[7]


def test_iam_matrix_calls_out_every_wildcard_with_its_reason(report: str) -> None:
    xray_rows = rows_naming(report, "### Roles", "`XRayWritesOnlyExistOnStar`")
    assert len(xray_rows) == len(ROLES)
    assert all(row[6] == "**WILDCARD** resource `*`" for row in xray_rows)
    wildcards = table_rows(report, "### Wildcards")
    assert {row[0] for row in wildcards if row[1] == "`XRayWritesOnlyExistOnStar`"} == {
        f"`{role.capitalize()}Role` (`{role}-least-privilege`)" for role in ROLES
    }
    (account,) = [row for row in wildcards if row[1] == "`AccountAdministersKeyAndEnablesIamPolicies`"]
    assert account[3] == "action `kms:*`, resource `*` (in a key policy: this key)"
    # Statements without a wildcard are not flagged, and a Deny's wildcard grants nothing.
    (store,) = rows_naming(report, "### Roles", "`StoreTransactions`")
    assert store[6] == ""
    deny_rows = rows_naming(report, "### Resource policies", "`DenyInsecureTransport`")
    assert deny_rows
    assert all(row[7].startswith("in a Deny, which grants nothing") for row in deny_rows)


def test_a_wildcard_added_to_a_role_is_flagged(template: dict[str, Any]) -> None:
    broad = variant(template)
    statements = broad["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    statements.append({"Sid": "TooBroad", "Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]})
    (row,) = rows_naming(render_report(broad), "### Wildcards", "`TooBroad`")
    assert row[3] == "action `s3:*`, resource `*`"


def test_every_checkov_skip_is_listed_and_an_added_one_shows_up(
    template: dict[str, Any], report: str
) -> None:
    skips = {
        (logical_id, skip["id"])
        for logical_id, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    rows = table_rows(report, "### checkov skips")
    assert {(row[0].strip("`"), row[2].strip("`")) for row in rows} == skips
    assert ("ApiWebhookPostMethod", "CKV_AWS_59") in skips
    skipped = variant(template)
    skipped["Resources"]["TransactionsTable"]["Metadata"] = {
        "checkov": {"skip": [{"id": "CKV_AWS_28", "comment": "Backups come from PITR."}]}
    }
    assert ["`TransactionsTable`", "Table", "`CKV_AWS_28`", "Backups come from PITR."] in table_rows(
        render_report(skipped), "### checkov skips"
    )


def test_every_cdk_nag_suppression_is_listed_with_its_reason(template: dict[str, Any], report: str) -> None:
    suppressed = {
        (logical_id, suppression["reason"])
        for logical_id, resource in template["Resources"].items()
        for suppression in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    rows = table_rows(report, "### cdk-nag suppressions")
    assert {(row[0].strip("`"), row[3]) for row in rows} == suppressed
    (sqs3,) = [row for row in rows if row[0] == "`NotifierDeadLetterQueue`"]
    assert sqs3[2] == "`AwsSolutions-SQS3`<br>`Serverless-SQSRedrivePolicy`"
    # A finding named by a regular expression shows it; a rule that could not evaluate shows which.
    (objects,) = [row for row in rows if row[0] == "`ProcessorRole`" and "AuditBucket" in row[2]]
    assert objects[2].startswith("`AwsSolutions-IAM5[/^Resource::(<AuditBucket")
    assert any("`CdkNagValidationFailure[AwsSolutions-IAM5]`" in row[2] for row in rows)


def test_each_control_tower_gap_is_listed_with_what_meets_it(template: dict[str, Any], report: str) -> None:
    rows = {row[0].strip("`"): row[1:] for row in table_rows(report, "### Control Tower controls")}
    assert set(rows) == set(template["Metadata"][CONTROL_TOWER_METADATA])
    assert rows["CT.LAMBDA.PR.3"][:2] == [
        "`NotifierFunction`, `ProcessorFunction`, `ReceiverFunction`, `ReconcilerFunction`",
        "VpcSubnetIds and VpcSecurityGroupIds",
    ]
    assert rows["CT.S3.PR.10"][1] == "cannot be met"


def test_functions_table_follows_max_retry_attempts(default_report: str) -> None:
    def retries(report: str) -> dict[str, str]:
        return {row[0]: row[5] for row in table_rows(report, "## Functions")}

    assert retries(default_report) == {
        "`NotifierFunction`": "2",
        "`ProcessorFunction`": "2",
        "`ReceiverFunction`": "—",
        "`ReconcilerFunction`": "2",
    }
    assert retries(render_report(built_template(max_retry_attempts=0)))["`ProcessorFunction`"] == "0"


def test_export_names_and_lifecycle_follow_the_settings(default_report: str) -> None:
    changed = render_report(built_template(name_prefix="payments", default_audit_retention_days=30))
    outputs = {row[0]: row[2] for row in table_rows(changed, "## Outputs")}
    assert outputs["`ApiId`"] == "`payments-${EnvironmentSuffix}-ApiId`"
    assert "tapstack-${EnvironmentSuffix}" not in changed
    assert "tapstack-${EnvironmentSuffix}" in default_report
    (audit,) = rows_naming(changed, "## Stateful resources", "`AuditBucket`")
    assert "expire after `!Ref AuditRetentionDays` (default 30) d" in audit[3]
    assert "for `!Ref AuditObjectLockRetentionDays` (default 30) d" in audit[4]


def test_lifecycle_size_filters_and_a_literal_lock_read_plainly(template: dict[str, Any]) -> None:
    """What the report says of a transition limited by size and of a lock without a condition."""
    changed = variant(template)
    audit = changed["Resources"]["AuditBucket"]["Properties"]
    (rule,) = audit["LifecycleConfiguration"]["Rules"]
    rule["ObjectSizeGreaterThan"] = "1048576"
    rule["Transitions"] = [{"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 180}]
    del audit["LifecycleConfiguration"]["TransitionDefaultMinimumObjectSize"]
    audit["ObjectLockConfiguration"]["Rule"] = {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 7}}
    (row,) = rows_naming(render_report(changed), "## Stateful resources", "`AuditBucket`")
    lifecycle = row[3].split("<br>")
    assert lifecycle[0] == "transition default minimum object size: `not stated (S3's default applies)`"
    assert lifecycle[1].startswith(
        "ExpireRawPayloads (objects over `1048576` B): to DEEP_ARCHIVE after 180 d, expire after"
    )
    assert row[4] == "versioning Enabled; object lock on, default retention `COMPLIANCE` for 7 years"


def test_removing_the_invoke_config_removes_its_destinations(template: dict[str, Any]) -> None:
    without = variant(template)
    del without["Resources"]["ProcessorInvokeConfig"]
    edges = diagram_edges(render_report(without))
    # The role may still invoke the notifier; failures reached the queue only through the invoke config.
    assert ("ProcessorFunction", "invokes", "NotifierFunction") in edges
    assert ("ProcessorFunction", "on failure", "ProcessorDeadLetterQueue") not in edges
    assert ("NotifierFunction", "on failure", "NotifierDeadLetterQueue") in edges
    assert not any(kind == "on success" for _, kind, _ in edges)


def test_a_minimal_template_with_one_resource_and_no_outputs() -> None:
    minimal = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    report = render_report(minimal)
    assert '    Queue[("Queue<br/>Queue")]' in mermaid_block(report)
    assert diagram_edges(report) == set()
    for heading in (
        "## Parameters", "## Outputs", "## Public entry points", "### Roles", "### checkov skips",
        "### cdk-nag suppressions", "### Control Tower controls",
    ):  # fmt: skip
        assert report.split(f"\n{heading}\n\n", 1)[1].startswith("_None._"), heading
    (queue,) = table_rows(report, "## Stateful resources")
    assert queue[2:] == [
        "not set (service default)",
        "messages kept: not set (service default)",
        "—",
        "not set (Delete)",
        "not set (Delete)",
    ]
    assert "digraph" in render_dot(minimal)


def test_odd_templates_render_without_failing() -> None:
    odd = {
        "Parameters": {"Open": {"Type": "Number", "MaxValue": 5}},
        "Resources": {
            "end": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "alias/aws/sns"}},
            "Loop": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {"ParentId": {"Ref": "Loop"}, "RestApiId": {"Ref": "Missing"}},
            },
            "Method": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {"HttpMethod": "GET", "ResourceId": {"Ref": "Loop"}},
                "Metadata": {"checkov": {"skip": [{"id": "CKV_X"}, "not a skip"]}},
            },
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmActions": [{"Ref": "end"}],
                    "Dimensions": [{"Value": {"Fn::GetAtt": "end.Name"}}],
                },
            },
            "Custom": {"Type": "Custom::Thing", "DependsOn": "end", "Properties": {"Fn::Select": [0, "x"]}},
            "NoProperties": {"Type": "AWS::IAM::Role"},
            "NotAResource": "ignored",
        },
    }
    report = render_report(odd)
    block = mermaid_block(report)
    assert "    r_end[(" in block
    assert ("Custom", "depends on", "r_end") in diagram_edges(report)
    edges = diagram_edges(report)
    assert ("r_end", "metric", "Alarm") in edges
    assert ("Alarm", "notifies", "r_end") in edges
    # A method without an API is drawn on its own; nothing says who calls it, so anyone may.
    assert ("r_caller_anyone", "no auth", "Method") in edges
    # A resource that is its own parent ends the path instead of recursing forever.
    (route,) = table_rows(report, "## Public entry points")
    assert route[:2] == ["GET", "`/?`"]
    assert "(no reason given)" in report
    assert "value at most 5" in report
    assert "SSE-KMS, key `alias/aws/sns`" in report


def test_an_edge_shared_by_a_whole_group_is_drawn_once() -> None:
    shared = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key"},
            "First": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
            "Second": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
            "Plain": {"Type": "AWS::SNS::Topic"},
            "Encrypted": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
        }
    }
    assert build_graph(shared).edges == (
        Edge("Key", "Encrypted", "encrypts", "encrypts"),
        Edge("Key", "service:SQS", "encrypts", "encrypts"),
    )


def test_the_web_acl_is_drawn_with_what_serves_it_before_the_api(template: dict[str, Any]) -> None:
    graph = build_graph(template)
    web_acl = graph.nodes["WebAcl"]
    assert set(web_acl.folded) == {
        "WafLogGroup",
        "WafLogging",
        "WafPaypalSourceIpSet",
        "WafStripeSourceIpSet",
        "WebAclAssociation",
    }
    services = [service for service, _ in graph.groups]
    assert services.index("External") < services.index("WAFv2") < services.index("ApiGateway")
