"""Generation-time settings, validated against the AWS limits they feed into.

Everything here is decided when the template is generated. Settings an operator changes per deployment
(environment suffix, code location, reserved concurrency, retention, alarm e-mail, API throttling) are
CloudFormation parameters instead (see templates/parameters.py).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from typing import Any

from templates.naming import MIN_SUFFIX_LENGTH, StackNames, max_prefix_length, tightest_name

LAMBDA_LIMITS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
ASYNC_INVOKE_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"
RUNTIMES_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
APIGW_LIMITS_DOC = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
LOG_RETENTION_DOC = (
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html"
)
S3_NAMING_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
S3_LIFECYCLE_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html"

# Lifecycle days are positive integers; TapStack caps retention at 100 years (S3 documents no maximum).
AUDIT_RETENTION_DAYS_RANGE = (1, 36500)

# The values PutRetentionPolicy accepts.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Python runtimes Lambda supports, with the date each becomes deprecated (AWS runtime table).
PYTHON_RUNTIME_DEPRECATION: dict[str, datetime.date] = {
    "python3.12": datetime.date(2028, 10, 31),
    "python3.13": datetime.date(2029, 6, 30),
    "python3.14": datetime.date(2029, 6, 30),
}
# A runtime that will be deprecated within this window is refused: a new stack should not start on it.
RUNTIME_DEPRECATION_MARGIN = datetime.timedelta(days=365)

ARCHITECTURES = ("arm64",)
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29
NAME_PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,128}$")


class ConfigError(ValueError):
    """A setting outside the range AWS (or TapStack) accepts."""

    def __init__(self, setting: str, value: object, limit: str, source: str) -> None:
        self.setting = setting
        self.value = value
        self.limit = limit
        self.source = source
        super().__init__(f"setting '{setting}' = {value!r} is invalid: {limit} (source: {source})")


@dataclass(frozen=True)
class FunctionSettings:
    """Per-function Lambda settings."""

    memory_mb: int
    timeout_seconds: int


@dataclass(frozen=True)
class StackConfig:
    """The validated generation-time settings of one TapStack template."""

    name_prefix: str = "tapstack"
    runtime: str = "python3.13"
    architecture: str = "arm64"
    receiver: FunctionSettings = FunctionSettings(memory_mb=1024, timeout_seconds=20)
    processor: FunctionSettings = FunctionSettings(memory_mb=1024, timeout_seconds=30)
    notifier: FunctionSettings = FunctionSettings(memory_mb=1024, timeout_seconds=30)
    max_retry_attempts: int = 2
    max_event_age_seconds: int = 3600
    default_log_retention_days: int = 30
    default_reserved_concurrency: int = 0
    dlq_retention_seconds: int = 1_209_600
    # Seven years (2,557 days with two leap days), a common record-keeping period for payment records.
    default_audit_retention_days: int = 2557
    default_audit_noncurrent_retention_days: int = 365
    api_stage_name: str = "v1"
    today: datetime.date = dataclasses.field(default_factory=datetime.date.today, compare=False)

    def __post_init__(self) -> None:
        validate(self)

    def function_settings(self) -> dict[str, FunctionSettings]:
        """The three functions' settings by role name."""
        return {"receiver": self.receiver, "processor": self.processor, "notifier": self.notifier}

    def names(self) -> StackNames:
        """Every resource name of the stack, from the name prefix."""
        return StackNames(prefix=self.name_prefix)


def _require_range(setting: str, value: object, low: int, high: int, what: str, source: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(setting, value, f"{what} must be an integer from {low} to {high}", source)


def validate(config: StackConfig) -> None:
    """Raise ConfigError for the first setting outside its AWS limit."""
    if not isinstance(config.name_prefix, str) or not NAME_PREFIX_PATTERN.match(config.name_prefix):
        raise ConfigError(
            "name_prefix",
            config.name_prefix,
            "lowercase letters, digits and single hyphens, starting with a letter",
            S3_NAMING_DOC,
        )
    longest_prefix = max_prefix_length()
    if len(config.name_prefix) > longest_prefix:
        tightest = tightest_name(StackNames(config.name_prefix))
        raise ConfigError(
            "name_prefix",
            config.name_prefix,
            f"at most {longest_prefix} characters, so that every resource name keeps room for an "
            f"EnvironmentSuffix of {MIN_SUFFIX_LENGTH} within its AWS length limit (the tightest: "
            f"{tightest.pattern}, at most {tightest.max_length})",
            S3_NAMING_DOC,
        )
    deprecation = PYTHON_RUNTIME_DEPRECATION.get(config.runtime)
    if deprecation is None:
        raise ConfigError(
            "runtime",
            config.runtime,
            f"one of the supported Python runtimes {sorted(PYTHON_RUNTIME_DEPRECATION)}",
            RUNTIMES_DOC,
        )
    if deprecation - config.today < RUNTIME_DEPRECATION_MARGIN:
        raise ConfigError(
            "runtime",
            config.runtime,
            f"deprecated on {deprecation.isoformat()}, within {RUNTIME_DEPRECATION_MARGIN.days} days",
            RUNTIMES_DOC,
        )
    if config.architecture not in ARCHITECTURES:
        raise ConfigError(
            "architecture", config.architecture, "TapStack builds its artifact for arm64 only", RUNTIMES_DOC
        )
    for role, settings in config.function_settings().items():
        _require_range(
            f"{role}.memory_mb", settings.memory_mb, 128, 10240, "Lambda memory", LAMBDA_LIMITS_DOC
        )
        _require_range(
            f"{role}.timeout_seconds", settings.timeout_seconds, 1, 900, "Lambda timeout", LAMBDA_LIMITS_DOC
        )
    if config.receiver.timeout_seconds >= API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS:
        raise ConfigError(
            "receiver.timeout_seconds",
            config.receiver.timeout_seconds,
            f"the receiver answers API Gateway, whose integration timeout is "
            f"{API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s: use less than that",
            APIGW_LIMITS_DOC,
        )
    _require_range(
        "max_retry_attempts",
        config.max_retry_attempts,
        0,
        2,
        "asynchronous invocation MaximumRetryAttempts",
        ASYNC_INVOKE_DOC,
    )
    _require_range(
        "max_event_age_seconds",
        config.max_event_age_seconds,
        60,
        21600,
        "asynchronous invocation MaximumEventAgeInSeconds",
        ASYNC_INVOKE_DOC,
    )
    if config.default_log_retention_days not in LOG_RETENTION_DAYS:
        raise ConfigError(
            "default_log_retention_days",
            config.default_log_retention_days,
            f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION_DAYS))}",
            LOG_RETENTION_DOC,
        )
    _require_range(
        "default_reserved_concurrency",
        config.default_reserved_concurrency,
        0,
        1000,
        "reserved concurrency (0 = none; an account keeps at least 100 unreserved)",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
    )
    _require_range(
        "dlq_retention_seconds",
        config.dlq_retention_seconds,
        60,
        1_209_600,
        "SQS MessageRetentionPeriod",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html",
    )
    _require_range(
        "default_audit_retention_days",
        config.default_audit_retention_days,
        *AUDIT_RETENTION_DAYS_RANGE,
        "S3 lifecycle expiration days",
        S3_LIFECYCLE_DOC,
    )
    _require_range(
        "default_audit_noncurrent_retention_days",
        config.default_audit_noncurrent_retention_days,
        *AUDIT_RETENTION_DAYS_RANGE,
        "S3 lifecycle NoncurrentDays",
        S3_LIFECYCLE_DOC,
    )
    if not isinstance(config.api_stage_name, str) or not STAGE_NAME_PATTERN.match(config.api_stage_name):
        raise ConfigError(
            "api_stage_name",
            config.api_stage_name,
            "letters, digits and underscores, 1 to 128 characters",
            APIGW_LIMITS_DOC,
        )


