"""Deploy-time parameters, the conditions they drive, and how the console groups them."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import And, AWSHelperFn, Condition, Equals, Join, Not, Parameter, Ref

from templates.config import AUDIT_RETENTION_DAYS_RANGE, LOG_RETENTION_DAYS, StackConfig
from templates.contract import (
    AUDIT_OBJECT_LOCK_MODE,
    PAYPAL_SIMULATOR_PARAMETER,
    RECONCILE_OFF,
    RECONCILE_RATE,
    ROLES,
    SUFFIX_PARAMETER,
)
from templates.naming import SOURCE_ALLOW_LISTED_PROVIDERS, SUFFIX_PATTERN, StackNames, max_suffix_length

EXECUTION_LOGGING_LEVELS = ["OFF", "ERROR", "INFO"]
# The audit bucket's Object Lock mode is this parameter of the deployed stack: NONE (no default retention,
# the bucket can be emptied), or the default retention mode S3 applies to every new payload version.
NO_OBJECT_LOCK = "NONE"
OBJECT_LOCK_MODES = [NO_OBJECT_LOCK, "GOVERNANCE", "COMPLIANCE"]
# AWS WAF's bounds on a rate-based rule's limit, requests per evaluation window per source address
# (https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
WAF_RATE_LIMIT_RANGE = (10, 2_000_000_000)
# Empty (no allow-list), or an IPv4 CIDR: WAF IP sets take CIDRs, every prefix length but /0; the API has
# an IPv4-only endpoint, so no IPv6 source reaches it.
IPV4_CIDR_PATTERN = (
    r"^$|^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    r"/([1-9]|[12][0-9]|3[0-2])$"
)
# Each element of the VPC lists: empty (no VPC), or an id as EC2 writes them (8 or 17 hex digits).
SUBNET_ID_PATTERN = r"^$|^subnet-([0-9a-f]{8}|[0-9a-f]{17})$"
SECURITY_GROUP_ID_PATTERN = r"^$|^sg-([0-9a-f]{8}|[0-9a-f]{17})$"
VPC_SUBNET_IDS = "VpcSubnetIds"
VPC_SECURITY_GROUP_IDS = "VpcSecurityGroupIds"
ORDERED_DELIVERY_TOPIC = "OrderedDeliveryTopic"
SUBSCRIBER_ACCOUNT_IDS = "SubscriberAccountIds"
# Each element of the subscriber allow-list: empty (this account only), or a 12-digit AWS account id.
ACCOUNT_ID_PATTERN = r"^$|^[0-9]{12}$"


@dataclass(frozen=True)
class StackParameters:
    """The template's parameters and conditions, for the builders that use them."""

    environment_suffix: Parameter
    code_bucket: Parameter
    code_key: Parameter
    reserved_concurrency: dict[str, Parameter]
    log_retention_days: Parameter
    alarm_email: Parameter
    api_rate_limit: Parameter
    api_burst_limit: Parameter
    api_quota_per_day: Parameter
    api_execution_logging: Parameter
    api_access_logging: Parameter
    audit_retention_days: Parameter
    audit_noncurrent_retention_days: Parameter
    audit_object_lock_mode: Parameter
    audit_object_lock_retention_days: Parameter
    waf_enabled: Parameter
    waf_rate_limit: Parameter
    waf_blocked_alarm_threshold: Parameter
    provider_source_cidrs: dict[str, Parameter]
    vpc_subnet_ids: Parameter
    vpc_security_group_ids: Parameter
    ordered_delivery_topic: Parameter
    subscriber_account_ids: Parameter
    reconcile_rate: Parameter
    accept_paypal_simulator: Parameter
    # Condition names; their expressions are in `conditions`.
    has_reserved_concurrency: dict[str, str]
    has_alarm_email: str
    has_api_access_logging: str
    has_audit_object_lock: str
    has_waf: str
    has_provider_source_allow_list: dict[str, str]
    attach_to_vpc: str
    has_ordered_delivery_topic: str
    has_subscriber_accounts: str
    has_ordered_subscriber_accounts: str
    reconciles: str
    conditions: dict[str, AWSHelperFn]

    def all_parameters(self) -> list[Parameter]:
        return [
            self.environment_suffix,
            self.code_bucket,
            self.code_key,
            *self.reserved_concurrency.values(),
            self.log_retention_days,
            self.alarm_email,
            self.api_rate_limit,
            self.api_burst_limit,
            self.api_quota_per_day,
            self.api_execution_logging,
            self.api_access_logging,
            *self.audit_archive(),
            *self.web_application_firewall(),
            *self.network(),
            *self.event_subscribers(),
            self.reconcile_rate,
            self.accept_paypal_simulator,
        ]

    def event_subscribers(self) -> list[Parameter]:
        """The ordered topic, and the other accounts allowed to subscribe to the event topics."""
        return [self.ordered_delivery_topic, self.subscriber_account_ids]

    def web_application_firewall(self) -> list[Parameter]:
        """Whether the API has a web ACL, its rate limit and alarm, and the providers' allow-lists."""
        return [
            self.waf_enabled,
            self.waf_rate_limit,
            self.waf_blocked_alarm_threshold,
            *self.provider_source_cidrs.values(),
        ]

    def network(self) -> list[Parameter]:
        """The organisation's VPC the functions attach to, when it asks for one."""
        return [self.vpc_subnet_ids, self.vpc_security_group_ids]

    def audit_archive(self) -> list[Parameter]:
        """Retention and Object Lock of the audit bucket (and of its access logs)."""
        return [
            self.audit_retention_days,
            self.audit_noncurrent_retention_days,
            self.audit_object_lock_mode,
            self.audit_object_lock_retention_days,
        ]

    def interface_metadata(self) -> dict[str, object]:
        """AWS::CloudFormation::Interface: parameter groups and labels for the console."""
        groups = [
            ("Environment", [self.environment_suffix]),
            ("Lambda code", [self.code_bucket, self.code_key]),
            ("Capacity", list(self.reserved_concurrency.values())),
            (
                "Logging and alarms",
                [
                    self.log_retention_days,
                    self.alarm_email,
                    self.api_access_logging,
                    self.api_execution_logging,
                ],
            ),
            ("API throttling", [self.api_rate_limit, self.api_burst_limit, self.api_quota_per_day]),
            ("Audit archive", self.audit_archive()),
            ("Reconciliation", [self.reconcile_rate]),
            ("Web application firewall", self.web_application_firewall()),
            ("Network", self.network()),
            ("Event subscribers", self.event_subscribers()),
            ("Development", [self.accept_paypal_simulator]),
        ]
        return {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {"Label": {"default": label}, "Parameters": [p.title for p in params]}
                    for label, params in groups
                ],
                "ParameterLabels": {p.title: {"default": _label(p.title)} for p in self.all_parameters()},
            }
        }


