"""Resource names: every name AWS lets us set carries the EnvironmentSuffix.

Each name is declared once with its AWS length limit. The EnvironmentSuffix parameter's MaxLength is
derived from the tightest of them, so any suffix CloudFormation accepts yields names AWS accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from troposphere import Sub

from templates.contract import (
    ASYNCHRONOUS_ROLES,
    ROLES,
    SUFFIX_PARAMETER,
    TRANSACTIONS_TABLE_ARN,
    name_prefix_of,
)

SUFFIX_PLACEHOLDER = "${" + SUFFIX_PARAMETER + "}"
# Longest values of the pseudo parameters some names include (12-digit account ids; the longest region
# names such as ap-southeast-5 have 14 characters).
PSEUDO_PARAMETER_LENGTHS = {"${AWS::AccountId}": 12, "${AWS::Region}": 14}
# The suffix must start with a letter or digit; CloudFormation enforces the pattern before any name is built.
SUFFIX_PATTERN = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
# The webhook providers that publish the address ranges they deliver from, so the WAF can allow-list
# them: route segment (`/webhooks/<segment>`) -> the provider's name as written.
SOURCE_ALLOW_LISTED_PROVIDERS = {"stripe": "Stripe", "paypal": "PayPal"}


@dataclass(frozen=True)
class Name:
    """A resource name pattern (a Fn::Sub string) and the AWS limit on its length."""

    pattern: str
    max_length: int

    def fixed_length(self) -> int:
        """Length of the name without the suffix, with pseudo parameters at their longest."""
        text = self.pattern.replace(SUFFIX_PLACEHOLDER, "")
        for placeholder, length in PSEUDO_PARAMETER_LENGTHS.items():
            text = text.replace(placeholder, "x" * length)
        return len(text)

    def sub(self) -> Sub:
        """The name as a CloudFormation Fn::Sub."""
        return Sub(self.pattern)

    def for_suffix(self, suffix: str) -> str:
        """The name in the environment `suffix`; only names without pseudo parameters are known so."""
        if any(placeholder in self.pattern for placeholder in PSEUDO_PARAMETER_LENGTHS):
            raise ValueError(f"{self.pattern} needs the account and region, not only the suffix")
        return self.pattern.replace(SUFFIX_PLACEHOLDER, suffix)


@dataclass(frozen=True)
class StackNames:
    """All names of one stack, derived from the configured prefix."""

    prefix: str

    @property
    def stack(self) -> Name:
        """The stack's own name, `<prefix>-<EnvironmentSuffix>`; its export names start with it."""
        return Name(f"{self.prefix}-{SUFFIX_PLACEHOLDER}", 128)

    @property
    def bootstrap_stack(self) -> str:
        """The artifact-bucket stack, one per prefix, account and region."""
        return f"{self.prefix}-bootstrap"

    def function(self, role: str) -> Name:
        return Name(f"{self.prefix}-{role}-{SUFFIX_PLACEHOLDER}", 64)

    def function_role(self, role: str) -> Name:
        # IAM is global: the region keeps the same suffix deployable in two regions.
        return Name(f"{self.prefix}-{role}-{SUFFIX_PLACEHOLDER}-${{AWS::Region}}", 64)

    def function_log_group(self, role: str) -> Name:
        return Name(f"/aws/lambda/{self.function(role).pattern}", 512)

    def dead_letter_queue(self, role: str) -> Name:
        return Name(f"{self.prefix}-{role}-dlq-{SUFFIX_PLACEHOLDER}", 80)

    @property
    def table(self) -> Name:
        return Name(f"{self.prefix}-transactions-{SUFFIX_PLACEHOLDER}", 255)

    @property
    def objects_table(self) -> Name:
        return Name(f"{self.prefix}-objects-{SUFFIX_PLACEHOLDER}", 255)

    @property
    def reconciliation_table(self) -> Name:
        return Name(f"{self.prefix}-reconciliation-{SUFFIX_PLACEHOLDER}", 255)

    @property
    def reconcile_schedule(self) -> Name:
        return Name(f"{self.prefix}-reconcile-{SUFFIX_PLACEHOLDER}", 64)

    @property
    def scheduler_role(self) -> Name:
        # IAM is global: the region keeps the same suffix deployable in two regions.
        return Name(f"{self.prefix}-scheduler-{SUFFIX_PLACEHOLDER}-${{AWS::Region}}", 64)

    @property
    def audit_bucket(self) -> Name:
        # Bucket names are global: account and region make them unique.
        return Name(f"{self.prefix}-audit-{SUFFIX_PLACEHOLDER}-${{AWS::AccountId}}-${{AWS::Region}}", 63)

    @property
    def access_log_bucket(self) -> Name:
        return Name(f"{self.prefix}-access-{SUFFIX_PLACEHOLDER}-${{AWS::AccountId}}-${{AWS::Region}}", 63)

    @property
    def key_alias(self) -> Name:
        return Name(f"alias/{self.prefix}-{SUFFIX_PLACEHOLDER}", 256)

    @property
    def events_topic(self) -> Name:
        return Name(f"{self.prefix}-payment-events-{SUFFIX_PLACEHOLDER}", 256)

    @property
    def events_fifo_topic(self) -> Name:
        # SNS requires a FIFO topic's name to end in ".fifo".
        return Name(f"{self.prefix}-payment-events-{SUFFIX_PLACEHOLDER}.fifo", 256)

    @property
    def alarm_topic(self) -> Name:
        return Name(f"{self.prefix}-alarms-{SUFFIX_PLACEHOLDER}", 256)

    @property
    def webhook_secret(self) -> Name:
        return Name(f"{self.prefix}/{SUFFIX_PLACEHOLDER}/webhook-secrets", 512)

    @property
    def api(self) -> Name:
        return Name(f"{self.prefix}-webhooks-{SUFFIX_PLACEHOLDER}", 1024)

    @property
    def api_access_log_group(self) -> Name:
        return Name(f"/aws/apigateway/{self.prefix}-webhooks-{SUFFIX_PLACEHOLDER}/access", 512)

    @property
    def api_key(self) -> Name:
        return Name(f"{self.prefix}-internal-clients-{SUFFIX_PLACEHOLDER}", 1024)

    @property
    def usage_plan(self) -> Name:
        return Name(f"{self.prefix}-internal-clients-{SUFFIX_PLACEHOLDER}", 1024)

    @property
    def web_acl(self) -> Name:
        """The web ACL in front of the API; also its metric name, the WebACL dimension of its metrics."""
        return Name(f"{self.prefix}-webhooks-{SUFFIX_PLACEHOLDER}", 128)

    def waf_source_ip_set(self, provider: str) -> Name:
        """The IP set of `provider`'s published source ranges."""
        return Name(f"{self.prefix}-{provider}-sources-{SUFFIX_PLACEHOLDER}", 128)

    @property
    def waf_log_group(self) -> Name:
        """WAF logs only to log groups named `aws-waf-logs-...`; `aws-waf-logs-<stack>` is also the name
        destroy checks for leftovers (tapstack/operate/destroy.py)."""
        return Name(f"aws-waf-logs-{self.stack.pattern}", 512)

    @property
    def dashboard(self) -> Name:
        """CloudWatch dashboard names take letters, digits, `-` and `_`."""
        return Name(f"{self.prefix}-{SUFFIX_PLACEHOLDER}", 255)

    def alarm(self, what: str) -> Name:
        return Name(f"{self.prefix}-{SUFFIX_PLACEHOLDER}-{what}", 255)

    def export(self, output_key: str) -> Name:
        return Name(f"{self.stack.pattern}-{output_key}", 255)

    def all_names(self) -> list[Name]:
        """Every name pattern the stack uses that has a fixed length budget."""
        per_role = [
            name
            for role in ROLES
            for name in (self.function(role), self.function_role(role), self.function_log_group(role))
        ]
        queues = [self.dead_letter_queue(role) for role in ASYNCHRONOUS_ROLES]
        singles = [
            self.stack,
            self.table,
            self.objects_table,
            self.reconciliation_table,
            self.reconcile_schedule,
            self.scheduler_role,
            self.audit_bucket,
            self.access_log_bucket,
            self.key_alias,
            self.events_topic,
            self.events_fifo_topic,
            self.alarm_topic,
            self.webhook_secret,
            self.api,
            self.api_access_log_group,
            self.api_key,
            self.usage_plan,
            self.web_acl,
            *(self.waf_source_ip_set(provider) for provider in SOURCE_ALLOW_LISTED_PROVIDERS),
            self.waf_log_group,
            self.dashboard,
            # The longest alarm and export names the stack builds.
            self.alarm("processor-dead-letters"),
            self.export(TRANSACTIONS_TABLE_ARN),
        ]
        return per_role + queues + singles


MIN_SUFFIX_LENGTH = 4
"""The shortest EnvironmentSuffix a name prefix must leave room for: `prod`, `test`, `dev1`."""


def max_prefix_length() -> int:
    """The longest name prefix that leaves MIN_SUFFIX_LENGTH characters for the suffix in every name."""
    length = 1
    while max_suffix_length(StackNames("p" * (length + 1))) >= MIN_SUFFIX_LENGTH:
        length += 1
    return length


def tightest_name(names: StackNames) -> Name:
    """The name that leaves the least room for the suffix: it sets the limits."""
    return min(names.all_names(), key=lambda name: name.max_length - name.fixed_length())


def max_suffix_length(names: StackNames) -> int:
    """The longest EnvironmentSuffix for which every name fits its AWS limit."""
    return min(name.max_length - name.fixed_length() for name in names.all_names())


def names_of(template: Mapping[str, Any]) -> StackNames:
    """The names a generated template (as JSON) was built with, from the settings it records
    (templates/contract.py); the stack commands find their stacks by them. LookupError for any other."""
    return StackNames(name_prefix_of(template))
