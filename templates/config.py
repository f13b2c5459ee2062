"""Generation-time settings: the registry of every setting, and the validated StackConfig built from them.

Everything here is decided when the template is generated. Settings an operator changes per deployment
(environment suffix, code location, reserved concurrency, retention, alarm e-mail, API throttling) are
CloudFormation parameters instead (see templates/parameters.py).

`SETTINGS` writes each setting once: its name, type, default, what it does, and its limits, each with
the AWS page it comes from. Validation, the `tapstack generate` flags and their help, the comments of
tapstack.toml and docs/configuration.md are all derived from it.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from handlers.providers.catalogue import CATALOGUE
from templates.naming import MIN_SUFFIX_LENGTH, StackNames, max_prefix_length, tightest_name

LAMBDA_LIMITS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
ASYNC_INVOKE_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"
RUNTIMES_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
APIGW_LIMITS_DOC = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
CONCURRENCY_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
SQS_ATTRIBUTES_DOC = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html"
)
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
FUNCTION_ROLES = ("receiver", "processor", "notifier", "reconciler")
BUILT_IN_PROVIDERS = ("stripe", "paypal", "generic")
"""The providers with their own modules and material (handlers.core.secrets)."""
KNOWN_PROVIDERS = BUILT_IN_PROVIDERS + tuple(CATALOGUE)
"""Every `/webhooks/{provider}` the receiver can verify: the built-in ones, then the catalogue's."""
PROVIDERS_DOC = "webhooks.md"


class ConfigError(ValueError):
    """A setting outside the range AWS (or TapStack) accepts."""

    def __init__(self, setting: str, value: object, limit: str, source: str) -> None:
        self.setting = setting
        self.value = value
        self.limit = limit
        self.source = source
        super().__init__(f"setting '{setting}' = {value!r} is invalid: {limit} (source: {source})")


@dataclass(frozen=True)
class Limit(ABC):
    """One rule a setting's value must meet: `text` says it (in errors, help and docs), `source` is the
    page it comes from."""

    source: str = dataclasses.field(kw_only=True)

    @property
    @abstractmethod
    def text(self) -> str: ...

    @abstractmethod
    def allows(self, value: Any, today: datetime.date) -> bool:
        """Whether `value` (of the setting's type) meets the limit in a template generated on `today`."""


@dataclass(frozen=True)
class FixedLimit(Limit):
    """A limit that is the same whatever the day."""

    @abstractmethod
    def admits(self, value: Any) -> bool: ...

    def allows(self, value: Any, today: datetime.date) -> bool:  # noqa: ARG002 (the same every day)
        return self.admits(value)


@dataclass(frozen=True)
class Between(FixedLimit):
    low: int
    high: int
    what: str

    @property
    def text(self) -> str:
        return f"{self.what} must be an integer from {self.low} to {self.high}"

    def admits(self, value: Any) -> bool:
        return bool(self.low <= value <= self.high)


@dataclass(frozen=True)
class Below(FixedLimit):
    bound: int
    reason: str

    @property
    def text(self) -> str:
        return f"{self.reason}: less than {self.bound}"

    def admits(self, value: Any) -> bool:
        return bool(value < self.bound)


@dataclass(frozen=True)
class OneOf(FixedLimit):
    values: tuple[object, ...]
    reason: str

    @property
    def text(self) -> str:
        return f"{self.reason}: {', '.join(map(str, self.values))}"

    def admits(self, value: Any) -> bool:
        return value in self.values


@dataclass(frozen=True)
class Matches(FixedLimit):
    pattern: re.Pattern[str]
    description: str

    @property
    def text(self) -> str:
        return self.description

    def admits(self, value: Any) -> bool:
        return self.pattern.match(value) is not None


@dataclass(frozen=True)
class AtMostCharacters(FixedLimit):
    length: int
    reason: str

    @property
    def text(self) -> str:
        return f"at most {self.length} characters, {self.reason}"

    def admits(self, value: Any) -> bool:
        return len(value) <= self.length


@dataclass(frozen=True)
class NamesFrom(FixedLimit):
    """A comma-separated list of distinct names, each one of `names`."""

    names: tuple[str, ...]
    what: str

    @property
    def text(self) -> str:
        return f"comma-separated distinct {self.what}, at least one, of: {', '.join(self.names)}"

    def admits(self, value: Any) -> bool:
        listed = value.split(",")
        return bool(listed) and len(set(listed)) == len(listed) and set(listed) <= set(self.names)


