"""The web ACL in front of the API stage (templates/waf.py), as the generated template declares it."""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

import pytest

from handlers.providers import hmac_signed, paypal, stripe
from tapstack.cfn.model import Resolver, Template, intrinsic_name, references
from tapstack.operate.destroy import waf_log_group_prefix
from templates.contract import SUFFIX_PARAMETER
from templates.parameters import IPV4_CIDR_PATTERN
from tests.support.settings import PREFIX

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
        assert by_priority == [*allow_lists, "RateLimitPerSourceAddress", "KnownBadInputs", "CommonRuleSet"]
        assert len({rule["Priority"] for rule in rules.values()}) == len(rules)


def test_one_address_is_blocked_past_the_rate_limit(template: TemplateDocument) -> None:
    rule = web_acl_rules(template)["RateLimitPerSourceAddress"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"] == {
        "RateBasedStatement": {
            "AggregateKeyType": "IP",
            "Limit": {"Ref": "WafRateLimitPer5Minutes"},
            "EvaluationWindowSec": 300,
        }
    }
    # WAF's own bounds on the limit; the default leaves an address a tenth of the stage's default rate.
    limit = template["Parameters"]["WafRateLimitPer5Minutes"]
    assert (limit["MinValue"], limit["MaxValue"]) == (10, 2_000_000_000)
    stage_rate = template["Parameters"]["ApiThrottleRateLimit"]["Default"]
    assert limit["Default"] / 300 == stage_rate / 10


def test_managed_rules_block_and_only_count_bodies_over_8_kb(template: TemplateDocument) -> None:
    rules = web_acl_rules(template)
    known_bad, common = rules["KnownBadInputs"], rules["CommonRuleSet"]
    assert known_bad["Statement"] == {
        "ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}
    }
    statement = common["Statement"]["ManagedRuleGroupStatement"]
    assert (statement["VendorName"], statement["Name"]) == ("AWS", "AWSManagedRulesCommonRuleSet")
    # Deliveries up to 128 KiB are legitimate: the body-size rule counts, every other rule blocks.
    assert statement["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
    ]
    assert "ExcludedRules" not in statement
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
    # The dimensions name this web ACL (its Ref is name|id|scope), in this Region, all rules together.
    document = Template(template)
    web_acl_name = document.resolver(ENVIRONMENT).resolve(
        template["Resources"]["WebAcl"]["Properties"]["Name"]
    )
    deployed_stack = document.resolver(ENVIRONMENT, physical_ids={"WebAcl": f"{web_acl_name}|0a1b|REGIONAL"})
    dimensions = {
        dimension["Name"]: deployed_stack.resolve(dimension["Value"])
        for dimension in properties["Dimensions"]
    }
    assert dimensions == {"WebACL": f"{PREFIX}-webhooks-dev", "Region": "eu-west-1", "Rule": "ALL"}


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
    assert redacted == {"stripe-signature", "paypal-transmission-sig", "x-tap-signature", "x-api-key"}
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
