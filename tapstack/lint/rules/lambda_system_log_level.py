"""E9024: Lambda functions keep the platform START and REPORT lines: SystemLogLevel is not WARN.

Lambda's system log level decides which of its own log events reach the function's log group. At INFO,
the default, it sends the start and report messages of every invocation: duration, billed duration,
memory used and, after a cold start, init duration, under the invocation's request id. WARN drops them,
so a slow or cold-started invocation can no longer be found by its request id. DEBUG keeps them (and
more). Each `Fn::If` side and each value a parameter allows is judged; a parameter without
AllowedValues can be WARN at deploy time and is reported. Leaving SystemLogLevel out is fine (INFO).
"""

from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    resources,
    rule_match,
    violations,
)

# The system log levels at which Lambda still sends the start and report messages.
_KEEPS_START_AND_REPORT = frozenset({"DEBUG", "INFO"})


def _keeps_start_and_report(level: Any) -> bool:
    return level is NO_VALUE or level in _KEEPS_START_AND_REPORT


class LambdaSystemLogLevel(CloudFormationLintRule):
    id = "E9024"
    shortdesc = "Lambda SystemLogLevel keeps the START and REPORT lines"
    description = (
        "LoggingConfig.SystemLogLevel is INFO, DEBUG or not set (INFO), never WARN, also through Fn::If "
        "and parameter values: WARN drops each invocation's START and REPORT lines"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "logs", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for function in resources(cfn, "AWS::Lambda::Function"):
            found = function.lookup("LoggingConfig", "SystemLogLevel")
            matches.extend(
                rule_match(
                    violation.path,
                    f"AWS::Lambda::Function {function.name}: LoggingConfig.SystemLogLevel is "
                    f"{violation.found}; at WARN Lambda drops the START and REPORT lines (duration, memory, "
                    "init time of every invocation): set INFO, the default",
                )
                for violation in violations(found, cfn, _keeps_start_and_report)
            )
        return matches
