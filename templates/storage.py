"""Durable state: the transactions table, the objects table (each provider object's current state) and
the audit bucket (plus the bucket that logs access to it)."""

from __future__ import annotations

from dataclasses import dataclass

from awacs import s3
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import AWSHelperFn, GetAtt, If, NoValue, Ref, Sub
from troposphere.dynamodb import (
    AttributeDefinition,
    GlobalSecondaryIndex,
    KeySchema,
    PointInTimeRecoverySpecification,
    Projection,
    SSESpecification,
    Table,
)
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    DefaultRetention,
    EventBridgeConfiguration,
    LifecycleConfiguration,
    LifecycleRule,
    LoggingConfiguration,
    NoncurrentVersionExpiration,
    NotificationConfiguration,
    ObjectLockConfiguration,
    ObjectLockRule,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from templates.common import (
    HIPAA_SECURITY,
    NIST_800_53_R5,
    PCI_DSS_321,
    POLICY_VERSION,
    Exemption,
    deny_insecure_transport,
    destroyable,
    exemptions,
    nag_rules,
)
from templates.contract import (
    RECEIVED_DAY_ATTRIBUTE,
    RECEIVED_INDEX,
    RECEIVED_INDEX_PROJECTED,
    RECEIVED_ORDER_ATTRIBUTE,
)
from templates.naming import StackNames
from templates.parameters import StackParameters

# The table's only key: "<provider>#<provider event id>", so a redelivered event maps to the same item.
TRANSACTION_KEY = "transaction_id"
# The objects table's only key: "<provider>#<object id>", one record per provider object.
OBJECT_KEY = "object_key"
PROVIDER_KEY = "provider"
ACCESS_LOG_PREFIX = "audit-bucket/"
# Stated rather than left to S3's default (the same value since September 2024): a transition added
# without a size filter never moves an object under 128 KB, where no storage class is cheaper than
# S3 Standard (per-object overhead, minimum billable size, transition requests; see docs/audit-archive.md).
TRANSITION_DEFAULT_MINIMUM_OBJECT_SIZE = "all_storage_classes_128K"
# What S3 requires of a server access log destination, and why the access-log bucket cannot meet three
# Control Tower controls (templates/controls.py).
ACCESS_LOG_DESTINATION_DOC = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html"
)
NO_REPLICATION = Exemption(
    "Replication needs a bucket in a second Region and its own key, which this single-Region stack does "
    "not own; versioning, Object Lock, the retention parameters and PITR on the table are its recovery.",
    cdk_nag=nag_rules("S3BucketReplicationEnabled", NIST_800_53_R5, PCI_DSS_321, HIPAA_SECURITY),
)


@dataclass(frozen=True)
class Storage:
    table: Table
    objects_table: Table
    reconciliation_table: Table
    audit_bucket: Bucket
    audit_bucket_policy: BucketPolicy
    access_log_bucket: Bucket
    access_log_bucket_policy: BucketPolicy

    def resources(self) -> list[Table | Bucket | BucketPolicy]:
        return [
            self.table,
            self.objects_table,
            self.reconciliation_table,
            self.audit_bucket,
            self.audit_bucket_policy,
            self.access_log_bucket,
            self.access_log_bucket_policy,
        ]


def _encrypted_table(
    title: str,
    name: Sub,
    key: str,
    key_arn: AWSHelperFn,
    index: GlobalSecondaryIndex | None = None,
) -> Table:
    """An on-demand table keyed by one string, under the stack's key, recoverable, deleted with the stack;
    with one global secondary index on string keys if given."""
    index_keys = [] if index is None else [schema.AttributeName for schema in index.KeySchema]
    indexes: dict[str, object] = {} if index is None else {"GlobalSecondaryIndexes": [index]}
    return destroyable(
        Table(
            title,
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                AttributeDefinition(AttributeName=attribute, AttributeType="S")
                for attribute in [key, *index_keys]
            ],
            KeySchema=[KeySchema(AttributeName=key, KeyType="HASH")],
            **indexes,
            PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            SSESpecification=SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=key_arn),
            DeletionProtectionEnabled=False,
            Metadata=exemptions(
                Exemption(
                    "Point-in-time recovery keeps 35 days of continuous backups, restorable to any second. "
                    "An AWS Backup plan belongs to the account or organisation (its vault, key and "
                    "schedule), which selects resources by tag; this stack does not own one.",
                    cdk_nag=nag_rules("DynamoDBInBackupPlan", NIST_800_53_R5, HIPAA_SECURITY),
                )
            ),
        )
    )


