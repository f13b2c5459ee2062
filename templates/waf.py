"""The web ACL in front of the API stage: attack traffic is refused before it spends the stage's throttle.

`POST /webhooks/{provider}` is public by design (providers authenticate by signature), but a signature
protects integrity, not availability: every junk request would invoke the receiver and use up the
stage's shared rate, and real deliveries would get 429. The web ACL's rules, in the order WAF runs them:

  <Provider>SourceAllowList   only when <Provider>SourceCidrs is set: block requests to
                              /webhooks/<provider> from outside the provider's published ranges
  <Provider>Deliveries        only then too: count (and label) requests to that route from those
                              ranges, which the rate limit then leaves alone
  RateLimitPerSourceAddress   block an address past WafRateLimitPer5Minutes requests in 5 minutes,
                              unless the request is a labelled provider delivery
  KnownBadInputs              AWS managed: request patterns of known exploits (Log4j, ...)
  CommonRuleSet               AWS managed: common web attacks; its body-size rule only counts, because
                              the rule stops at 8 KB and deliveries up to 128 KiB are legitimate (the
                              receiver enforces that limit itself)
  ManagedBodyRulesOutsideProviderRoutes
                              the managed groups' body rules only count (and label); this blocks what
                              they labelled unless the route is /webhooks/*: a signed delivery's body
                              carries what customers typed, and the receiver judges it (it
                              quarantines what it cannot read), while /transactions keeps them

Everything else is allowed. What WAF blocks or counts is logged to `aws-waf-logs-<stack>` (KMS,
stack retention) without the signature and API-key headers; an alarm fires on a surge of blocked
requests. WafEnabled=false removes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import logs
from awacs.aws import Allow, ArnLike, PolicyDocument, Principal, StringEquals
from awacs.aws import Condition as AwacsCondition
from awacs.aws import Statement as AwacsStatement
from troposphere import AWSHelperFn, AWSObject, GetAtt, If, NoValue, Ref, Sub
from troposphere.cloudwatch import Alarm
from troposphere.logs import LogGroup
from troposphere.sns import Topic
from troposphere.wafv2 import (
    ActionCondition,
    AllowAction,
    AndStatement,
    BlockAction,
    ByteMatchStatement,
    CountAction,
    DefaultAction,
    FieldToMatch,
    Filter,
    IPSet,
    IPSetReferenceStatement,
    Label,
    LabelMatchStatement,
    LoggingConfiguration,
    LoggingConfigurationFieldToMatch,
    LoggingFilter,
    ManagedRuleGroupStatement,
    NotStatement,
    OrStatement,
    OverrideAction,
    RateBasedStatement,
    RuleAction,
    RuleActionOverride,
    SingleHeader,
    Statement,
    TextTransformation,
    VisibilityConfig,
    WebACL,
    WebACLAssociation,
    WebACLRule,
)
from troposphere.wafv2 import Condition as LoggingCondition

from handlers.providers.catalogue import CATALOGUE
from templates.api import Api
from templates.common import POLICY_VERSION
from templates.functions import build_log_group
from templates.metrics import MetricSpec
from templates.naming import SOURCE_ALLOW_LISTED_PROVIDERS, StackNames
from templates.parameters import StackParameters

RATE_WINDOW_SECONDS = 300
"""WafRateLimitPer5Minutes counts over this window (WAF allows 60, 120, 300 or 600 s)."""
ALARM_PERIOD_SECONDS = 300
"""WafBlockedRequestsAlarmThreshold counts blocked requests over this period."""
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS_RULE_SET = "AWSManagedRulesKnownBadInputsRuleSet"
BODY_SIZE_RULE = "SizeRestrictions_BODY"
"""The common rule set's rule that blocks bodies over 8 KB; TapStack counts instead (see above)."""
MANAGED_BODY_RULES = {
    COMMON_RULE_SET: (
        "core-rule-set",
        ("CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"),
    ),
    KNOWN_BAD_INPUTS_RULE_SET: (
        "known-bad-inputs",
        ("JavaDeserializationRCE_BODY", "Log4JRCE_BODY", "ReactJSRCE_BODY"),
    ),
}
"""Each managed group's label namespace and its rules that inspect the body, which count instead of
blocking; ManagedBodyRulesOutsideProviderRoutes blocks on their labels off the provider routes (the
rule and label names are those of https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html)."""
PROVIDER_ROUTES = "/webhooks/"
PROVIDER_DELIVERY_LABEL = "tapstack:allow-listed-provider-delivery"
"""Added by <Provider>Deliveries; a label without a prefix is this web ACL's own."""
# Headers WAF must not write to its logs: the providers' signatures (src/handlers/providers/) and the
# internal clients' API key. PayPal's other transmission headers (id, time, cert URL, algorithm) carry
# no secret and let a blocked request be matched with PayPal's delivery log, so they stay.
REDACTED_HEADERS = ("stripe-signature", "paypal-transmission-sig", "x-tap-signature", "x-api-key")
# What the logs keep: the requests WAF acted on. Allowed requests reach the stage and are in its
# access log already.
LOGGED_ACTIONS = ("BLOCK", "COUNT", "EXCLUDED_AS_COUNT")
# A provider route however a client spells it: decoded, without `//` or `/./`, in lower case.
PATH_TRANSFORMATIONS = ("URL_DECODE", "NORMALIZE_PATH", "LOWERCASE")


