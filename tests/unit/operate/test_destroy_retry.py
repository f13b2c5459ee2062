"""Which delete failures destroy retries: only S3's BucketNotEmpty (tests/functional/operate/
test_destroy_retry.py runs the retries)."""

import pytest

from tapstack.operate.stacks import ResourceFailure
from tests.support.cfn import BUCKET_NOT_EMPTY


@pytest.mark.parametrize(
    ("kind", "reason", "expected"),
    [
        ("AWS::S3::Bucket", BUCKET_NOT_EMPTY, True),
        ("AWS::S3::Bucket", "The bucket you tried to delete is not empty", True),
        ("AWS::S3::Bucket", "Access Denied (Service: S3, Status Code: 403)", False),
        ("AWS::Logs::LogGroup", "BucketNotEmpty", False),
    ],
)
def test_only_s3s_bucket_not_empty_counts_as_a_refilled_bucket(
    kind: str, reason: str, expected: bool
) -> None:
    assert ResourceFailure("X", kind, reason).bucket_not_empty is expected