FUNCTION_FIELDS = ("memory_mb", "timeout_seconds")


def config_from_mapping(settings: dict[str, Any], today: datetime.date | None = None) -> StackConfig:
    """Build a StackConfig from flat settings such as `receiver.timeout_seconds = 25`.

    Unknown settings are refused rather than ignored: a typo must not silently fall back to a default.
    """
    top_level: dict[str, Any] = {}
    per_function: dict[str, dict[str, Any]] = {}
    known_functions = {"receiver", "processor", "notifier"}
    known_fields = {field.name for field in dataclasses.fields(StackConfig)} - known_functions - {"today"}
    for key, value in settings.items():
        role, dot, field = key.partition(".")
        if dot and role in known_functions and field in FUNCTION_FIELDS:
            per_function.setdefault(role, {})[field] = value
        elif not dot and key in known_fields:
            top_level[key] = value
        else:
            raise ConfigError(key, value, "unknown setting", "generate.py --help")
    defaults = StackConfig.__dataclass_fields__
    for role, fields in per_function.items():
        default_settings: FunctionSettings = defaults[role].default  # type: ignore[assignment]
        top_level[role] = dataclasses.replace(default_settings, **fields)
    if today is not None:
        top_level["today"] = today
    return StackConfig(**top_level)


# Every setting generate.py accepts, with its type and the limit it is checked against.
SETTING_HELP: dict[str, tuple[type, str]] = {
    "name_prefix": (str, "prefix of every resource name (lowercase, default tapstack)"),
    "runtime": (
        str,
        f"Lambda runtime, one of {', '.join(PYTHON_RUNTIME_DEPRECATION)} not deprecated within a year",
    ),
    "architecture": (str, "Lambda architecture: arm64"),
    **{
        f"{role}.memory_mb": (int, f"{role} memory, 128-10240 MB (default 1024)")
        for role in ("receiver", "processor", "notifier")
    },
    "receiver.timeout_seconds": (int, "receiver timeout, 1-28 s: below API Gateway's 29 s (default 20)"),
    "processor.timeout_seconds": (int, "processor timeout, 1-900 s (default 30)"),
    "notifier.timeout_seconds": (int, "notifier timeout, 1-900 s (default 30)"),
    "max_retry_attempts": (int, "async retries of processor and notifier, 0-2 (default 2)"),
    "max_event_age_seconds": (int, "async event age, 60-21600 s (default 3600)"),
    "default_log_retention_days": (int, "LogRetentionDays default, a CloudWatch value (default 30)"),
    "default_reserved_concurrency": (int, "reserved concurrency parameter default, >= 0 (default 0 = none)"),
    "dlq_retention_seconds": (int, "dead-letter retention, 60-1209600 s (default 14 days)"),
    "default_audit_retention_days": (
        int,
        "AuditRetentionDays default: days payloads and access logs stay current, 1-36500 (default 2557)",
    ),
    "default_audit_noncurrent_retention_days": (
        int,
        "AuditNoncurrentRetentionDays default: days noncurrent versions stay, 1-36500 (default 365)",
    ),
    "api_stage_name": (str, "API stage name (default v1)"),
}


def settings_of(config: StackConfig) -> dict[str, Any]:
    """The config as flat settings, every one in SETTING_HELP: what `config_from_mapping` reads back."""
    settings: dict[str, Any] = {}
    for setting in SETTING_HELP:
        role, dot, field = setting.partition(".")
        owner = config.function_settings()[role] if dot else config
        settings[setting] = getattr(owner, field if dot else setting)
    return settings