@dataclass(frozen=True)
class NotDeprecatedSoon(Limit):
    """A runtime is refused when its deprecation is within `margin` of the day the template is generated."""

    deprecations: dict[str, datetime.date]
    margin: datetime.timedelta

    @property
    def text(self) -> str:
        dates = ", ".join(f"{runtime} on {date.isoformat()}" for runtime, date in self.deprecations.items())
        return f"not deprecated within {self.margin.days} days of generating (deprecated: {dates})"

    def allows(self, value: Any, today: datetime.date) -> bool:
        deprecation = self.deprecations.get(value)
        return deprecation is None or deprecation - today >= self.margin


@dataclass(frozen=True)
class Setting:
    """One generation-time setting, the single place its type, default, purpose and limits are written."""

    name: str
    """As tapstack.toml and the template's metadata spell it: `receiver.timeout_seconds` is `timeout_seconds`
    in the `[receiver]` table."""
    kind: type[int] | type[str]
    default: int | str
    summary: str
    limits: tuple[Limit, ...]

    KIND_NAMES: ClassVar[dict[type, str]] = {int: "integer", str: "string"}

    @property
    def flag(self) -> str:
        return "--" + self.name.replace(".", "-").replace("_", "-")

    @property
    def kind_name(self) -> str:
        return self.KIND_NAMES[self.kind]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(limit.source for limit in self.limits))

    @property
    def description(self) -> str:
        """What it does, its limits and its default: the flag's help and the settings file's comment."""
        limits = "; ".join(limit.text for limit in self.limits)
        return f"{self.summary}. Limits: {limits}. Default: {self.default}."

    def check(self, value: object, today: datetime.date) -> None:
        """Raise ConfigError naming the first limit `value` is outside (a bool is no integer)."""
        if not isinstance(value, self.kind) or isinstance(value, bool):
            first = self.limits[0]
            raise ConfigError(self.name, value, f"{first.text}, of type {self.kind_name}", first.source)
        for limit in self.limits:
            if not limit.allows(value, today):
                raise ConfigError(self.name, value, limit.text, limit.source)


def _prefix_length_limit() -> AtMostCharacters:
    tightest = tightest_name(StackNames("<prefix>"))
    return AtMostCharacters(
        max_prefix_length(),
        f"so that every resource name keeps room for an EnvironmentSuffix of {MIN_SUFFIX_LENGTH} within "
        f"its AWS length limit (the tightest: {tightest.pattern}, at most {tightest.max_length})",
        source=S3_NAMING_DOC,
    )


def _registry(*settings: Setting) -> dict[str, Setting]:
    return {setting.name: setting for setting in settings}


LAMBDA_TIMEOUT = Between(1, 900, "Lambda timeout", source=LAMBDA_LIMITS_DOC)

