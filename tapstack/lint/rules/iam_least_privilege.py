"""E9060: IAM policies name their actions and resources instead of using wildcards.

Seed failures prevented: seed 004 counts "All IAM policies use specific resource ARNs, not wildcards" as
what the working template got right, and seed 000-003 each rebuilt the roles for three functions, where a
`dynamodb:*` or `Resource: "*"` is the easy shortcut (checkov CKV_AWS_107-111 and cdk-nag IAM5 flag the
same). In Allow statements of AWS::IAM::Role/User/Group inline `Policies`, AWS::IAM::Policy and
AWS::IAM::ManagedPolicy this rule reports:
- an `Action` or `NotAction` of `*` or `<service>:*`;
- `Resource: "*"` unless every action of the statement is one AWS only grants on `*` (the X-Ray writes
  and sampling reads the tracing SDK makes, and the EC2 describes Lambda makes for VPC functions).
Every `Fn::If` side of a statement, list or element is judged. Deny statements may use wildcards.
"""

import re
from typing import ClassVar

from tapstack.lint.rules.helpers import (
    Branch,
    CloudFormationLintRule,
    Resource,
    RuleMatch,
    Template,
    elements,
    lookup,
    resources,
    rule_match,
    string_forms,
)

# Actions that support no resource-level permissions, so `Resource: "*"` is the only way to grant them
# (lower case: IAM action names are case-insensitive).
ACTIONS_ONLY_ON_ANY_RESOURCE = frozenset(
    {
        "xray:puttracesegments",
        "xray:puttelemetryrecords",
        "xray:getsamplingrules",
        "xray:getsamplingtargets",
        "xray:getsamplingstatisticsummaries",
        "ec2:describenetworkinterfaces",
        "ec2:describesubnets",
    }
)
_WILDCARD_ACTION = re.compile(r"\*|[A-Za-z0-9-]+:\*")
_INLINE_POLICY_HOLDERS = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
_POLICY_RESOURCES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def _policy_documents(resource: Resource) -> list[Branch]:
    if resource.type in _POLICY_RESOURCES:
        return resource.lookup("PolicyDocument")
    return [
        document
        for policy in elements(resource.lookup("Policies"))
        for document in lookup(policy.value, policy.path, "PolicyDocument")
    ]


def _statements(document: Branch) -> list[Branch]:
    found = elements(lookup(document.value, document.path, "Statement"))
    return [statement for statement in found if isinstance(statement.value, dict)]


def _strings(statement: Branch, key: str) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, string) for each string a statement's `key` (string or list of strings) can hold."""
    return [
        (item.path, form)
        for item in elements(lookup(statement.value, statement.path, key))
        for form in string_forms(item.value)
    ]


class IamLeastPrivilege(CloudFormationLintRule):
    id = "E9060"
    shortdesc = "IAM policies use no wildcard actions and no Resource '*'"
    description = (
        "Allow statements have no '*' or '<service>:*' Action/NotAction and no Resource '*' except for "
        "X-Ray actions that AWS only grants on '*'"
    )
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"
    tags: ClassVar[list[str]] = ["resources", "iam", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for resource in resources(cfn, *_INLINE_POLICY_HOLDERS, *_POLICY_RESOURCES):
            for document in _policy_documents(resource):
                for statement in _statements(document):
                    if statement.value.get("Effect") == "Allow":
                        matches.extend(self._statement_matches(resource, statement))
        return matches

    @staticmethod
    def _statement_matches(resource: Resource, statement: Branch) -> list[RuleMatch]:
        context = f"{resource.type} {resource.name}: statement {statement.value.get('Sid', '(no Sid)')}"
        matches = [
            rule_match(
                path,
                f"{context} allows {key} {action!r}; list the specific actions the function needs "
                "(for example dynamodb:PutItem, sqs:SendMessage) instead of a wildcard",
            )
            for key in ("Action", "NotAction")
            for path, action in _strings(statement, key)
            if _WILDCARD_ACTION.fullmatch(action)
        ]
        actions = sorted({action for _, action in _strings(statement, "Action")})
        only_any_resource_actions = (
            bool(actions)
            and {action.lower() for action in actions} <= ACTIONS_ONLY_ON_ANY_RESOURCE
            and "NotAction" not in statement.value
        )
        if not only_any_resource_actions:
            matches.extend(
                rule_match(
                    path,
                    f"{context} grants {', '.join(actions) or 'NotAction'} on Resource '*'; name the "
                    "resources (Fn::GetAtt <Table>.Arn, Ref <Topic>, ...); only "
                    f"{', '.join(sorted(ACTIONS_ONLY_ON_ANY_RESOURCE))} may use '*'",
                )
                for path, resource_arn in _strings(statement, "Resource")
                if resource_arn == "*"
            )
        return matches
