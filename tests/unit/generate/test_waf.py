"""The web ACL in front of the API stage (templates/waf.py), as the generated template declares it."""

from __future__ import annotations

import inspect
import ipaddress
import posixpath
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handlers.providers import hmac_signed, paypal, stripe
from handlers.providers.catalogue import CATALOGUE
from tapstack import paths
from tapstack.cfn.model import Resolver, Template, intrinsic_name, references
from tapstack.operate.destroy import waf_log_group_prefix
from tapstack.parameter_files import load_parameter_file
from templates.contract import SUFFIX_PARAMETER
from templates.parameters import IPV4_CIDR_PATTERN
from templates.waf import COMMON_RULE_SET as COMMON_GROUP
from templates.waf import RATE_WINDOW_SECONDS
from tests.support.settings import CONFIG_IN_FORCE, PREFIX

TemplateDocument = dict[str, Any]
ENVIRONMENT = {SUFFIX_PARAMETER: "dev", "AWS::Partition": "aws", "AWS::Region": "eu-west-1"}
ACCOUNT = {"AWS::AccountId": "123456789012"}
WAF_RESOURCES = (
    "WebAcl",
    "WebAclAssociation",
    "WafStripeSourceIpSet",
    "WafPaypalSourceIpSet",
    "WafLogGroup",
    "WafLogging",
    "WafBlockedRequestsAlarm",
)
STRIPE_RANGES = "192.0.2.0/24, 198.51.100.7/32"


def resolver(template: TemplateDocument, **parameters: str) -> Resolver:
    return Template(template).resolver({**ENVIRONMENT, **ACCOUNT, **parameters})


def deployed(template: TemplateDocument, **parameters: str) -> set[str]:
    """The logical ids of the resources CloudFormation creates with these parameter values."""
    conditions = resolver(template, **parameters)
    return {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or conditions.condition(resource["Condition"])
    }


def chosen(value: Any, conditions: Resolver) -> Any:
    """value with every Fn::If replaced by the side its condition picks (other functions kept)."""
    if intrinsic_name(value) == "Fn::If":
        condition, when_true, when_false = value["Fn::If"]
        return chosen(when_true if conditions.condition(condition) else when_false, conditions)
    if isinstance(value, Mapping):
        return {key: chosen(item, conditions) for key, item in value.items()}
    if isinstance(value, list):
        return [chosen(item, conditions) for item in value]
    return value


def web_acl_rules(template: TemplateDocument, **parameters: str) -> dict[str, dict[str, Any]]:
    rules = chosen(template["Resources"]["WebAcl"]["Properties"]["Rules"], resolver(template, **parameters))
    return {rule["Name"]: rule for rule in rules if rule != {"Ref": "AWS::NoValue"}}


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"WafEnabled": "false"},
        {"StripeSourceCidrs": STRIPE_RANGES},
        {"StripeSourceCidrs": STRIPE_RANGES, "PaypalSourceCidrs": "203.0.113.0/24"},
        {"WafEnabled": "false", "StripeSourceCidrs": STRIPE_RANGES},
    ],
    ids=["defaults", "waf off", "stripe allow-list", "both allow-lists", "waf off with an allow-list"],
)
def test_nothing_deployed_refers_to_a_resource_its_conditions_leave_out(
    template: TemplateDocument, parameters: dict[str, str]
) -> None:
    created = deployed(template, **parameters)
    conditions = resolver(template, **parameters)
    for logical_id in created:
        resource = template["Resources"][logical_id]
        taken = chosen(
            {"Properties": resource.get("Properties", {}), "DependsOn": resource.get("DependsOn")}, conditions
        )
        refers_to = (references(taken["Properties"]) | set(taken["DependsOn"] or ())) & template[
            "Resources"
        ].keys()
        assert refers_to <= created, (logical_id, refers_to - created)


