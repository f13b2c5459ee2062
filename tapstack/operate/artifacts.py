"""The artifact bucket and what goes in it: the bootstrap stack that makes the bucket, the Lambda zip
and the template (content-addressed, so each is uploaded once).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tapstack.operate.cloud import DeployError, Report, stack_outputs
from tapstack.operate.stacks import StackRequest, deploy_stack
from tapstack.operate.target import DeployTarget
from templates.bootstrap import bootstrap_template_json
from templates.contract import ARTIFACT_BUCKET_NAME
from templates.naming import StackNames


def artifact_key(artifact: Path) -> str:
    """Content-addressed: the same code always has the same key, so an upload is done once."""
    return f"lambda-{hashlib.sha256(artifact.read_bytes()).hexdigest()}.zip"


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload_if_absent(s3: Any, bucket: str, key: str, body: bytes) -> bool:
    """Upload `body` (integrity-checked by S3) unless the key exists; True when uploaded."""
    if object_exists(s3, bucket, key):
        return False
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumSHA256=checksum)
    return True


def upload_template(target: DeployTarget, bucket: str, stack: str, text: str) -> str:
    """Upload the template text (once: its key is its hash); the URL CloudFormation reads it from."""
    body = text.encode()
    key = f"templates/{stack}-{hashlib.sha256(body).hexdigest()}.json"
    upload_if_absent(target.clients("s3"), bucket, key, body)
    return target.template_url(bucket, key)


def artifact_bucket(cloudformation: Any, bootstrap_stack: str) -> str:
    bucket = stack_outputs(cloudformation, bootstrap_stack).get(ARTIFACT_BUCKET_NAME)
    if not bucket:
        raise DeployError(
            f"no artifact bucket: stack {bootstrap_stack} is missing; run `make bootstrap` "
            "once per account and region"
        )
    return bucket


def bootstrap(target: DeployTarget, names: StackNames, report: Report) -> str:
    """Create or update the artifact-bucket stack of these names; return the bucket's name."""
    text = bootstrap_template_json(names)
    request = StackRequest(names.bootstrap_stack, json.loads(text), {"TemplateBody": text}, {})
    deploy_stack(target, request, report)
    return artifact_bucket(target.clients("cloudformation"), names.bootstrap_stack)
