"""E9023: a stage with execution logging has its `API-Gateway-Execution-Logs_` log group in the template.

With a `MethodSettings` LoggingLevel of ERROR or INFO, API Gateway writes a stage's execution logs to
`API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}` and creates that log group itself when it does not
exist: unencrypted, never expiring, and not the stack's, so deleting the stack leaves it behind. So the
AWS::ApiGateway::Stage needs an AWS::Logs::LogGroup of that name in the template (names are compared as
the Fn::Sub strings they render to: `API-Gateway-Execution-Logs_${Api}/prod` for `RestApiId: Ref Api`
and `StageName: prod`) and must depend on it, or the first logged request can create the group before
the stack does. E9022 checks the group's retention and key, E9001 that it is deleted with the stack.
LoggingLevel is judged on every `Fn::If` side and by the values a parameter allows; a value that cannot
be resolved may be ERROR or INFO and counts as logging.
"""

from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    Branch,
    CloudFormationLintRule,
    Resource,
    RuleMatch,
    Template,
    elements,
    lookup,
    possible_literals,
    referenced_names,
    resources,
    rule_match,
)

_EXECUTION_LOG_GROUP_PREFIX = "API-Gateway-Execution-Logs_"
_LOGGING_LEVELS = frozenset({"ERROR", "INFO"})


def _may_log(level: Any, cfn: Template) -> bool:
    if level is NO_VALUE:
        return False
    literals = possible_literals(level, cfn)
    return literals is None or any(str(literal).upper() in _LOGGING_LEVELS for literal in literals)


def _logging_levels(stage: Resource, cfn: Template) -> list[Branch]:
    """The outcomes of every MethodSettings entry's LoggingLevel that can turn execution logging on."""
    return [
        level
        for setting in elements(stage.lookup("MethodSettings"))
        if setting.value is not NO_VALUE
        for level in lookup(setting.value, setting.path, "LoggingLevel")
        if _may_log(level.value, cfn)
    ]


def _expected_names(stage: Resource) -> set[str]:
    return {
        f"{_EXECUTION_LOG_GROUP_PREFIX}{api}/{stage_name}"
        for api in stage.string_forms("RestApiId")
        for stage_name in stage.string_forms("StageName")
    }


class ApiExecutionLogGroup(CloudFormationLintRule):
    id = "E9023"
    shortdesc = "Stages with execution logging declare their API-Gateway-Execution-Logs_ log group"
    description = (
        "An AWS::ApiGateway::Stage whose MethodSettings LoggingLevel can be ERROR or INFO has an "
        "AWS::Logs::LogGroup named API-Gateway-Execution-Logs_<RestApiId>/<StageName> and depends on it"
    )
    source_url = (
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-execution-logging.html"
    )
    tags: ClassVar[list[str]] = ["resources", "apigateway", "logs", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        log_groups = resources(cfn, "AWS::Logs::LogGroup")
        for stage in resources(cfn, "AWS::ApiGateway::Stage"):
            levels = _logging_levels(stage, cfn)
            if not levels:
                continue
            expected = _expected_names(stage)
            own_groups = [
                group.name for group in log_groups if expected & set(group.string_forms("LogGroupName"))
            ]
            context = f"AWS::ApiGateway::Stage {stage.name}: execution logging can be on"
            wanted = " or ".join(sorted(expected)) or f"{_EXECUTION_LOG_GROUP_PREFIX}<RestApiId>/<StageName>"
            if not own_groups:
                matches.append(
                    rule_match(
                        levels[0].path,
                        f"{context}, and no AWS::Logs::LogGroup in the template is named {wanted}; API "
                        "Gateway would create it unencrypted, never expiring and outside the stack: declare "
                        "it (Fn::Sub of the RestApi's Ref and the stage name, with RetentionInDays and "
                        "KmsKeyId) and list it in the stage's DependsOn",
                    )
                )
            elif not set(own_groups) & (stage.depends_on() | referenced_names(stage.properties)):
                matches.append(
                    rule_match(
                        stage.path,
                        f"{context}, but the stage does not depend on its log group {own_groups[0]}, so the "
                        f"first logged request can create the group before the stack does; add "
                        f"{own_groups[0]} to the stage's DependsOn",
                    )
                )
        return matches
