"""E9020: Lambda functions run on arm64 with active X-Ray tracing and a customer-managed KMS key.

Seed failures prevented: seed 004 lists ARM64, `TracingConfig.Mode: Active` and `KmsKeyArn` for the
environment variables as what the working template had to have; seed 000-003 each rebuilt the functions
and lost one of them along the way. `KmsKeyArn` must be the key's ARN: `Ref` to an AWS::KMS::Key gives the
key id, which Lambda rejects, so the message asks for `Fn::GetAtt Key.Arn`.
"""

from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    is_kms_key_id_ref,
    resources,
    rule_match,
    unset,
    violations,
)


def _is_arm64_only(architectures: Any) -> bool:
    return bool(architectures == ["arm64"])


def _is_active(mode: Any) -> bool:
    return bool(mode == "Active")


class LambdaFunctionSettings(CloudFormationLintRule):
    id = "E9020"
    shortdesc = "Lambda functions use arm64, active tracing and a KMS key ARN"
    description = "Architectures is [arm64], TracingConfig.Mode is Active and KmsKeyArn is a key ARN"
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for function in resources(cfn, "AWS::Lambda::Function"):
            context = f"AWS::Lambda::Function {function.name}"
            for violation in violations(function.lookup("Architectures"), cfn, _is_arm64_only):
                matches.append(
                    rule_match(
                        violation.path,
                        f"{context}: Architectures is {violation.found}; set Architectures: [arm64] "
                        "(Graviton: cheaper per GB-second; the artifact is built for aarch64)",
                    )
                )
            for violation in violations(function.lookup("TracingConfig", "Mode"), cfn, _is_active):
                matches.append(
                    rule_match(
                        violation.path,
                        f"{context}: TracingConfig.Mode is {violation.found}; set TracingConfig: "
                        "{Mode: Active} so X-Ray traces every webhook",
                    )
                )
            key_branches = function.lookup("KmsKeyArn")
            for branch in unset(key_branches):
                matches.append(
                    rule_match(
                        branch.path,
                        f"{context}: KmsKeyArn is not set; set KmsKeyArn: Fn::GetAtt <Key>.Arn so the "
                        "environment variables are encrypted with the stack's customer-managed key",
                    )
                )
            for branch in key_branches:
                if branch.value is not NO_VALUE and is_kms_key_id_ref(branch.value, cfn):
                    matches.append(
                        rule_match(
                            branch.path,
                            f"{context}: KmsKeyArn is Ref {branch.value['Ref']}, which is the key id; "
                            f"use Fn::GetAtt {branch.value['Ref']}.Arn",
                        )
                    )
        return matches