@dataclass(frozen=True)
class Waf:
    web_acl: WebACL
    association: WebACLAssociation
    source_ip_sets: dict[str, IPSet]
    log_group: LogGroup
    logging: LoggingConfiguration
    blocked_requests_alarm: Alarm
    metrics: tuple[MetricSpec, ...]
    """The requests the web ACL allowed and blocked, as every rule counts them: the dashboard draws them."""

    def resources(self) -> list[AWSObject]:
        return [
            *self.source_ip_sets.values(),
            self.web_acl,
            self.association,
            self.log_group,
            self.logging,
            self.blocked_requests_alarm,
        ]


def _visibility(metric_name: str | AWSHelperFn) -> VisibilityConfig:
    # Sampling stays off: sampled requests keep the headers the logging configuration redacts, and the
    # logs hold every request WAF acted on.
    return VisibilityConfig(
        CloudWatchMetricsEnabled=True, MetricName=metric_name, SampledRequestsEnabled=False
    )


def _source_ip_set(names: StackNames, params: StackParameters, provider: str) -> IPSet:
    return IPSet(
        f"Waf{provider.capitalize()}SourceIpSet",
        Condition=params.has_provider_source_allow_list[provider],
        Name=names.waf_source_ip_set(provider).sub(),
        Description=f"Source ranges {SOURCE_ALLOW_LISTED_PROVIDERS[provider]} publishes for its webhooks",
        Scope="REGIONAL",
        IPAddressVersion="IPV4",
        Addresses=params.provider_source_cidrs[provider].ref(),
    )


def _path_contains(search: str) -> Statement:
    return Statement(
        ByteMatchStatement=ByteMatchStatement(
            FieldToMatch=FieldToMatch(UriPath={}),
            # CONTAINS: the stage (or a custom domain's base path) comes first, and a `/` may follow.
            PositionalConstraint="CONTAINS",
            SearchString=search,
            TextTransformations=[
                TextTransformation(Priority=index, Type=transformation)
                for index, transformation in enumerate(PATH_TRANSFORMATIONS)
            ],
        )
    )


def _not(statement: Statement) -> Statement:
    return Statement(NotStatement=NotStatement(Statement=statement))


def _from_ranges(ip_set: IPSet) -> Statement:
    return Statement(IPSetReferenceStatement=IPSetReferenceStatement(Arn=GetAtt(ip_set, "Arn")))


def _labelled(key: str) -> Statement:
    return Statement(LabelMatchStatement=LabelMatchStatement(Scope="LABEL", Key=key))


def _allow_list_rule(provider: str, ip_set: IPSet, priority: int) -> WebACLRule:
    """Block requests to the provider's route whose source address is not in its published ranges."""
    name = f"{provider.capitalize()}SourceAllowList"
    to_provider_route = _path_contains(f"{PROVIDER_ROUTES}{provider}")
    return WebACLRule(
        Name=name,
        Priority=priority,
        Action=RuleAction(Block=BlockAction()),
        Statement=Statement(
            AndStatement=AndStatement(Statements=[to_provider_route, _not(_from_ranges(ip_set))])
        ),
        VisibilityConfig=_visibility(name),
    )


def _deliveries_rule(provider: str, ip_set: IPSet, priority: int) -> WebACLRule:
    """Count and label requests to the provider's route from its published ranges: a provider delivers
    from a handful of addresses, so a burst of renewals must not meet the per-address limit."""
    name = f"{provider.capitalize()}Deliveries"
    to_provider_route = _path_contains(f"{PROVIDER_ROUTES}{provider}")
    return WebACLRule(
        Name=name,
        Priority=priority,
        Action=RuleAction(Count=CountAction()),
        RuleLabels=[Label(Name=PROVIDER_DELIVERY_LABEL)],
        Statement=Statement(AndStatement=AndStatement(Statements=[to_provider_route, _from_ranges(ip_set)])),
        VisibilityConfig=_visibility(name),
    )


