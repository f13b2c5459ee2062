"""Destroy's AWS path when CloudFormation reports DELETE_FAILED, which moto never does.

CloudFormation is played by a small fake with CloudFormation's shapes: it deletes the stack's bucket
when it is empty and otherwise fails the delete with S3's BucketNotEmpty, as the S3 bucket handler
reports it in the stack events. The bucket itself is real (the moto server).
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tapstack.operate.cloud import Clients, DeployError, Timing
from tapstack.operate.destroy import DELETE_ATTEMPTS, destroy_stack
from tapstack.operate.target import AwsTarget
from tests.support.cfn import BUCKET_NOT_EMPTY

STACK = "tapstack-fake"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1"
TIMING = Timing(poll_seconds=0, timeout_seconds=10, wait_for_running_invocations=False)


class FakeCloudFormation:
    """A stack of one bucket (and optionally one role that fails to delete); `late_writes` objects
    arrive in the bucket as the first deletes begin, as from an invocation still running."""

    def __init__(self, s3: Any, bucket: str, late_writes: int, failing_role: bool = False) -> None:
        self.s3, self.bucket, self.late_writes, self.failing_role = s3, bucket, late_writes, failing_role
        self.status = "CREATE_COMPLETE"
        self.events: list[dict[str, Any]] = []
        self.deletes = 0

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        if self.status == "DELETE_COMPLETE":
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Stack with id {StackName} does not exist",
                    }
                },
                "DescribeStacks",
            )
        return {"Stacks": [{"StackName": STACK, "StackId": STACK_ID, "StackStatus": self.status}]}

    def _event(self, logical_id: str, kind: str, status: str, reason: str = "") -> None:
        self.events.insert(
            0,
            {
                "EventId": str(uuid.uuid4()),
                "LogicalResourceId": logical_id,
                "ResourceType": kind,
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
                "Timestamp": datetime.now(UTC),
            },
        )

    def delete_stack(self, StackName: str) -> None:  # noqa: N803, ARG002 (boto3's signature)
        self.deletes += 1
        if self.late_writes:
            self.late_writes -= 1
            self.s3.put_object(Bucket=self.bucket, Key=f"late-{self.deletes}", Body=b"{}")
        failures = []
        if self.failing_role:
            failures.append(
                ("Role", "AWS::IAM::Role", "Cannot delete entity, must detach all policies first.")
            )
        if self.s3.list_object_versions(Bucket=self.bucket).get("Versions"):
            failures.append(("AuditBucket", "AWS::S3::Bucket", BUCKET_NOT_EMPTY))
        else:
            self.s3.delete_bucket(Bucket=self.bucket)
        for logical_id, kind, reason in failures:
            self._event(logical_id, kind, "DELETE_FAILED", reason)
        self.status = "DELETE_FAILED" if failures else "DELETE_COMPLETE"
        self._event(STACK, "AWS::CloudFormation::Stack", self.status)

    def list_stack_resources(self, StackName: str) -> dict[str, Any]:  # noqa: N803, ARG002 (boto3's signature)
        resources = [("AuditBucket", "AWS::S3::Bucket", self.bucket)]
        return {
            "StackResourceSummaries": [
                {"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": physical}
                for logical, kind, physical in resources
            ]
        }

    def list_exports(self) -> dict[str, Any]:
        return {"Exports": []}

    def get_paginator(self, operation: str) -> Any:
        fake = self

        class Pages:
            def paginate(self, StackName: str) -> Iterator[dict[str, Any]]:  # noqa: N803 (boto3's name)
                if operation == "describe_stack_events":
                    yield {"StackEvents": list(fake.events)}
                else:
                    yield getattr(fake, operation)(StackName=StackName)

        return Pages()


@pytest.fixture
def aws(moto_endpoint: str) -> tuple[Any, str]:
    """A real bucket with one object in it, and clients for the AWS path (no emulator endpoint)."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    bucket = f"tapstack-fake-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="raw/first.json", Body=b"{}")
    return s3, bucket


def _aws(s3: Any, moto_endpoint: str, cloudformation: FakeCloudFormation) -> AwsTarget:
    logs = boto3.client("logs", endpoint_url=moto_endpoint)
    clients = Clients(
        boto3.session.Session(), given={"cloudformation": cloudformation, "s3": s3, "logs": logs}
    )
    return AwsTarget(clients, TIMING)


def test_a_bucket_refilled_during_the_delete_is_emptied_and_the_delete_retried(
    aws: tuple[Any, str], moto_endpoint: str
) -> None:
    s3, bucket = aws
    cloudformation = FakeCloudFormation(s3, bucket, late_writes=1)
    log: list[str] = []

    left = destroy_stack(_aws(s3, moto_endpoint, cloudformation), STACK, log.append)

    assert (cloudformation.deletes, left) == (2, [])
    retry = f"emptying and deleting again (attempt 2 of {DELETE_ATTEMPTS})"
    assert f"AuditBucket got objects after it was emptied: {retry}" in log
    assert f"emptied {bucket}: 1 object versions and delete markers" in log


def test_the_retries_are_bounded(aws: tuple[Any, str], moto_endpoint: str) -> None:
    s3, bucket = aws
    cloudformation = FakeCloudFormation(s3, bucket, late_writes=DELETE_ATTEMPTS)

    with pytest.raises(DeployError, match="ended in DELETE_FAILED") as failed:
        destroy_stack(_aws(s3, moto_endpoint, cloudformation), STACK, print)

    assert cloudformation.deletes == DELETE_ATTEMPTS
    assert "The bucket you tried to delete is not empty" in str(failed.value)


def test_another_failure_is_not_retried(aws: tuple[Any, str], moto_endpoint: str) -> None:
    s3, bucket = aws
    cloudformation = FakeCloudFormation(s3, bucket, late_writes=1, failing_role=True)

    with pytest.raises(DeployError, match="Role"):
        destroy_stack(_aws(s3, moto_endpoint, cloudformation), STACK, print)

    assert cloudformation.deletes == 1
