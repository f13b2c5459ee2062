"""E9012: the audit bucket is created with S3 Object Lock enabled, on a versioned bucket.

Found in this stack: the raw payloads are the evidence of what each provider sent, yet any principal
allowed to delete object versions could erase one without trace. With Object Lock enabled, a default
retention (GOVERNANCE or COMPLIANCE) makes each new version undeletable for its period; TapStack keeps
the retention itself a deploy-time choice (`AuditObjectLockMode`, default NONE so a stack stays
destroyable), which is an in-place update only because the bucket already has Object Lock enabled.
S3 cannot turn Object Lock off once it is on, and it works only on versioned buckets.

Checks each bucket named by the rule option `buckets` (default `AuditBucket`; `-x E9012:buckets=Evidence`
for one other name, `configure_rules: {E9012: {buckets: [AuditBucket, Evidence]}}` in `.cfnlintrc` for
several): `ObjectLockEnabled` is true and `VersioningConfiguration.Status` is `Enabled`, on every
`Fn::If` side and parameter value.
"""

from collections.abc import Callable
from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    CloudFormationLintRule,
    RuleMatch,
    Template,
    is_true,
    resources,
    rule_match,
    violations,
)

# (property path, what to do, the check).
_REQUIREMENTS: tuple[tuple[tuple[str, ...], str, Callable[[Any], bool]], ...] = (
    (
        ("ObjectLockEnabled",),
        "set it to true, so that a default retention (GOVERNANCE or COMPLIANCE) can protect each payload "
        "version, chosen by parameter and applied by an in-place update",
        is_true,
    ),
    (
        ("VersioningConfiguration", "Status"),
        "set it to Enabled: Object Lock protects object versions and works only on versioned buckets",
        lambda status: status == "Enabled",
    ),
)


class S3AuditObjectLock(CloudFormationLintRule):
    id = "E9012"
    shortdesc = "The audit bucket has Object Lock enabled"
    description = (
        "The buckets named by the buckets option (default AuditBucket) set ObjectLockEnabled true and "
        "VersioningConfiguration.Status Enabled"
    )
    source_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html"
    tags: ClassVar[list[str]] = ["resources", "s3", "object-lock", "tapstack"]

    def __init__(self) -> None:
        super().__init__()
        # cfn-lint fills self.config from these defaults and -x/--configure-rule before match() runs.
        self.config_definition: dict[str, Any] = {
            "buckets": {"default": ["AuditBucket"], "type": "list", "itemtype": "string"},
        }

    def match(self, cfn: Template) -> list[RuleMatch]:
        audit_buckets = set(self.config["buckets"])
        return [
            rule_match(
                violation.path,
                f"{bucket.type} {bucket.name}: {'.'.join(keys)} is {violation.found}; {advice}",
            )
            for bucket in resources(cfn, "AWS::S3::Bucket")
            if bucket.name in audit_buckets
            for keys, advice, acceptable in _REQUIREMENTS
            for violation in violations(bucket.lookup(*keys), cfn, acceptable)
        ]