def _label(title: str) -> str:
    """`ApiRateLimit` -> `Api rate limit`: a readable label from a parameter's logical id."""
    words: list[str] = []
    for char in title:
        if char.isupper() and words and not words[-1][-1].isupper():
            words.append(char.lower())
        elif words:
            words[-1] += char.lower() if words[-1].islower() else char
        else:
            words.append(char)
    return " ".join(words)


def _audit_days(title: str, default: int, description: str) -> Parameter:
    """A number of days the audit archive keeps something, within what a lifecycle rule accepts."""
    return Parameter(
        title,
        Type="Number",
        Default=default,
        MinValue=AUDIT_RETENTION_DAYS_RANGE[0],
        MaxValue=AUDIT_RETENTION_DAYS_RANGE[1],
        Description=description,
    )


def _optional_list(title: str, item_pattern: str, constraint: str, description: str) -> Parameter:
    """A comma-separated list that is empty unless the deploy gives it (each item matches the pattern)."""
    return Parameter(
        title,
        Type="CommaDelimitedList",
        Default="",
        AllowedPattern=item_pattern,
        ConstraintDescription=constraint,
        Description=description,
    )


def build_parameters(config: StackConfig, names: StackNames) -> StackParameters:
    suffix_limit = max_suffix_length(names)
    reserved = {
        role: Parameter(
            f"{role.capitalize()}ReservedConcurrency",
            Type="Number",
            Default=config.default_reserved_concurrency,
            MinValue=0,
            Description=(
                f"Concurrency reserved for the {role} function; 0 reserves none. The account must keep "
                "at least 100 executions unreserved (preflight checks it)."
            ),
        )
        for role in ROLES
    }
    provider_source_cidrs = {
        provider: _optional_list(
            f"{provider.capitalize()}SourceCidrs",
            IPV4_CIDR_PATTERN,
            "empty, or IPv4 CIDRs separated by commas (a single address is a /32)",
            (
                f"The IPv4 ranges {provider_name} publishes for its webhook deliveries, as CIDRs separated "
                f"by commas. Empty: no allow-list. Set: the web ACL blocks requests to /webhooks/{provider} "
                "from any other address (when WafEnabled is true)."
            ),
        )
        for provider, provider_name in SOURCE_ALLOW_LISTED_PROVIDERS.items()
    }
    allow_list_conditions = {
        provider: f"Has{provider.capitalize()}SourceAllowList" for provider in SOURCE_ALLOW_LISTED_PROVIDERS
    }
    return StackParameters(
        environment_suffix=Parameter(
            SUFFIX_PARAMETER,
            Type="String",
            AllowedPattern=SUFFIX_PATTERN,
            MinLength=1,
            MaxLength=suffix_limit,
            ConstraintDescription=(
                f"1 to {suffix_limit} lowercase letters, digits and inner hyphens "
                "(the S3 bucket names are the tightest limit)"
            ),
            Description="Distinguishes this deployment's resources, e.g. dev, pr-123, prod.",
        ),
        code_bucket=Parameter(
            "CodeS3Bucket",
            Type="String",
            AllowedPattern="^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            Description="Bucket holding the Lambda artifact (make bootstrap creates one).",
        ),
        code_key=Parameter(
            "CodeS3Key",
            Type="String",
            MinLength=1,
            MaxLength=1024,
            Description="Key of the Lambda artifact zip (content-addressed: lambda-<sha256>.zip).",
        ),
        reserved_concurrency=reserved,
        log_retention_days=Parameter(
            "LogRetentionDays",
            Type="Number",
            Default=config.default_log_retention_days,
            AllowedValues=list(LOG_RETENTION_DAYS),
            Description="Retention of every log group of the stack.",
        ),
        alarm_email=Parameter(
            "AlarmEmail",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
            ConstraintDescription="empty, or one e-mail address",
            Description="Optional address subscribed to the alarm topic (confirm the e-mail AWS sends).",
        ),
        api_rate_limit=Parameter(
            "ApiThrottleRateLimit",
            Type="Number",
            Default=50,
            MinValue=1,
            MaxValue=10000,
            Description="Steady-state requests per second the API stage accepts.",
        ),
        api_burst_limit=Parameter(
            "ApiThrottleBurstLimit",
            Type="Number",
            Default=100,
            MinValue=1,
            MaxValue=5000,
            Description="Burst of requests the API stage accepts.",
        ),
        api_quota_per_day=Parameter(
            "ApiQuotaPerDay",
            Type="Number",
            Default=100000,
            MinValue=1,
            Description="Requests per day each internal client's API key may make to POST /transactions.",
        ),
        api_execution_logging=Parameter(
            "ApiExecutionLogging",
            Type="String",
            Default="OFF",
            AllowedValues=EXECUTION_LOGGING_LEVELS,
            Description=(
                "API Gateway execution logging. ERROR or INFO needs the account-level API Gateway "
                "CloudWatch role (preflight checks it); this stack never takes that account setting over."
            ),
        ),
        api_access_logging=Parameter(
            "ApiAccessLogging",
            Type="String",
            Default="ENABLED",
            AllowedValues=["ENABLED", "DISABLED"],
            Description=(
                "JSON access logs of the API stage. API Gateway writes them with the account-level "
                "CloudWatch role (preflight checks it is set); DISABLED deploys without it."
            ),
        ),
        audit_retention_days=_audit_days(
            "AuditRetentionDays",
            config.default_audit_retention_days,
            (
                "Days a raw payload (and an access log of the audit bucket) stays the current version; "
                "then it expires and its data stays noncurrent for AuditNoncurrentRetentionDays more."
            ),
        ),
        audit_noncurrent_retention_days=_audit_days(
            "AuditNoncurrentRetentionDays",
            config.default_audit_noncurrent_retention_days,
            (
                "Days a payload version that was overwritten, deleted or expired is kept before S3 "
                "deletes it for good (a version under Object Lock retention stays until that ends)."
            ),
        ),
        audit_object_lock_mode=Parameter(
            AUDIT_OBJECT_LOCK_MODE,
            Type="String",
            Default=NO_OBJECT_LOCK,
            AllowedValues=OBJECT_LOCK_MODES,
            Description=(
                "Default retention of each new payload version. NONE: none (the stack can be emptied "
                "and deleted). GOVERNANCE: only principals with s3:BypassGovernanceRetention can delete "
                "a version early. COMPLIANCE: nobody, root included, until the retention ends."
            ),
        ),
        audit_object_lock_retention_days=_audit_days(
            "AuditObjectLockRetentionDays",
            config.default_audit_retention_days,
            "Days each payload version is locked for when AuditObjectLockMode is not NONE.",
        ),
        waf_enabled=Parameter(
            "WafEnabled",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description=(
                "A WAF web ACL in front of the API stage: per-address rate limit, AWS managed rules, "
                "provider allow-lists, logs and a blocked-requests alarm. false removes all of it."
            ),
        ),
        waf_rate_limit=Parameter(
            "WafRateLimitPer5Minutes",
            Type="Number",
            Default=1500,
            MinValue=WAF_RATE_LIMIT_RANGE[0],
            MaxValue=WAF_RATE_LIMIT_RANGE[1],
            Description=(
                "Requests one source address may send in any 5 minutes before the web ACL blocks it; "
                "allow-listed provider deliveries are not counted (the default, 5 per second on "
                "average, is a tenth of the default stage rate; docs/waf.md sizes it per environment)."
            ),
        ),
        waf_blocked_alarm_threshold=Parameter(
            "WafBlockedRequestsAlarmThreshold",
            Type="Number",
            Default=500,
            MinValue=1,
            Description="Requests the web ACL blocks in 5 minutes above which the alarm fires.",
        ),
        provider_source_cidrs=provider_source_cidrs,
        vpc_subnet_ids=_optional_list(
            VPC_SUBNET_IDS,
            SUBNET_ID_PATTERN,
            "empty, or subnet ids (subnet-...) separated by commas",
            (
                "Private subnets of the organisation's VPC the functions attach to, in at least two "
                "Availability Zones. Empty: the functions run outside any VPC. Set: set "
                f"{VPC_SECURITY_GROUP_IDS} too; the VPC needs endpoints for the AWS APIs the functions "
                "call, or a NAT route (preflight checks)."
            ),
        ),
        vpc_security_group_ids=_optional_list(
            VPC_SECURITY_GROUP_IDS,
            SECURITY_GROUP_ID_PATTERN,
            "empty, or security group ids (sg-...) separated by commas",
            (
                f"Security groups of the functions' network interfaces when {VPC_SUBNET_IDS} is set: they "
                "must allow HTTPS (443) out to the VPC endpoints."
            ),
        ),
        ordered_delivery_topic=Parameter(
            ORDERED_DELIVERY_TOPIC,
            Type="String",
            Default="false",
            AllowedValues=["true", "false"],
            Description=(
                "Adds an SNS FIFO topic besides the standard one: message group the object "
                "(provider#object id), deduplication id the transaction, for subscribers that need "
                "each object's events in order (SQS FIFO queues). Limits and cost: docs/webhooks.md."
            ),
        ),
        subscriber_account_ids=_optional_list(
            SUBSCRIBER_ACCOUNT_IDS,
            ACCOUNT_ID_PATTERN,
            "empty, or 12-digit AWS account ids separated by commas",
            (
                "Other AWS accounts whose SQS queues may subscribe to the event topics (the topic policy "
                "allows them sns:Subscribe for the sqs protocol and their own queues only). Empty: only "
                "this account subscribes. Recipe: docs/consumers.md."
            ),
        ),
        reconcile_rate=Parameter(
            RECONCILE_RATE,
            Type="String",
            Default="rate(15 minutes)",
            AllowedPattern=rf"^(rate\([1-9][0-9]{{0,3}} (minutes?|hours?|days?)\)|{RECONCILE_OFF})$",
            ConstraintDescription=f"rate(<n> minutes|hours|days), or {RECONCILE_OFF}",
            Description=(
                "How often the reconciler lists the providers' event logs for events no delivery brought "
                f"(an EventBridge Scheduler rate expression), or {RECONCILE_OFF}: the schedule is "
                "disabled. docs/reconciliation.md."
            ),
        ),
        accept_paypal_simulator=Parameter(
            PAYPAL_SIMULATOR_PARAMETER,
            Type="String",
            Default="false",
            AllowedValues=["true", "false"],
            Description=(
                "Developer stacks only: true also accepts PayPal's webhook simulator, which signs with the "
                "literal webhook id WEBHOOK_ID (anyone can send such events), and stores them marked "
                "simulated. Preflight, deploy and lint refuse it in any but a development parameter file."
            ),
        ),
        has_reserved_concurrency={role: f"{role.capitalize()}HasReservedConcurrency" for role in reserved},
        has_alarm_email="HasAlarmEmail",
        has_api_access_logging="HasApiAccessLogging",
        has_audit_object_lock="HasAuditObjectLock",
        has_waf="HasWaf",
        has_provider_source_allow_list=allow_list_conditions,
        attach_to_vpc="AttachToVpc",
        has_ordered_delivery_topic="HasOrderedDeliveryTopic",
        has_subscriber_accounts="HasSubscriberAccounts",
        has_ordered_subscriber_accounts="HasOrderedDeliverySubscriberAccounts",
        reconciles="Reconciles",
        conditions={
            **{
                f"{role.capitalize()}HasReservedConcurrency": Not(Equals(Ref(param), 0))
                for role, param in reserved.items()
            },
            "HasAlarmEmail": Not(Equals(Ref("AlarmEmail"), "")),
            "HasApiAccessLogging": Equals(Ref("ApiAccessLogging"), "ENABLED"),
            "HasAuditObjectLock": Not(Equals(Ref(AUDIT_OBJECT_LOCK_MODE), NO_OBJECT_LOCK)),
            "HasWaf": Equals(Ref("WafEnabled"), "true"),
            **{
                allow_list_conditions[provider]: And(
                    Condition("HasWaf"), Not(Equals(Join("", Ref(parameter)), ""))
                )
                for provider, parameter in provider_source_cidrs.items()
            },
            "AttachToVpc": Not(Equals(Join("", Ref(VPC_SUBNET_IDS)), "")),
            "HasOrderedDeliveryTopic": Equals(Ref(ORDERED_DELIVERY_TOPIC), "true"),
            "HasSubscriberAccounts": Not(Equals(Join("", Ref(SUBSCRIBER_ACCOUNT_IDS)), "")),
            "HasOrderedDeliverySubscriberAccounts": And(
                Condition("HasOrderedDeliveryTopic"), Condition("HasSubscriberAccounts")
            ),
            "Reconciles": Not(Equals(Ref(RECONCILE_RATE), RECONCILE_OFF)),
        },
    )
