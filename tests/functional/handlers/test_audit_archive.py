"""The processor's archive write into an audit bucket with Object Lock, in each AuditObjectLockMode.

S3 (and moto, which enforces the same rule) refuses a PutObject into a bucket with a default Object Lock
retention unless it carries Content-MD5 or x-amz-sdk-checksum-algorithm:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
"""

import base64
import hashlib
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from handlers.aws import S3Archive

BODY = b'{"id": "evt_1", "amount": 1500}'
SHA256_HEX = hashlib.sha256(BODY).hexdigest()
KEY = f"raw/stripe/2026/11/23/evt_1/{SHA256_HEX}.json"


def locked_bucket(endpoint: str, mode: str) -> tuple[Any, str]:
    """A bucket created as the template creates the audit bucket: Object Lock enabled, and a default
    retention of one day unless the mode is NONE."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"audit-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    configuration: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    if mode != "NONE":
        configuration["Rule"] = {"DefaultRetention": {"Mode": mode, "Days": 1}}
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=configuration)
    return s3, bucket


@pytest.mark.parametrize("mode", ["NONE", "GOVERNANCE", "COMPLIANCE"])
def test_the_archive_write_succeeds_and_is_locked_as_the_bucket_says(moto_endpoint: str, mode: str) -> None:
    s3, bucket = locked_bucket(moto_endpoint, mode)
    S3Archive(s3, bucket).put(KEY, BODY, SHA256_HEX)
    stored = s3.get_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED")
    assert stored["Body"].read() == BODY
    assert stored["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(SHA256_HEX)).decode()
    assert stored.get("ObjectLockMode") == (None if mode == "NONE" else mode)
    if mode != "NONE":
        assert "ObjectLockRetainUntilDate" in stored
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.delete_object(Bucket=bucket, Key=KEY, VersionId=stored["VersionId"])


def test_a_write_with_only_the_sha256_value_is_refused_under_a_default_retention(moto_endpoint: str) -> None:
    """What the archive sent before: the checksum value without naming its algorithm. This is why the
    test above can fail."""
    s3, bucket = locked_bucket(moto_endpoint, "GOVERNANCE")
    checksum = base64.b64encode(bytes.fromhex(SHA256_HEX)).decode()
    with pytest.raises(ClientError, match="x-amz-sdk-checksum-algorithm"):
        s3.put_object(Bucket=bucket, Key=KEY, Body=BODY, ChecksumSHA256=checksum)


def test_the_write_names_its_checksum_algorithm(moto_endpoint: str) -> None:
    """The headers botocore sends for the archive's put: the value S3 verifies, and the algorithm."""
    s3, bucket = locked_bucket(moto_endpoint, "NONE")
    sent: list[dict[str, bytes | str]] = []
    s3.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.append({name.lower(): value for name, value in request.headers.items()}),
    )
    S3Archive(s3, bucket).put(KEY, BODY, SHA256_HEX)
    (headers,) = sent
    assert headers["x-amz-sdk-checksum-algorithm"] == b"SHA256"
    assert headers["x-amz-checksum-sha256"] == base64.b64encode(bytes.fromhex(SHA256_HEX))