def received_time_index() -> GlobalSecondaryIndex:
    """The transactions by receipt time, for `tapstack republish` (src/handlers/core/windows.py says why
    the day key is sharded and how a window is read).

    Sparse: the processor writes its keys on every item but a quarantined one. Keys only, plus `kind`
    for the command's `--kind` filter: the message is built from the whole item, read from the table
    (BatchGetItem) as the notifier reads it, since the twenty-odd published attributes exceed the 20
    non-key attributes an INCLUDE projection may list, and ALL would store every item twice for an
    occasional read. On-demand, like the table: its writes are billed with the item's (one write unit
    more per stored item, the entry being small).
    """
    return GlobalSecondaryIndex(
        IndexName=RECEIVED_INDEX,
        KeySchema=[
            KeySchema(AttributeName=RECEIVED_DAY_ATTRIBUTE, KeyType="HASH"),
            KeySchema(AttributeName=RECEIVED_ORDER_ATTRIBUTE, KeyType="RANGE"),
        ],
        Projection=Projection(ProjectionType="INCLUDE", NonKeyAttributes=list(RECEIVED_INDEX_PROJECTED)),
    )


def build_table(names: StackNames, key_arn: AWSHelperFn) -> Table:
    return _encrypted_table(
        "TransactionsTable", names.table.sub(), TRANSACTION_KEY, key_arn, received_time_index()
    )


def build_objects_table(names: StackNames, key_arn: AWSHelperFn) -> Table:
    """A projection of the transactions table (each object's latest event), rebuildable from it."""
    return _encrypted_table("ObjectsTable", names.objects_table.sub(), OBJECT_KEY, key_arn)


def build_reconciliation_table(names: StackNames, key_arn: AWSHelperFn) -> Table:
    """The reconciler's cursor per provider: its own table, so that no consumer of the transactions
    table can mistake reconciliation state for a transaction."""
    return _encrypted_table("ReconciliationTable", names.reconciliation_table.sub(), PROVIDER_KEY, key_arn)


def hardened_bucket(
    title: str,
    name: Sub,
    encryption: ServerSideEncryptionByDefault,
    lifecycle: list[LifecycleRule],
    **extra: object,
) -> Bucket:
    """A private, versioned, owner-enforced bucket: what every bucket of this stack starts from."""
    return destroyable(
        Bucket(
            title,
            BucketName=name,
            BucketEncryption=BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=encryption,
                        BucketKeyEnabled=encryption.properties.get("SSEAlgorithm") == "aws:kms",
                    )
                ]
            ),
            VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
            PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=OwnershipControls(
                Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LifecycleConfiguration=LifecycleConfiguration(
                Rules=lifecycle, TransitionDefaultMinimumObjectSize=TRANSITION_DEFAULT_MINIMUM_OBJECT_SIZE
            ),
            # Every object event on the default event bus, for whoever audits the archive (AWS service
            # events there cost nothing; Control Tower control CT.S3.PR.4).
            NotificationConfiguration=NotificationConfiguration(
                EventBridgeConfiguration=EventBridgeConfiguration(EventBridgeEnabled=True)
            ),
            **extra,
        )
    )


def objects_arn(bucket: Bucket, key_pattern: str = "*") -> Sub:
    """ARN of the bucket's objects whose keys match key_pattern."""
    return Sub(f"${{{bucket.title}.Arn}}/{key_pattern}")


def _bucket_arns(bucket: Bucket) -> list[AWSHelperFn]:
    return [GetAtt(bucket, "Arn"), objects_arn(bucket)]