def _rate_limit_rule(params: StackParameters, priority: int) -> WebACLRule:
    name = "RateLimitPerSourceAddress"
    return WebACLRule(
        Name=name,
        Priority=priority,
        Action=RuleAction(Block=BlockAction()),
        Statement=Statement(
            RateBasedStatement=RateBasedStatement(
                AggregateKeyType="IP",
                Limit=params.waf_rate_limit.ref(),
                EvaluationWindowSec=RATE_WINDOW_SECONDS,
                # Counts (and blocks) only what is not an allow-listed provider's delivery.
                ScopeDownStatement=_not(_labelled(PROVIDER_DELIVERY_LABEL)),
            )
        ),
        VisibilityConfig=_visibility(name),
    )


def _managed_rule(name: str, group: str, priority: int, counted: tuple[str, ...] = ()) -> WebACLRule:
    """The AWS managed `group`, its body rules and `counted` turned to Count (they still label)."""
    _, body_rules = MANAGED_BODY_RULES[group]
    statement = ManagedRuleGroupStatement(
        VendorName="AWS",
        Name=group,
        RuleActionOverrides=[
            RuleActionOverride(Name=rule, ActionToUse=RuleAction(Count=CountAction()))
            for rule in (*counted, *body_rules)
        ],
    )
    return WebACLRule(
        Name=name,
        Priority=priority,
        # "None": each rule of the group keeps its own action (Block), its RuleActionOverrides aside.
        OverrideAction=OverrideAction(**{"None": {}}),
        Statement=Statement(ManagedRuleGroupStatement=statement),
        VisibilityConfig=_visibility(name),
    )


def _body_rules_outside_provider_routes(priority: int) -> WebACLRule:
    """Block what the managed body rules labelled, except on the provider routes."""
    name = "ManagedBodyRulesOutsideProviderRoutes"
    labelled = [
        _labelled(f"awswaf:managed:aws:{namespace}:{rule.removesuffix('_BODY')}_Body")
        for namespace, rules in MANAGED_BODY_RULES.values()
        for rule in rules
    ]
    return WebACLRule(
        Name=name,
        Priority=priority,
        Action=RuleAction(Block=BlockAction()),
        Statement=Statement(
            AndStatement=AndStatement(
                Statements=[
                    Statement(OrStatement=OrStatement(Statements=labelled)),
                    _not(_path_contains(PROVIDER_ROUTES)),
                ]
            )
        ),
        VisibilityConfig=_visibility(name),
    )


def _log_delivery_policy(names: StackNames) -> PolicyDocument:
    """What WAF's log delivery needs on this group, granted by the group itself.

    Without it, setting up logging appends the group to the account-level resource policy (5,120
    characters, 10 a Region), which nothing removes: per-environment stacks fill it. Delivery adds a
    statement only where the group's policy lacks one; this one goes with the group when the stack does.
    """
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            AwacsStatement(
                Sid="WafLogDeliveryToThisGroup",
                Effect=Allow,
                Principal=Principal("Service", "delivery.logs.amazonaws.com"),
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=[
                    Sub(
                        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Group}"
                        ":log-stream:*",
                        Group=names.waf_log_group.sub(),
                    )
                ],
                Condition=AwacsCondition(
                    [
                        StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")}),
                        ArnLike(
                            {
                                "aws:SourceArn": Sub(
                                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"
                                )
                            }
                        ),
                    ]
                ),
            )
        ],
    )


def _logging(
    web_acl: WebACL, log_group: LogGroup, params: StackParameters, redacted: tuple[str, ...]
) -> LoggingConfiguration:
    return LoggingConfiguration(
        "WafLogging",
        Condition=params.has_waf,
        ResourceArn=GetAtt(web_acl, "Arn"),
        # The group's ARN without the `:*` that its Arn attribute ends with, as WAF expects it.
        LogDestinationConfigs=[
            Sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${LogGroup}",
                LogGroup=log_group.ref(),
            )
        ],
        RedactedFields=[
            LoggingConfigurationFieldToMatch(SingleHeader=SingleHeader(Name=header)) for header in redacted
        ],
        LoggingFilter=LoggingFilter(
            DefaultBehavior="DROP",
            Filters=[
                Filter(
                    Behavior="KEEP",
                    Requirement="MEETS_ANY",
                    Conditions=[
                        LoggingCondition(ActionCondition=ActionCondition(Action=action))
                        for action in LOGGED_ACTIONS
                    ],
                )
            ],
        ),
    )


