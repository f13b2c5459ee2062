"""E9031: an asynchronously invoked function has one failure path, its on-failure destination.

Lambda sends a discarded asynchronous event to the function's dead-letter queue (`DeadLetterConfig`) and
to its on-failure destination (`AWS::Lambda::EventInvokeConfig` `DestinationConfig.OnFailure`) alike:
AWS documents destinations as usable in addition to a dead-letter queue. With both, every failure leaves
two messages in two shapes, the bare event and the invocation record, so alarms count it twice and a
replay of the queue runs it twice. The invocation record carries the request and the error, so the
destination is the path to keep (E9030 requires it) and any `DeadLetterConfig.TargetArn` is reported,
on every `Fn::If` side; an empty TargetArn sets no queue. A function without an EventInvokeConfig is
reported too: a dead-letter queue only serves asynchronous invocations, whose failures belong in an
on-failure destination.
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    Resource,
    RuleMatch,
    Template,
    describe,
    resources,
    rule_match,
    string_forms,
)


def _invoke_configs(function: Resource, configs: list[Resource]) -> list[str]:
    """The EventInvokeConfigs whose FunctionName is the function (its Ref, Arn or name)."""
    names = {"${" + function.name + "}", "${" + function.name + ".Arn}"}
    names.update(function.string_forms("FunctionName"))
    return [
        config.name
        for config in configs
        if names & set(string_forms(config.properties.get("FunctionName", NO_VALUE)))
    ]


class AsyncFailurePath(CloudFormationLintRule):
    id = "E9031"
    shortdesc = "Asynchronous failures go to an on-failure destination only, not also a DeadLetterConfig"
    description = (
        "No AWS::Lambda::Function sets DeadLetterConfig.TargetArn (also through Fn::If): failed "
        "asynchronous events go to the EventInvokeConfig OnFailure destination only, one record each"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        configs = resources(cfn, "AWS::Lambda::EventInvokeConfig")
        for function in resources(cfn, "AWS::Lambda::Function"):
            dead_letter_queues = [
                branch
                for branch in function.lookup("DeadLetterConfig", "TargetArn")
                if branch.value is not NO_VALUE and branch.value != ""
            ]
            if not dead_letter_queues:
                continue
            own_configs = _invoke_configs(function, configs)
            consequence = (
                f"with the OnFailure destination of {' and '.join(own_configs)}, Lambda sends each "
                "discarded event twice, as the bare event and as the invocation record"
                if own_configs
                else "the queue gets the bare event only, without the request context and error of an "
                "invocation record"
            )
            matches.extend(
                rule_match(
                    branch.path,
                    f"AWS::Lambda::Function {function.name}: DeadLetterConfig.TargetArn is "
                    f"{' or '.join(string_forms(branch.value)) or describe(branch.value)}; {consequence}. "
                    "Remove DeadLetterConfig and route failures through an AWS::Lambda::EventInvokeConfig "
                    "DestinationConfig.OnFailure only",
                )
                for branch in dead_letter_queues
            )
        return matches
