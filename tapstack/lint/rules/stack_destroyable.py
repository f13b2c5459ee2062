"""E9001: every resource can be deleted with the stack.

Seed failure prevented: seed 002 "Resource Protection Policy Violation": the DynamoDB table was
protected (`protect=True`, deletion protection), so the teardown that CI and every dev environment rely
on failed ("All resources must be destroyable (no Retain policies)"). The CloudFormation forms of that
mistake are a `Retain`, `RetainExceptOnCreate` or `Snapshot` DeletionPolicy/UpdateReplacePolicy (the
resource outlives the stack and blocks the next deploy with the same name) and
`DeletionProtectionEnabled: true` on a table (the delete fails).

Both policy attributes accept `Fn::If`, `Ref` and `Fn::FindInMap` under the AWS::LanguageExtensions
transform, so each `Fn::If` side and each value a referenced parameter allows is judged; a value that
cannot be resolved is reported because it could be `Retain`.
"""

from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    branches,
    is_true,
    resources,
    rule_match,
    violations,
)

_KEPT_ON_DELETE = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
_POLICY_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy")


def _unprotected(deletion_protection: Any) -> bool:
    return deletion_protection is NO_VALUE or not is_true(deletion_protection)


class StackDestroyable(CloudFormationLintRule):
    id = "E9001"
    shortdesc = "Resources are deleted with the stack"
    description = (
        "No Retain, RetainExceptOnCreate or Snapshot DeletionPolicy/UpdateReplacePolicy and no DynamoDB "
        "DeletionProtectionEnabled: true, also inside Fn::If and parameter values"
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html"
    )
    tags: ClassVar[list[str]] = ["resources", "deletionpolicy", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for resource in resources(cfn):
            for attribute in _POLICY_ATTRIBUTES:
                if attribute not in resource.definition:
                    continue
                found = branches(resource.definition[attribute], (*resource.path, attribute))
                for violation in violations(found, cfn, lambda policy: policy not in _KEPT_ON_DELETE):
                    matches.append(
                        rule_match(
                            violation.path,
                            f"{resource.type} {resource.name}: {attribute} is {violation.found}, so the "
                            "resource outlives the stack; set it to Delete (or leave it out) so the stack "
                            "is destroyable",
                        )
                    )
        for table in resources(cfn, "AWS::DynamoDB::Table"):
            found = table.lookup("DeletionProtectionEnabled")
            for violation in violations(found, cfn, _unprotected):
                matches.append(
                    rule_match(
                        violation.path,
                        f"AWS::DynamoDB::Table {table.name}: DeletionProtectionEnabled is {violation.found}, "
                        "so deleting the stack fails; remove it or set false (point-in-time recovery "
                        "protects the data)",
                    )
                )
        return matches