def _expire_after_retention(rule_id: str, params: StackParameters) -> LifecycleRule:
    """Expire every object after the audit retention, and its noncurrent versions after theirs.

    No transition: every object these buckets hold (payloads of at most 128 KiB, access-log files) is
    smaller than the size at which any storage class pays back its transition (see docs/audit-archive.md).
    """
    return LifecycleRule(
        Id=rule_id,
        Status="Enabled",
        ExpirationInDays=Ref(params.audit_retention_days),
        NoncurrentVersionExpiration=NoncurrentVersionExpiration(
            NoncurrentDays=Ref(params.audit_noncurrent_retention_days)
        ),
        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
    )


def _object_lock(params: StackParameters) -> ObjectLockConfiguration:
    """Object Lock stays enabled (S3 cannot turn it off); only the default retention follows the mode."""
    return ObjectLockConfiguration(
        ObjectLockEnabled="Enabled",
        Rule=If(
            params.has_audit_object_lock,
            ObjectLockRule(
                DefaultRetention=DefaultRetention(
                    Mode=Ref(params.audit_object_lock_mode),
                    Days=Ref(params.audit_object_lock_retention_days),
                )
            ),
            NoValue,
        ),
    )


def build_storage(names: StackNames, params: StackParameters, key_arn: AWSHelperFn) -> Storage:
    access_log_bucket = hardened_bucket(
        "AccessLogBucket",
        names.access_log_bucket.sub(),
        # S3 server access logging can only deliver to buckets encrypted with SSE-S3.
        ServerSideEncryptionByDefault(SSEAlgorithm="AES256"),
        # The logs of who read or wrote a payload are kept as long as the payloads.
        [_expire_after_retention("ExpireAccessLogs", params)],
        Metadata=exemptions(
            Exemption(
                "This bucket is the access-log destination; logging it into itself would loop.",
                checkov=("CKV_AWS_18",),
            ),
            Exemption(
                "S3 delivers server access logs only to a bucket encrypted with SSE-S3 (AES256), not "
                f"SSE-KMS ({ACCESS_LOG_DESTINATION_DOC}).",
                cdk_nag=nag_rules("S3DefaultEncryptionKMS", NIST_800_53_R5, PCI_DSS_321, HIPAA_SECURITY),
            ),
            NO_REPLICATION,
        ),
    )
    audit_bucket = hardened_bucket(
        "AuditBucket",
        names.audit_bucket.sub(),
        ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn),
        [_expire_after_retention("ExpireRawPayloads", params)],
        LoggingConfiguration=LoggingConfiguration(
            DestinationBucketName=access_log_bucket.ref(), LogFilePrefix=ACCESS_LOG_PREFIX
        ),
        # Enabled at creation whatever the mode, so that choosing a mode later is an in-place update.
        ObjectLockEnabled=True,
        ObjectLockConfiguration=_object_lock(params),
        Metadata=exemptions(NO_REPLICATION),
    )
    audit_policy = BucketPolicy(
        "AuditBucketPolicy",
        Bucket=audit_bucket.ref(),
        PolicyDocument=PolicyDocument(
            Version=POLICY_VERSION, Statement=[deny_insecure_transport("s3", _bucket_arns(audit_bucket))]
        ),
    )
    access_log_policy = BucketPolicy(
        "AccessLogBucketPolicy",
        Bucket=access_log_bucket.ref(),
        PolicyDocument=PolicyDocument(
            Version=POLICY_VERSION,
            Statement=[
                deny_insecure_transport("s3", _bucket_arns(access_log_bucket)),
                Statement(
                    Sid="S3ServerAccessLogsFromTheAuditBucket",
                    Effect=Allow,
                    Principal=Principal("Service", "logging.s3.amazonaws.com"),
                    Action=[s3.PutObject],
                    Resource=[objects_arn(access_log_bucket, f"{ACCESS_LOG_PREFIX}*")],
                    Condition=Condition(
                        [
                            ArnLike("aws:SourceArn", GetAtt(audit_bucket, "Arn")),
                            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                        ]
                    ),
                ),
            ],
        ),
    )
    return Storage(
        table=build_table(names, key_arn),
        objects_table=build_objects_table(names, key_arn),
        reconciliation_table=build_reconciliation_table(names, key_arn),
        audit_bucket=audit_bucket,
        audit_bucket_policy=audit_policy,
        access_log_bucket=access_log_bucket,
        access_log_bucket_policy=access_log_policy,
    )
