"""Deploy-time parameters, the conditions they drive, and how the console groups them."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import AWSHelperFn, Equals, Not, Parameter, Ref

from templates.config import LOG_RETENTION_DAYS, StackConfig
from templates.naming import SUFFIX_PARAMETER, SUFFIX_PATTERN, StackNames, max_suffix_length

FUNCTION_ROLES = ("receiver", "processor", "notifier")
EXECUTION_LOGGING_LEVELS = ["OFF", "ERROR", "INFO"]


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
    # Condition names; their expressions are in `conditions`.
    has_reserved_concurrency: dict[str, str]
    has_alarm_email: str
    has_api_access_logging: str
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
        for role in FUNCTION_ROLES
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
        has_reserved_concurrency={role: f"{role.capitalize()}HasReservedConcurrency" for role in reserved},
        has_alarm_email="HasAlarmEmail",
        has_api_access_logging="HasApiAccessLogging",
        conditions={
            **{
                f"{role.capitalize()}HasReservedConcurrency": Not(Equals(Ref(param), 0))
                for role, param in reserved.items()
            },
            "HasAlarmEmail": Not(Equals(Ref("AlarmEmail"), "")),
            "HasApiAccessLogging": Equals(Ref("ApiAccessLogging"), "ENABLED"),
        },
    )
