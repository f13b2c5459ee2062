"""What every stack command shares: boto3 clients (created once), timing, errors, and the stack's outputs.

Names come from templates/naming.py's StackNames, with the prefix the template was generated with
(tapstack/operate/deployment.py reads it from the template), e.g. for the default prefix:
    stack             tapstack-<ENV>                 e.g. tapstack-dev
    exports           tapstack-<ENV>-<OutputKey>     e.g. tapstack-dev-TransactionsTableName
    bootstrap stack   tapstack-bootstrap             one per prefix, account and region: the artifact bucket
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tapstack import paths
from templates.naming import StackNames

TEMPLATE_PATH = paths.TEMPLATE
FLAT_OUTPUTS_PATH = paths.FLAT_OUTPUTS

Report = Callable[[str], None]


class DeployError(RuntimeError):
    """A deploy, diff or destroy that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Timing:
    """How often to poll and for how long; the emulator answers at once, AWS takes minutes."""

    poll_seconds: float = 5.0
    timeout_seconds: float = 3600.0
    wait_for_running_invocations: bool = True
    """After the throttle, wait the longest function timeout (no Lambda runs the emulator's functions)."""


@dataclass
class Clients:
    """boto3 clients by service, each made once from one session; tests pass their own in `given`.

    `endpoint_url` is set only for an emulator (`http://localhost:PORT`).
    """

    session: Any
    endpoint_url: str | None = None
    given: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_aws(cls, region: str | None = None) -> Clients:
        return cls(boto3.session.Session(region_name=region))

    @property
    def region(self) -> str | None:
        return str(self.session.region_name) if self.session.region_name else None

    def __call__(self, service: str) -> Any:
        client = self.given.get(service)
        if client is None:
            client = self.session.client(service, endpoint_url=self.endpoint_url)
            self.given[service] = client
        return client


def is_missing_stack(error: ClientError) -> bool:
    """describe_stacks on a stack that does not exist raises ValidationError "... does not exist"."""
    return error.response["Error"]["Code"] == "ValidationError" and "does not exist" in str(error)


def describe_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    """The stack's description, or None when there is no such stack."""
    try:
        return dict(cloudformation.describe_stacks(StackName=name)["Stacks"][0])
    except ClientError as error:
        if is_missing_stack(error):
            return None
        raise


def stack_outputs(cloudformation: Any, name: str) -> dict[str, str]:
    """`{OutputKey: OutputValue}` of a stack; empty when the stack does not exist."""
    stack = describe_stack(cloudformation, name)
    return {} if stack is None else outputs_of(stack)


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    """`{OutputKey: OutputValue}` of a stack description."""
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def write_flat_outputs(outputs: dict[str, str], path: Path = FLAT_OUTPUTS_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_flat_outputs(path: Path = FLAT_OUTPUTS_PATH) -> dict[str, str]:
    """The outputs `write_flat_outputs` wrote."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def discover_stack_name(names: StackNames, default_environment: str | None = None) -> str:
    """STACK_NAME, else the stack of ENVIRONMENT_SUFFIX, else the stack of default_environment."""
    if os.environ.get("STACK_NAME"):
        return os.environ["STACK_NAME"]
    environment = os.environ.get("ENVIRONMENT_SUFFIX") or default_environment
    if not environment:
        raise LookupError("set STACK_NAME or ENVIRONMENT_SUFFIX to say which stack to use")
    return names.stack.for_suffix(environment)


def discover_outputs(cloudformation: Any, name: str, flat_path: Path = FLAT_OUTPUTS_PATH) -> dict[str, str]:
    """The stack's outputs from describe_stacks, falling back to the flat outputs file."""
    try:
        outputs = stack_outputs(cloudformation, name)
    except ClientError:
        outputs = {}
    if outputs:
        return outputs
    if flat_path.is_file():
        return read_flat_outputs(flat_path)
    raise LookupError(f"stack {name} has no outputs and {flat_path} does not exist: deploy it first")


def deployed_template(cloudformation: Any, name: str) -> dict[str, Any]:
    """The template the stack runs (boto3 returns JSON bodies parsed, or as text)."""
    body = cloudformation.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
    return dict(json.loads(body) if isinstance(body, str) else body)