def test_waf_enabled_false_removes_the_web_acl_and_everything_of_it(template: TemplateDocument) -> None:
    parameter = template["Parameters"]["WafEnabled"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("true", ["true", "false"])
    on = deployed(template)
    off = deployed(
        template, WafEnabled="false", StripeSourceCidrs=STRIPE_RANGES, PaypalSourceCidrs="203.0.113.0/24"
    )
    assert on - off == {*WAF_RESOURCES} - {"WafStripeSourceIpSet", "WafPaypalSourceIpSet"}
    assert not off & {*WAF_RESOURCES}
    # Nothing else of the stack depends on the web ACL.
    assert off == deployed(template) - {*WAF_RESOURCES}


def test_the_web_acl_is_regional_allows_by_default_and_protects_the_api_stage(
    template: TemplateDocument,
) -> None:
    resources = template["Resources"]
    web_acl = resources["WebAcl"]["Properties"]
    assert web_acl["Scope"] == "REGIONAL"
    assert web_acl["DefaultAction"] == {"Allow": {}}
    association = resources["WebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    stage = resources["ApiStage"]["Properties"]["StageName"]
    stage_arn = (
        Template(template)
        .resolver(ENVIRONMENT, physical_ids={"Api": "a1b2c3d4e5", "ApiStage": stage})
        .resolve(association["ResourceArn"])
    )
    assert stage_arn == f"arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/{stage}"
    endpoint = resources["Api"]["Properties"]["EndpointConfiguration"]
    assert endpoint == {"Types": ["REGIONAL"]}


def test_rules_run_allow_lists_then_rate_limit_then_managed_rules(template: TemplateDocument) -> None:
    for parameters in ({}, {"StripeSourceCidrs": STRIPE_RANGES, "PaypalSourceCidrs": "203.0.113.0/24"}):
        rules = web_acl_rules(template, **parameters)
        by_priority = [name for name, _ in sorted(rules.items(), key=lambda item: item[1]["Priority"])]
        allow_lists = [name for name in by_priority if name.endswith("SourceAllowList")]
        deliveries = [name for name in by_priority if name.endswith("Deliveries")]
        assert len(deliveries) == len(allow_lists) == (2 if parameters else 0)
        # Labels are seen only by the rules after the one that adds them.
        assert by_priority == [
            *allow_lists,
            *deliveries,
            "RateLimitPerSourceAddress",
            "KnownBadInputs",
            "CommonRuleSet",
            "ManagedBodyRulesOutsideProviderRoutes",
        ]
        assert len({rule["Priority"] for rule in rules.values()}) == len(rules)


def test_one_address_is_blocked_past_the_rate_limit(template: TemplateDocument) -> None:
    rule = web_acl_rules(template)["RateLimitPerSourceAddress"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"] == {
        "RateBasedStatement": {
            "AggregateKeyType": "IP",
            "Limit": {"Ref": "WafRateLimitPer5Minutes"},
            "EvaluationWindowSec": 300,
            "ScopeDownStatement": {
                "NotStatement": {
                    "Statement": {
                        "LabelMatchStatement": {
                            "Scope": "LABEL",
                            "Key": "tapstack:allow-listed-provider-delivery",
                        }
                    }
                }
            },
        }
    }
    # WAF's own bounds on the limit; the default leaves an address a tenth of the stage's default rate.
    limit = template["Parameters"]["WafRateLimitPer5Minutes"]
    assert (limit["MinValue"], limit["MaxValue"]) == (10, 2_000_000_000)
    stage_rate = template["Parameters"]["ApiThrottleRateLimit"]["Default"]
    assert limit["Default"] / 300 == stage_rate / 10


def test_managed_rules_block_except_their_body_rules_which_count_and_label(
    template: TemplateDocument,
) -> None:
    rules = web_acl_rules(template)
    known_bad, common = rules["KnownBadInputs"], rules["CommonRuleSet"]
    counted: dict[str, set[str]] = {}
    for rule in (known_bad, common):
        statement = rule["Statement"]["ManagedRuleGroupStatement"]
        assert statement["VendorName"] == "AWS"
        assert "ExcludedRules" not in statement
        assert {next(iter(entry["ActionToUse"])) for entry in statement["RuleActionOverrides"]} == {"Count"}
        counted[statement["Name"]] = {entry["Name"] for entry in statement["RuleActionOverrides"]}
    # The body rules (ManagedBodyRulesOutsideProviderRoutes blocks on their labels) and, everywhere,
    # the body-size rule: deliveries up to 128 KiB are legitimate. Every other rule blocks.
    assert counted == {
        "AWSManagedRulesCommonRuleSet": {rule for group, rule in MANAGED_LABELS if group == COMMON_GROUP}
        - {"NoUserAgent_HEADER", "GenericLFI_URIPATH"},
        "AWSManagedRulesKnownBadInputsRuleSet": {
            rule for group, rule in BODY_ATTACKS if group == "AWSManagedRulesKnownBadInputsRuleSet"
        },
    }
    # "None" keeps each rule's own action; "Count" would turn the whole group off.
    assert known_bad["OverrideAction"] == common["OverrideAction"] == {"None": {}}


def test_metrics_are_on_and_sampling_is_off(template: TemplateDocument) -> None:
    web_acl = template["Resources"]["WebAcl"]["Properties"]
    rules = web_acl_rules(template, StripeSourceCidrs=STRIPE_RANGES, PaypalSourceCidrs="203.0.113.0/24")
    for name, visibility in [("WebAcl", web_acl["VisibilityConfig"])] + [
        (name, rule["VisibilityConfig"]) for name, rule in rules.items()
    ]:
        assert visibility["CloudWatchMetricsEnabled"] is True, name
        # Sampled requests would keep the headers the logs redact.
        assert visibility["SampledRequestsEnabled"] is False, name
    assert web_acl["VisibilityConfig"]["MetricName"] == web_acl["Name"]


def test_a_surge_of_blocked_requests_alarms_on_the_alarm_topic(template: TemplateDocument) -> None:
    alarm = template["Resources"]["WafBlockedRequestsAlarm"]
    properties = alarm["Properties"]
    assert alarm["Condition"] == template["Resources"]["WebAcl"]["Condition"]
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/WAFV2", "BlockedRequests")
    assert (properties["Statistic"], properties["Period"], properties["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert properties["Threshold"] == {"Ref": "WafBlockedRequestsAlarmThreshold"}
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert properties["AlarmActions"] == properties["OKActions"] == [{"Ref": "AlarmTopic"}]
    # The dimensions name this web ACL by its metric name (also its name), in this Region, all rules
    # together.
    resolver = Template(template).resolver(ENVIRONMENT)
    web_acl = template["Resources"]["WebAcl"]["Properties"]
    dimensions = {
        dimension["Name"]: resolver.resolve(dimension["Value"]) for dimension in properties["Dimensions"]
    }
    assert dimensions == {"WebACL": f"{PREFIX}-webhooks-dev", "Region": "eu-west-1", "Rule": "ALL"}
    assert dimensions["WebACL"] == resolver.resolve(web_acl["VisibilityConfig"]["MetricName"])


def test_logs_go_to_the_encrypted_log_group_destroy_expects_without_secrets(
    template: TemplateDocument,
) -> None:
    resources = template["Resources"]
    group = resources["WafLogGroup"]
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["StackKey", "Arn"]}
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Delete", "Delete")
    document = Template(template)
    group_name = document.resolver(ENVIRONMENT).resolve(group["Properties"]["LogGroupName"])
    stack = f"{PREFIX}-dev"
    # WAF accepts only aws-waf-logs-* groups; destroy reports aws-waf-logs-<stack> if the stack left it.
    assert group_name == waf_log_group_prefix(stack) == f"aws-waf-logs-{PREFIX}-dev"
    logging = resources["WafLogging"]["Properties"]
    assert logging["ResourceArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    deployed_stack = document.resolver({**ENVIRONMENT, **ACCOUNT}, physical_ids={"WafLogGroup": group_name})
    assert deployed_stack.resolve(logging["LogDestinationConfigs"]) == [
        f"arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-{PREFIX}-dev"
    ]
    redacted = {field["SingleHeader"]["Name"] for field in logging["RedactedFields"]}
    catalogue = {
        header for name in CONFIG_IN_FORCE.catalogue_providers for header in CATALOGUE[name].signature_headers
    }
    built_in = {"stripe-signature", "paypal-transmission-sig", "x-tap-signature", "x-api-key"}
    assert redacted == built_in | catalogue
    # The catalogue's are every header its verifiers read a signature from, and each is lower case.
    assert catalogue == {name for name in catalogue if name == name.lower()}
    # The signature headers are the ones the providers' verifiers read (WAF compares names in lower case).
    assert hmac_signed.SIGNATURE_HEADER.lower() in redacted
    assert '"stripe-signature"' in inspect.getsource(stripe)
    assert '"paypal-transmission-sig"' in inspect.getsource(paypal)
    # Only what WAF blocked or counted: allowed requests are in the stage's access log.
    (kept,) = logging["LoggingFilter"]["Filters"]
    assert logging["LoggingFilter"]["DefaultBehavior"] == "DROP"
    assert kept["Behavior"] == "KEEP"
    assert {condition["ActionCondition"]["Action"] for condition in kept["Conditions"]} >= {"BLOCK", "COUNT"}


def test_the_key_lets_cloudwatch_logs_encrypt_the_waf_log_group(template: TemplateDocument) -> None:
    statements = template["Resources"]["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [
        statement
        for statement in statements
        if statement["Sid"] == "CloudWatchLogsEncryptsThisStacksLogGroups"
    ]
    deployed_stack = Template(template).resolver(
        {**ENVIRONMENT, **ACCOUNT}, physical_ids={"Api": "a1b2c3d4e5"}
    )
    allowed = deployed_stack.resolve(logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    assert f"arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-{PREFIX}-dev" in allowed


@pytest.mark.parametrize("provider", ["stripe", "paypal"])
def test_an_allow_list_exists_only_when_its_ranges_are_set(template: TemplateDocument, provider: str) -> None:
    parameter = f"{provider.capitalize()}SourceCidrs"
    rule_name = f"{provider.capitalize()}SourceAllowList"
    ip_set = f"Waf{provider.capitalize()}SourceIpSet"
    assert template["Parameters"][parameter]["Type"] == "CommaDelimitedList"
    assert template["Parameters"][parameter]["Default"] == ""
    assert ip_set not in deployed(template)
    assert rule_name not in web_acl_rules(template)
    assert ip_set not in deployed(template, WafEnabled="false", **{parameter: STRIPE_RANGES})

    assert ip_set in deployed(template, **{parameter: STRIPE_RANGES})
    rule = web_acl_rules(template, **{parameter: STRIPE_RANGES})[rule_name]
    addresses = resolver(template, **{parameter: STRIPE_RANGES}).resolve(
        template["Resources"][ip_set]["Properties"]["Addresses"]
    )
    assert addresses == ["192.0.2.0/24", "198.51.100.7/32"]
    # Requests to the provider's route from outside its ranges are blocked; other routes are untouched.
    assert rule["Action"] == {"Block": {}}
    to_route, from_elsewhere = rule["Statement"]["AndStatement"]["Statements"]
    match = to_route["ByteMatchStatement"]
    assert (match["FieldToMatch"], match["PositionalConstraint"]) == ({"UriPath": {}}, "CONTAINS")
    assert match["SearchString"] == f"/webhooks/{provider}"
    transformations = [
        step["Type"] for step in sorted(match["TextTransformations"], key=lambda step: step["Priority"])
    ]
    assert transformations == ["URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"]
    assert from_elsewhere == {
        "NotStatement": {"Statement": {"IPSetReferenceStatement": {"Arn": {"Fn::GetAtt": [ip_set, "Arn"]}}}}
    }
    properties = template["Resources"][ip_set]["Properties"]
    assert (properties["Scope"], properties["IPAddressVersion"]) == ("REGIONAL", "IPV4")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("192.0.2.0/24", True),
        ("198.51.100.7/32", True),
        ("10.0.0.0/8", True),
        ("198.51.100.7", False),  # WAF takes CIDRs only
        ("0.0.0.0/0", False),  # which WAF refuses, and which would allow everything anyway
        ("256.1.1.1/32", False),
        ("192.0.2.0/33", False),
        ("2001:db8::/32", False),  # the API's endpoint is IPv4 only
    ],
)
def test_an_allow_list_entry_is_an_ipv4_cidr(value: str, accepted: bool) -> None:
    assert bool(re.match(IPV4_CIDR_PATTERN, value)) is accepted


# --- What the rules do to a request ------------------------------------------------------------
# A small evaluator of the statements the web ACL uses, written from AWS WAF's documentation: rules run
# in priority order; Count adds the rule's labels and goes on, Block ends the evaluation; a rate-based
# rule counts (and blocks) only requests its scope-down statement matches; a managed rule group's rules
# each add their documented label when they match and act as their override says (Block when none).
# WAF itself cannot run here (the emulator does not evaluate web ACLs), so these are the documented
# semantics: https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-label-match.html,
# https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html and
# https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-rule-group-override-options.html.

MANAGED_LABELS = {
    ("AWSManagedRulesCommonRuleSet", "CrossSiteScripting_BODY"): "core-rule-set:CrossSiteScripting_Body",
    ("AWSManagedRulesCommonRuleSet", "GenericLFI_BODY"): "core-rule-set:GenericLFI_Body",
    ("AWSManagedRulesCommonRuleSet", "GenericRFI_BODY"): "core-rule-set:GenericRFI_Body",
    ("AWSManagedRulesCommonRuleSet", "EC2MetaDataSSRF_BODY"): "core-rule-set:EC2MetaDataSSRF_Body",
    ("AWSManagedRulesCommonRuleSet", "SizeRestrictions_BODY"): "core-rule-set:SizeRestrictions_Body",
    ("AWSManagedRulesCommonRuleSet", "NoUserAgent_HEADER"): "core-rule-set:NoUserAgent_Header",
    ("AWSManagedRulesCommonRuleSet", "GenericLFI_URIPATH"): "core-rule-set:GenericLFI_URIPath",
    ("AWSManagedRulesKnownBadInputsRuleSet", "Log4JRCE_BODY"): "known-bad-inputs:Log4JRCE_Body",
    ("AWSManagedRulesKnownBadInputsRuleSet", "JavaDeserializationRCE_BODY"): (
        "known-bad-inputs:JavaDeserializationRCE_Body"
    ),
    ("AWSManagedRulesKnownBadInputsRuleSet", "ReactJSRCE_BODY"): "known-bad-inputs:ReactJSRCE_Body",
    ("AWSManagedRulesKnownBadInputsRuleSet", "Log4JRCE_HEADER"): "known-bad-inputs:Log4JRCE_Header",
}
"""The labels AWS documents for the managed rules these tests trip (the aws-managed-rule-groups pages)."""
BODY_ATTACKS = [rule for rule in MANAGED_LABELS if rule[1].endswith("_BODY") and "Size" not in rule[1]]
PROVIDER_ROUTES = ["/v1/webhooks/stripe", "/v1/webhooks/paypal", "/v1/webhooks/generic"]
STRIPE_ADDRESS = "198.51.100.7"


@dataclass(frozen=True)
class Request:
    path: str
    source: str = "203.0.113.50"
    past_rate_limit: bool = False
    """The source address sent more than the per-address limit in the window (if the rule counts it)."""
    matches: frozenset[tuple[str, str]] = frozenset()
    """The managed rules (group, rule) whose patterns the request carries."""


def transformed(value: str, transformations: list[dict[str, Any]]) -> str:
    for step in sorted(transformations, key=lambda step: step["Priority"]):
        if step["Type"] == "URL_DECODE":
            value = urllib.parse.unquote(value)
        elif step["Type"] == "NORMALIZE_PATH":
            value = re.sub(r"/+", "/", posixpath.normpath(value)) + ("/" if value.endswith("/") else "")
        elif step["Type"] == "LOWERCASE":
            value = value.lower()
        else:
            raise AssertionError(f"no model of {step['Type']}")
    return value


class WebAcl:
    """The deployed web ACL for a set of parameter values, applied to one request at a time."""

    def __init__(self, template: TemplateDocument, **parameters: str) -> None:
        self.template = template
        self.resolver = resolver(template, **parameters)
        self.rules = sorted(web_acl_rules(template, **parameters).values(), key=lambda rule: rule["Priority"])

    def matches(self, statement: dict[str, Any], request: Request, labels: set[str]) -> bool:
        (kind, body), *_ = statement.items()
        if kind in ("AndStatement", "OrStatement"):
            outcomes = [self.matches(inner, request, labels) for inner in body["Statements"]]
            return all(outcomes) if kind == "AndStatement" else any(outcomes)
        if kind == "NotStatement":
            return not self.matches(body["Statement"], request, labels)
        if kind == "RateBasedStatement":
            scope_down = body.get("ScopeDownStatement")
            counted = scope_down is None or self.matches(scope_down, request, labels)
            return counted and request.past_rate_limit
        return self.leaf_matches(kind, body, request, labels)

    def leaf_matches(self, kind: str, body: dict[str, Any], request: Request, labels: set[str]) -> bool:
        if kind == "LabelMatchStatement":
            assert body["Scope"] == "LABEL"
            return body["Key"] in labels
        if kind == "IPSetReferenceStatement":
            ip_set = body["Arn"]["Fn::GetAtt"][0]
            addresses = self.resolver.resolve(self.template["Resources"][ip_set]["Properties"]["Addresses"])
            return any(ipaddress.ip_address(request.source) in ipaddress.ip_network(a) for a in addresses)
        assert kind == "ByteMatchStatement", f"no model of {kind}"
        assert (body["FieldToMatch"], body["PositionalConstraint"]) == ({"UriPath": {}}, "CONTAINS")
        return str(body["SearchString"]) in transformed(request.path, body["TextTransformations"])

    def decide(self, request: Request) -> tuple[str, str | None]:
        """("BLOCK", the rule) or ("ALLOW", None)."""
        labels: set[str] = set()
        for rule in self.rules:
            group = rule["Statement"].get("ManagedRuleGroupStatement")
            if group is not None:
                overrides = {
                    entry["Name"]: next(iter(entry["ActionToUse"]))
                    for entry in group.get("RuleActionOverrides", [])
                }
                for group_name, rule_name in sorted(request.matches):
                    if group_name != group["Name"]:
                        continue
                    labels.add(f"awswaf:managed:aws:{MANAGED_LABELS[group_name, rule_name]}")
                    if overrides.get(rule_name, "Block") == "Block" and rule["OverrideAction"] == {
                        "None": {}
                    }:
                        return "BLOCK", rule["Name"]
                continue
            if not self.matches(rule["Statement"], request, labels):
                continue
            action = next(iter(rule["Action"]))
            if action == "Block":
                return "BLOCK", rule["Name"]
            assert action == "Count", rule["Name"]
            labels.update(label["Name"] for label in rule.get("RuleLabels", []))
        return "ALLOW", None


def test_allow_listed_provider_sources_are_never_rate_limited(template: TemplateDocument) -> None:
    web_acl = WebAcl(template, StripeSourceCidrs=STRIPE_RANGES)
    burst = Request("/v1/webhooks/stripe", source=STRIPE_ADDRESS, past_rate_limit=True)
    assert web_acl.decide(burst) == ("ALLOW", None)
    # The same address elsewhere, any other address anywhere, and any address without an allow-list are.
    for request, acl in [
        (Request("/v1/transactions", source=STRIPE_ADDRESS, past_rate_limit=True), web_acl),
        (Request("/v1/webhooks/generic", source=STRIPE_ADDRESS, past_rate_limit=True), web_acl),
        (Request("/v1/webhooks/paypal", past_rate_limit=True), web_acl),
        (burst, WebAcl(template)),
    ]:
        assert acl.decide(request) == ("BLOCK", "RateLimitPerSourceAddress"), request
    # An allow-list still refuses its route to every other address.
    assert web_acl.decide(Request("/v1/webhooks/stripe")) == ("BLOCK", "StripeSourceAllowList")


@pytest.mark.parametrize("attack", BODY_ATTACKS, ids=lambda rule: rule[1])
def test_managed_body_rules_cannot_block_provider_routes(template: TemplateDocument, attack: Any) -> None:
    """A signed delivery's body carries what customers typed; the receiver judges it, not the WAF."""
    carrying = frozenset({attack})
    for web_acl in (WebAcl(template), WebAcl(template, StripeSourceCidrs=STRIPE_RANGES)):
        for route in PROVIDER_ROUTES:
            respelled = route.upper().replace("/V1", "/v1/.")
            for path in (route, respelled):
                decision = web_acl.decide(Request(path, source=STRIPE_ADDRESS, matches=carrying))
                assert decision == ("ALLOW", None), path
        # /transactions keeps them, however the path is spelled.
        for path in ("/v1/transactions", "/v1/transactions/", "/v1//TRANSACTIONS"):
            decision = web_acl.decide(Request(path, source=STRIPE_ADDRESS, matches=carrying))
            assert decision == ("BLOCK", "ManagedBodyRulesOutsideProviderRoutes"), path


@pytest.mark.parametrize(
    "attack",
    [
        ("AWSManagedRulesCommonRuleSet", "NoUserAgent_HEADER"),
        ("AWSManagedRulesCommonRuleSet", "GenericLFI_URIPATH"),
        ("AWSManagedRulesKnownBadInputsRuleSet", "Log4JRCE_HEADER"),
    ],
    ids=lambda rule: rule[1],
)
def test_managed_rules_outside_the_body_still_block_provider_routes(
    template: TemplateDocument, attack: Any
) -> None:
    group = "CommonRuleSet" if attack[0] == COMMON_GROUP else "KnownBadInputs"
    decision = WebAcl(template).decide(Request("/v1/webhooks/stripe", matches=frozenset({attack})))
    assert decision == ("BLOCK", group)


def test_bodies_over_8_kb_are_only_counted_on_every_route(template: TemplateDocument) -> None:
    oversize = frozenset({("AWSManagedRulesCommonRuleSet", "SizeRestrictions_BODY")})
    for path in ("/v1/transactions", *PROVIDER_ROUTES):
        assert WebAcl(template).decide(Request(path, matches=oversize)) == ("ALLOW", None)


@pytest.mark.parametrize("parameter_file", sorted(paths.PARAMS.glob("*.json")), ids=lambda path: path.stem)
def test_the_per_address_limit_is_sized_from_the_usage_plan_and_the_providers(
    template: TemplateDocument, parameter_file: Path
) -> None:
    """Per environment (its parameter file over the template's defaults): one address may send what the
    usage plan's daily quota averages over the window (internal clients behind one NAT address) and a
    provider's burst at the whole stage rate spread over the few addresses it publishes, while no
    single address can take more than half of the stage's rate."""
    values = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    values |= load_parameter_file(parameter_file)
    limit = int(values["WafRateLimitPer5Minutes"])
    stage_rate = float(values["ApiThrottleRateLimit"])
    quota_per_window = int(values["ApiQuotaPerDay"]) / 86_400 * RATE_WINDOW_SECONDS
    assert limit >= quota_per_window
    assert limit >= stage_rate * RATE_WINDOW_SECONDS / len(published_stripe_addresses())
    assert limit <= stage_rate * RATE_WINDOW_SECONDS / 2


def published_stripe_addresses() -> list[str]:
    """The webhook addresses docs/waf.md lists for Stripe (with where to refresh them)."""
    page = (paths.REPOSITORY / "docs" / "waf.md").read_text(encoding="utf-8")
    block = page.split("<!-- stripe-webhook-addresses -->", 1)[1].split("```", 2)[1]
    addresses = [line.strip() for line in block.splitlines() if line.strip()]
    for address in addresses:
        ipaddress.ip_network(address)
    return addresses


def test_log_delivery_is_granted_on_the_waf_log_group_itself_not_the_account(
    template: TemplateDocument,
) -> None:
    """Log delivery appends a statement to the account-level resource policy (5,120 characters, at most 10
    a Region, never cleaned up) only when the destination group's policy does not already grant it; the
    group's own policy goes with the group."""
    resources = template["Resources"]
    assert not [r for r in resources.values() if r["Type"] == "AWS::Logs::ResourcePolicy"]
    group = resources["WafLogGroup"]
    document = Template(template)
    group_name = document.resolver(ENVIRONMENT).resolve(group["Properties"]["LogGroupName"])
    policy = document.resolver({**ENVIRONMENT, **ACCOUNT}, physical_ids={"WafLogGroup": group_name}).resolve(
        group["Properties"]["ResourcePolicyDocument"]
    )
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == [
        f"arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-{PREFIX}-dev:log-stream:*"
    ]
    # Only deliveries this account set up, in this Region (the confused-deputy keys AWS documents).
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:123456789012:*"},
    }
    assert (group["DeletionPolicy"], group["Condition"]) == ("Delete", "HasWaf")
