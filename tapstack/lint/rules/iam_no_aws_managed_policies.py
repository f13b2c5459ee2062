"""E9061: roles, users and groups attach no AWS managed policies.

Seed failure prevented: seed 004 counts "IAM Least Privilege: All IAM policies use specific resource
ARNs" as what the working template needed; AWS managed policies such as
`arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole` grant `logs:*`-style permissions on
every resource of the account and change under the stack's feet (cdk-nag IAM4 flags the same).
`ManagedPolicyArns` entries are compared as the strings they render to, so `arn:aws:...`,
`!Sub arn:${AWS::Partition}:iam::aws:policy/...` and the `Fn::Join` form with `Ref AWS::Partition` are
all recognised, on every `Fn::If` side. Customer managed policies of the stack are fine.
"""

import re
from typing import ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    elements,
    resources,
    rule_match,
    string_forms,
)

_AWS_MANAGED_POLICY_ARN = re.compile(r"arn:(?:aws[a-z-]*|\$\{AWS::Partition\}):iam::aws:policy/.+")


class IamNoAwsManagedPolicies(CloudFormationLintRule):
    id = "E9061"
    shortdesc = "No AWS managed policies in ManagedPolicyArns"
    description = (
        "ManagedPolicyArns of roles, users and groups contain no arn:<partition>:iam::aws:policy/ ARN"
    )
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html"
    tags: ClassVar[list[str]] = ["resources", "iam", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for resource in resources(cfn, "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            matches.extend(
                rule_match(
                    arn.path,
                    f"{resource.type} {resource.name}: ManagedPolicyArns attaches the AWS managed policy "
                    f"{form}; replace it with an inline policy (Policies) that grants only the actions "
                    "the function calls on the stack's own resources",
                )
                for arn in elements(resource.lookup("ManagedPolicyArns"))
                if arn.value is not NO_VALUE
                for form in string_forms(arn.value)
                if _AWS_MANAGED_POLICY_ARN.fullmatch(form)
            )
        return matches
