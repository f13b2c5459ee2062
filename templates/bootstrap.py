"""The bootstrap stack (`<prefix>-bootstrap`, once per name prefix, account and region): the artifact bucket.

It holds the Lambda artifacts (content-addressed `lambda-<sha256>.zip`) and the uploaded templates.
Hardened like the audit bucket (the same builder): versioned, encrypted, public access blocked,
owner-enforced, TLS only, `DeletionPolicy: Delete`. SSE-S3 rather than a customer key: the
deploying principal and Lambda read these objects, and they hold build outputs, not payment data.
"""

from __future__ import annotations

from awacs.aws import PolicyDocument
from troposphere import Export, GetAtt, Output, Sub, Template
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketPolicy,
    LifecycleRule,
    NoncurrentVersionExpiration,
    ServerSideEncryptionByDefault,
)

from templates.common import POLICY_VERSION, Exemption, deny_insecure_transport, exemptions
from templates.contract import ARTIFACT_BUCKET_NAME
from templates.naming import StackNames
from templates.stack import render
from templates.storage import hardened_bucket, objects_arn

ARTIFACT_PREFIX = "lambda-"
TEMPLATE_PREFIX = "templates/"
ARTIFACT_EXPIRY_DAYS = 180
"""Older code is deleted; a stack rolled back to code that old would need a redeploy instead."""
TEMPLATE_EXPIRY_DAYS = 30
NONCURRENT_EXPIRY_DAYS = 30


def build_bootstrap_template(names: StackNames) -> Template:
    template = Template(Description="TapStack bootstrap: the artifact bucket (Lambda code and templates)")
    expire_noncurrent = NoncurrentVersionExpiration(NoncurrentDays=NONCURRENT_EXPIRY_DAYS)
    abort_uploads = AbortIncompleteMultipartUpload(DaysAfterInitiation=1)
    bucket: Bucket = hardened_bucket(
        "ArtifactBucket",
        Sub(f"{names.prefix}-artifacts-${{AWS::AccountId}}-${{AWS::Region}}"),
        ServerSideEncryptionByDefault(SSEAlgorithm="AES256"),
        [
            LifecycleRule(
                Id="ExpireOldArtifacts",
                Status="Enabled",
                Prefix=ARTIFACT_PREFIX,
                ExpirationInDays=ARTIFACT_EXPIRY_DAYS,
                NoncurrentVersionExpiration=expire_noncurrent,
                AbortIncompleteMultipartUpload=abort_uploads,
            ),
            LifecycleRule(
                Id="ExpireOldTemplates",
                Status="Enabled",
                Prefix=TEMPLATE_PREFIX,
                ExpirationInDays=TEMPLATE_EXPIRY_DAYS,
                NoncurrentVersionExpiration=expire_noncurrent,
                AbortIncompleteMultipartUpload=abort_uploads,
            ),
        ],
        Metadata=exemptions(
            Exemption(
                "Build outputs written only by the deploy tooling; CloudTrail records who did it.",
                checkov=("CKV_AWS_18",),
            )
        ),
    )
    template.add_resource(bucket)
    template.add_resource(
        BucketPolicy(
            "ArtifactBucketPolicy",
            Bucket=bucket.ref(),
            PolicyDocument=PolicyDocument(
                Version=POLICY_VERSION,
                Statement=[deny_insecure_transport("s3", [GetAtt(bucket, "Arn"), objects_arn(bucket)])],
            ),
        )
    )
    template.add_output(
        Output(
            ARTIFACT_BUCKET_NAME,
            Description="Bucket holding Lambda artifacts and uploaded templates",
            Value=bucket.ref(),
            Export=Export(f"{names.bootstrap_stack}-ArtifactBucketName"),
        )
    )
    return template


def bootstrap_template_json(names: StackNames) -> str:
    return render(build_bootstrap_template(names))
