"""E9021: each Lambda function has its log group in the template, created before the function.

Seed failures prevented: seed 000 and 003 left the log groups to Lambda, which creates
`/aws/lambda/<name>` on first write with no retention and no KMS key, and which the stack then cannot
delete or configure (a later explicit log group of that name fails with "already exists"). seed 004
names the fix that worked: an explicit log group and a `DependsOn` from the function to it.

A function's log group is the AWS::Logs::LogGroup that `LoggingConfig.LogGroup` names (`Ref` to it or
the same name) or, without LoggingConfig, the one named `/aws/lambda/<FunctionName>`: names are compared
as the Fn::Sub strings they render to, so `Fn::Sub "/aws/lambda/receiver-${EnvironmentSuffix}"` matches
`FunctionName: Fn::Sub "receiver-${EnvironmentSuffix}"` and `Fn::Join ["", ["/aws/lambda/", Ref Fn]]`
matches the function itself. The function must depend on it (DependsOn, or a Ref/GetAtt/Sub to it), or
Lambda can write the first logs before the group exists. E9022 checks the group's retention and key.
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    Resource,
    RuleMatch,
    Template,
    referenced_names,
    resources,
    rule_match,
    string_forms,
)

_LAMBDA_LOG_PREFIX = "/aws/lambda/"


def _log_group_names(log_group: Resource) -> set[str]:
    """The names a log group can have; `${LogGroup}` is how a `Ref` to it reads."""
    return {*string_forms(log_group.properties.get("LogGroupName", NO_VALUE)), "${" + log_group.name + "}"}


def _expected_log_group_names(function: Resource) -> set[str]:
    logging_config_groups = function.string_forms("LoggingConfig", "LogGroup")
    if logging_config_groups:
        return set(logging_config_groups)
    function_names = function.string_forms("FunctionName")
    # `${Function}` is the function's Ref, i.e. its name, however that name is set.
    return {_LAMBDA_LOG_PREFIX + name for name in [*function_names, "${" + function.name + "}"]}


class LambdaLogGroup(CloudFormationLintRule):
    id = "E9021"
    shortdesc = "Lambda functions depend on an explicit log group"
    description = (
        "Each AWS::Lambda::Function has an AWS::Logs::LogGroup named /aws/lambda/<function name> (or the "
        "one LoggingConfig.LogGroup names) in the template, and depends on it"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "logs", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        log_groups = resources(cfn, "AWS::Logs::LogGroup")
        for function in resources(cfn, "AWS::Lambda::Function"):
            expected = _expected_log_group_names(function)
            own_groups = [group for group in log_groups if _log_group_names(group) & expected]
            dependencies = function.depends_on() | referenced_names(function.properties)
            if not own_groups:
                matches.append(
                    rule_match(
                        function.path,
                        f"AWS::Lambda::Function {function.name}: no AWS::Logs::LogGroup in the template is "
                        f"named {' or '.join(sorted(expected))}; add one (built with the same Fn::Sub as "
                        "FunctionName, with RetentionInDays and KmsKeyId) and list it in the function's "
                        "DependsOn, so Lambda does not create an unencrypted, never-expiring group itself",
                    )
                )
            elif not any(group.name in dependencies for group in own_groups):
                group = own_groups[0]
                advice = (
                    f"its name refers to the function, so the function cannot depend on it: set "
                    f"FunctionName and name {group.name} with the same Fn::Sub, then add it to DependsOn"
                    if function.name in referenced_names(group.properties)
                    else f"add {group.name} to the function's DependsOn"
                )
                matches.append(
                    rule_match(
                        function.path,
                        f"AWS::Lambda::Function {function.name}: does not depend on its log group "
                        f"{group.name}, so its first invocations can create the group before the stack "
                        f"does; {advice}",
                    )
                )
        return matches