SETTINGS = _registry(
    Setting(
        name="name_prefix",
        kind=str,
        default="tapstack",
        summary="The prefix of every resource name, export and stack name",
        limits=(
            Matches(
                NAME_PREFIX_PATTERN,
                "lowercase letters, digits and single hyphens, starting with a letter",
                source=S3_NAMING_DOC,
            ),
            _prefix_length_limit(),
        ),
    ),
    Setting(
        name="runtime",
        kind=str,
        default="python3.13",
        summary="The Lambda runtime of the functions",
        limits=(
            OneOf(
                tuple(PYTHON_RUNTIME_DEPRECATION), "one of the supported Python runtimes", source=RUNTIMES_DOC
            ),
            NotDeprecatedSoon(PYTHON_RUNTIME_DEPRECATION, RUNTIME_DEPRECATION_MARGIN, source=RUNTIMES_DOC),
        ),
    ),
    Setting(
        name="architecture",
        kind=str,
        default="arm64",
        summary="The Lambda architecture of the functions",
        limits=(
            OneOf(ARCHITECTURES, "the architectures TapStack builds its artifact for", source=RUNTIMES_DOC),
        ),
    ),
    *(
        Setting(
            name=f"{role}.memory_mb",
            kind=int,
            default=1024,
            summary=f"The {role} function's memory in MB (CPU grows with it)",
            limits=(Between(128, 10240, "Lambda memory", source=LAMBDA_LIMITS_DOC),),
        )
        for role in FUNCTION_ROLES
    ),
    Setting(
        name="receiver.timeout_seconds",
        kind=int,
        default=20,
        summary="The receiver function's timeout in seconds",
        limits=(
            LAMBDA_TIMEOUT,
            Below(
                API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS,
                "the receiver answers API Gateway, whose integration timeout is "
                f"{API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s",
                source=APIGW_LIMITS_DOC,
            ),
        ),
    ),
    *(
        Setting(
            name=f"{role}.timeout_seconds",
            kind=int,
            default=30,
            summary=f"The {role} function's timeout in seconds",
            limits=(LAMBDA_TIMEOUT,),
        )
        for role in ("processor", "notifier")
    ),
    Setting(
        name="reconciler.timeout_seconds",
        kind=int,
        default=300,
        summary="The reconciler function's timeout in seconds; each run stops listing 10 s before it and "
        "the next run resumes from the stored cursor",
        limits=(LAMBDA_TIMEOUT,),
    ),
    Setting(
        name="max_retry_attempts",
        kind=int,
        default=2,
        summary="How often Lambda retries a failed asynchronous invocation of the processor and the notifier",
        limits=(Between(0, 2, "asynchronous invocation MaximumRetryAttempts", source=ASYNC_INVOKE_DOC),),
    ),
    Setting(
        name="max_event_age_seconds",
        kind=int,
        default=3600,
        summary="How long Lambda retries an asynchronous event before it goes to the dead-letter queue",
        limits=(
            Between(60, 21600, "asynchronous invocation MaximumEventAgeInSeconds", source=ASYNC_INVOKE_DOC),
        ),
    ),
    Setting(
        name="default_log_retention_days",
        kind=int,
        default=30,
        summary="The default of the LogRetentionDays parameter: days the log groups keep their events",
        limits=(OneOf(LOG_RETENTION_DAYS, "the values CloudWatch Logs accepts", source=LOG_RETENTION_DOC),),
    ),
    Setting(
        name="default_reserved_concurrency",
        kind=int,
        default=0,
        summary="The default of the reserved-concurrency parameters (0 reserves nothing)",
        limits=(
            Between(
                0,
                1000,
                "reserved concurrency (0 = none; an account keeps at least 100 unreserved)",
                source=CONCURRENCY_DOC,
            ),
        ),
    ),
    Setting(
        name="dlq_retention_seconds",
        kind=int,
        default=1_209_600,
        summary="How long the dead-letter queues keep a message, in seconds",
        limits=(Between(60, 1_209_600, "SQS MessageRetentionPeriod", source=SQS_ATTRIBUTES_DOC),),
    ),
    Setting(
        name="default_audit_retention_days",
        kind=int,
        # Seven years (2,557 days with two leap days), a common record-keeping period for payment records.
        default=2557,
        summary="The default of the AuditRetentionDays parameter: days payloads and access logs stay current",
        limits=(
            Between(*AUDIT_RETENTION_DAYS_RANGE, "S3 lifecycle expiration days", source=S3_LIFECYCLE_DOC),
        ),
    ),
    Setting(
        name="default_audit_noncurrent_retention_days",
        kind=int,
        default=365,
        summary="The default of the AuditNoncurrentRetentionDays parameter: days noncurrent versions stay",
        limits=(
            Between(*AUDIT_RETENTION_DAYS_RANGE, "S3 lifecycle NoncurrentDays", source=S3_LIFECYCLE_DOC),
        ),
    ),
    Setting(
        name="providers",
        kind=str,
        # Every provider: one not configured in the secret answers 401 `provider_not_configured`, so
        # accepting it exposes nothing, and a team adds a provider by putting its keys in the secret,
        # without generating and deploying again.
        default=",".join(KNOWN_PROVIDERS),
        summary=(
            "The providers whose /webhooks/{provider} routes the stack accepts: the receiver's routes, "
            "the URL outputs, the secret's placeholders and the signature headers the WAF redacts"
        ),
        limits=(NamesFrom(KNOWN_PROVIDERS, "provider names", source=PROVIDERS_DOC),),
    ),
    Setting(
        name="api_stage_name",
        kind=str,
        default="v1",
        summary="The API Gateway stage name, the first segment of every webhook path",
        limits=(
            Matches(
                STAGE_NAME_PATTERN,
                "letters, digits and underscores, 1 to 128 characters",
                source=APIGW_LIMITS_DOC,
            ),
        ),
    ),
)
"""Every setting `tapstack generate` accepts, by name."""


