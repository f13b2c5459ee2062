"""E9030: asynchronous invocation settings stay inside Lambda's limits and failures go somewhere.

Seed failure prevented: seed 000 "AWS Lambda Retry Limits Exceeded": `maximum_retry_attempts=5`, where
Lambda allows 0-2 retries ("expected maximum_retry_attempts to be in the range (0 - 2), got 5"); the event
age is likewise limited to 60-21600 seconds. cfn-lint's E3034 checks literals; this rule also resolves
`Fn::If` sides and `Ref` to parameters (their AllowedValues or MinValue/MaxValue: a parameter without
bounds lets the deployer pass 5 again) and runs whether or not E3034 is enabled.
It also requires `DestinationConfig.OnFailure.Destination`: an asynchronously invoked function (one with
an AWS::Lambda::EventInvokeConfig) otherwise drops an event silently after its last retry.
Leaving MaximumRetryAttempts or MaximumEventAgeInSeconds out is fine: Lambda's defaults (2, 21600) fit.
"""

from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    describe,
    number_range,
    parameter_values,
    resources,
    rule_match,
    string_forms,
    unset,
)

# Property -> inclusive limits, from the Lambda asynchronous invocation documentation.
_LIMITS = {"MaximumRetryAttempts": (0, 2), "MaximumEventAgeInSeconds": (60, 21600)}


def _limit_problem(value: Any, low: int, high: int, cfn: Template) -> str | None:
    """What `value` (one Fn::If side) can be and what to do, or None when it stays within low..high."""
    if value is NO_VALUE:
        return None
    span = number_range(value, cfn)
    parameter = parameter_values(value, cfn)
    if span is None:
        return f"{describe(value)}, which cannot be checked; use a literal number within {low}-{high}"
    if span.within(low, high):
        return None
    if parameter is None:
        return f"{span.describe()}; use a value within {low}-{high}"
    return (
        f"parameter {parameter.name}, which can be {span.describe()}; give it MinValue {low} and "
        f"MaxValue {high} (or AllowedValues within them) and a Default within them"
    )


class AsyncInvokeConfig(CloudFormationLintRule):
    id = "E9030"
    shortdesc = "Async invoke configs keep Lambda's retry/event-age limits and an on-failure destination"
    description = (
        "AWS::Lambda::EventInvokeConfig: MaximumRetryAttempts within 0-2, MaximumEventAgeInSeconds within "
        "60-21600 (also through Fn::If and parameters), and DestinationConfig.OnFailure.Destination set"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for config in resources(cfn, "AWS::Lambda::EventInvokeConfig"):
            function = " or ".join(string_forms(config.properties.get("FunctionName", NO_VALUE))) or "?"
            context = f"AWS::Lambda::EventInvokeConfig {config.name} (function {function})"
            for property_name, (low, high) in _LIMITS.items():
                for branch in config.lookup(property_name):
                    problem = _limit_problem(branch.value, low, high, cfn)
                    if problem is not None:
                        matches.append(
                            rule_match(
                                branch.path,
                                f"{context}: {property_name} is {problem} (Lambda accepts {low}-{high} only)",
                            )
                        )
            matches.extend(
                rule_match(
                    branch.path,
                    f"{context}: DestinationConfig.OnFailure.Destination is not set; send failed "
                    "asynchronous events to a queue or topic (Fn::GetAtt <DLQ>.Arn) so none is lost "
                    "after the last retry",
                )
                for branch in unset(config.lookup("DestinationConfig", "OnFailure", "Destination"))
            )
        return matches
