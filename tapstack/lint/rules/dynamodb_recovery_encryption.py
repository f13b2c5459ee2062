"""E9010: DynamoDB tables keep point-in-time recovery and encrypt with the stack's customer-managed key.

Seed failure prevented: seed 002 asked to "retain DynamoDB data on stack deletion" and the attempt
answered with deletion protection; the destroyable way to keep the data is point-in-time recovery
(`PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true`), which seed 003 and 004 list as a
requirement. Payment records are also to be encrypted with the stack's KMS key (`SSESpecification`
with `SSEEnabled: true`, `SSEType: KMS` and `KMSMasterKeyId`), not the AWS-owned default key or the
AWS-managed `alias/aws/dynamodb` (checkov CKV_AWS_28/CKV_AWS_119 ask for the same).
"""

from collections.abc import Callable
from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    is_true,
    resources,
    rule_match,
    violations,
)


def _is_customer_managed_key(key: Any) -> bool:
    return key is not NO_VALUE and not (isinstance(key, str) and "alias/aws/" in key)


PITR_DOCS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html"
ENCRYPTION_DOCS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html"

# (property path, what to do with its documentation, the check, whether a value hidden by an intrinsic
# function is fine).
_REQUIREMENTS: tuple[tuple[tuple[str, ...], str, Callable[[Any], bool], bool], ...] = (
    (
        ("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"),
        f"set it to true: point-in-time recovery keeps the data restorable without blocking deletion "
        f"(see {PITR_DOCS})",
        is_true,
        False,
    ),
    (
        ("SSESpecification", "SSEEnabled"),
        "set it to true, with SSEType KMS and the stack's key, so payment records use a customer-managed key "
        f"(see {ENCRYPTION_DOCS})",
        is_true,
        False,
    ),
    (
        ("SSESpecification", "SSEType"),
        f"set it to KMS, so the table is encrypted with KMSMasterKeyId instead of an AWS-owned key "
        f"(see {ENCRYPTION_DOCS})",
        lambda sse_type: bool(sse_type == "KMS"),
        False,
    ),
    (
        ("SSESpecification", "KMSMasterKeyId"),
        "set it to the stack's key (Fn::GetAtt <Key>.Arn), not an AWS-managed alias/aws/ key, so the key "
        f"policy and rotation are the stack's (see {ENCRYPTION_DOCS})",
        _is_customer_managed_key,
        True,
    ),
)


class DynamoDbRecoveryEncryption(CloudFormationLintRule):
    id = "E9010"
    shortdesc = "DynamoDB tables have point-in-time recovery and customer-managed KMS encryption"
    description = (
        "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled is true and SSESpecification sets "
        "SSEEnabled true, SSEType KMS and a KMSMasterKeyId that is not an AWS-managed key"
    )
    source_url = PITR_DOCS
    tags: ClassVar[list[str]] = ["resources", "dynamodb", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return [
            rule_match(
                violation.path,
                f"AWS::DynamoDB::Table {table.name}: {'.'.join(keys)} is {violation.found}; {advice}",
            )
            for table in resources(cfn, "AWS::DynamoDB::Table")
            for keys, advice, acceptable, unresolved_is_acceptable in _REQUIREMENTS
            for violation in violations(
                table.lookup(*keys), cfn, acceptable, unresolved_is_acceptable=unresolved_is_acceptable
            )
        ]