DEFAULTS: dict[str, int | str] = {name: setting.default for name, setting in SETTINGS.items()}


def _default(name: str) -> Any:
    return DEFAULTS[name]


@dataclass(frozen=True)
class FunctionSettings:
    """Per-function Lambda settings."""

    memory_mb: int
    timeout_seconds: int


FUNCTION_FIELDS = tuple(field.name for field in dataclasses.fields(FunctionSettings))


def _function_settings(settings: Mapping[str, Any], role: str) -> FunctionSettings:
    """The role's FunctionSettings from flat settings (`receiver.memory_mb`, ...)."""
    return FunctionSettings(**{field: settings[f"{role}.{field}"] for field in FUNCTION_FIELDS})


@dataclass(frozen=True)
class StackConfig:
    """The validated generation-time settings of one TapStack template; the defaults are SETTINGS'."""

    name_prefix: str = _default("name_prefix")
    runtime: str = _default("runtime")
    architecture: str = _default("architecture")
    receiver: FunctionSettings = dataclasses.field(
        default_factory=partial(_function_settings, DEFAULTS, "receiver")
    )
    processor: FunctionSettings = dataclasses.field(
        default_factory=partial(_function_settings, DEFAULTS, "processor")
    )
    notifier: FunctionSettings = dataclasses.field(
        default_factory=partial(_function_settings, DEFAULTS, "notifier")
    )
    reconciler: FunctionSettings = dataclasses.field(
        default_factory=partial(_function_settings, DEFAULTS, "reconciler")
    )
    max_retry_attempts: int = _default("max_retry_attempts")
    max_event_age_seconds: int = _default("max_event_age_seconds")
    default_log_retention_days: int = _default("default_log_retention_days")
    default_reserved_concurrency: int = _default("default_reserved_concurrency")
    dlq_retention_seconds: int = _default("dlq_retention_seconds")
    default_audit_retention_days: int = _default("default_audit_retention_days")
    default_audit_noncurrent_retention_days: int = _default("default_audit_noncurrent_retention_days")
    api_stage_name: str = _default("api_stage_name")
    providers: str = _default("providers")
    today: datetime.date = dataclasses.field(default_factory=datetime.date.today, compare=False)

    def __post_init__(self) -> None:
        validate(self)

    def function_settings(self) -> dict[str, FunctionSettings]:
        """The functions' settings by role name."""
        return {role: getattr(self, role) for role in FUNCTION_ROLES}

    @property
    def accepted_providers(self) -> tuple[str, ...]:
        """The `providers` setting's names, in its order."""
        return tuple(self.providers.split(","))

    @property
    def catalogue_providers(self) -> tuple[str, ...]:
        """The accepted providers that are the catalogue's (handlers.providers.catalogue)."""
        return tuple(name for name in self.accepted_providers if name in CATALOGUE)

    def names(self) -> StackNames:
        """Every resource name of the stack, from the name prefix."""
        return StackNames(prefix=self.name_prefix)


def validate(config: StackConfig) -> None:
    """Raise ConfigError for the first setting outside its limits."""
    for name, value in settings_of(config).items():
        SETTINGS[name].check(value, config.today)


def config_from_mapping(settings: dict[str, Any], today: datetime.date | None = None) -> StackConfig:
    """Build a StackConfig from flat settings such as `receiver.timeout_seconds = 25`.

    Unknown settings are refused rather than ignored: a typo must not silently fall back to a default.
    """
    for name, value in settings.items():
        if name not in SETTINGS:
            raise ConfigError(name, value, "unknown setting", "docs/configuration.md")
    values = DEFAULTS | settings
    fields: dict[str, Any] = {name: value for name, value in values.items() if "." not in name}
    fields |= {role: _function_settings(values, role) for role in FUNCTION_ROLES}
    if today is not None:
        fields["today"] = today
    return StackConfig(**fields)


def settings_of(config: StackConfig) -> dict[str, Any]:
    """The config as flat settings, one per entry of SETTINGS: what `config_from_mapping` reads back."""
    settings: dict[str, Any] = {}
    for name in SETTINGS:
        role, dot, field = name.partition(".")
        owner = config.function_settings()[role] if dot else config
        settings[name] = getattr(owner, field if dot else name)
    return settings