def _requests(names: StackNames, metric_name: str, label: str) -> MetricSpec:
    """A count of requests by the whole web ACL (every rule: `Rule` ALL). Its `WebACL` dimension is the
    web ACL's metric name, which is its name (`_visibility`): written as the name, not read from the
    web ACL's Ref, so that the dashboard needs nothing of a resource the emulator does not model."""
    dimensions = (("WebACL", names.web_acl.sub()), ("Region", Ref("AWS::Region")), ("Rule", "ALL"))
    return MetricSpec("AWS/WAFV2", metric_name, dimensions, label=label)


def _blocked_requests_alarm(
    names: StackNames, params: StackParameters, blocked: MetricSpec, alarm_topic: Topic
) -> Alarm:
    return Alarm(
        "WafBlockedRequestsAlarm",
        Condition=params.has_waf,
        AlarmName=names.alarm("waf-blocked").sub(),
        AlarmDescription=(
            "The web ACL blocked more requests than WafBlockedRequestsAlarmThreshold in 5 minutes: a flood "
            "or a scan, or real deliveries refused. Its log group (aws-waf-logs-...) names the rule and "
            "the source address of each."
        ),
        Namespace=blocked.namespace,
        MetricName=blocked.name,
        Dimensions=blocked.alarm_dimensions(),
        Statistic="Sum",
        Period=ALARM_PERIOD_SECONDS,
        EvaluationPeriods=1,
        Threshold=params.waf_blocked_alarm_threshold.ref(),
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[alarm_topic.ref()],
        OKActions=[alarm_topic.ref()],
    )


def redacted_headers(providers: tuple[str, ...]) -> tuple[str, ...]:
    """The built-in secret-bearing headers, then each accepted catalogue provider's signature headers."""
    catalogue = (
        header for name in providers if name in CATALOGUE for header in CATALOGUE[name].signature_headers
    )
    return tuple(dict.fromkeys((*REDACTED_HEADERS, *catalogue)))


def build_waf(
    names: StackNames,
    params: StackParameters,
    key_arn: AWSHelperFn,
    api: Api,
    alarm_topic: Topic,
    providers: tuple[str, ...] = (),
) -> Waf:
    """`providers`: the accepted ones (the `providers` setting), whose signature headers are redacted."""
    source_ip_sets = {
        provider: _source_ip_set(names, params, provider) for provider in params.provider_source_cidrs
    }
    allow_list_rules = [
        If(params.has_provider_source_allow_list[provider], rule(provider, ip_set, priority), NoValue)
        for priority, (rule, (provider, ip_set)) in enumerate(
            (rule, source)
            for rule in (_allow_list_rule, _deliveries_rule)
            for source in source_ip_sets.items()
        )
    ]
    first_unconditional = len(allow_list_rules)
    web_acl = WebACL(
        "WebAcl",
        Condition=params.has_waf,
        Name=names.web_acl.sub(),
        Description="TapStack webhooks: rate limit, AWS managed rules, provider allow-lists",
        Scope="REGIONAL",
        DefaultAction=DefaultAction(Allow=AllowAction()),
        Rules=[
            *allow_list_rules,
            _rate_limit_rule(params, first_unconditional),
            _managed_rule("KnownBadInputs", KNOWN_BAD_INPUTS_RULE_SET, first_unconditional + 1),
            _managed_rule(
                "CommonRuleSet", COMMON_RULE_SET, first_unconditional + 2, counted=(BODY_SIZE_RULE,)
            ),
            _body_rules_outside_provider_routes(first_unconditional + 3),
        ],
        VisibilityConfig=_visibility(names.web_acl.sub()),
    )
    association = WebACLAssociation(
        "WebAclAssociation",
        Condition=params.has_waf,
        WebACLArn=GetAtt(web_acl, "Arn"),
        ResourceArn=Sub(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}",
            Api=api.rest_api.ref(),
            Stage=api.stage.ref(),
        ),
    )
    log_group = build_log_group("WafLogGroup", names.waf_log_group.sub(), params, key_arn)
    log_group.Condition = params.has_waf
    log_group.ResourcePolicyDocument = _log_delivery_policy(names).JSONrepr()
    blocked = _requests(names, "BlockedRequests", "blocked")
    return Waf(
        web_acl=web_acl,
        association=association,
        source_ip_sets=source_ip_sets,
        log_group=log_group,
        logging=_logging(web_acl, log_group, params, redacted_headers(providers)),
        blocked_requests_alarm=_blocked_requests_alarm(names, params, blocked, alarm_topic),
        metrics=(_requests(names, "AllowedRequests", "allowed"), blocked),
    )
