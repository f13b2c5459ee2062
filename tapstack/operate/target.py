"""Where a stack is deployed: the one seam between the stack commands and AWS or the local emulator.

`DeployTarget` is what the commands need of a place to deploy to: its clients and timing, preparing the
account, beginning a change to a stack, reading the outputs, listing and deleting a stack's resources,
and invoking a function. `AwsTarget` is AWS with the usual credential chain; the emulator's
implementation, with every moto workaround and its reason, is tapstack/local/target.py's
`EmulatorTarget`, which the CLI injects: this package never imports the emulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from tapstack.operate.cloud import Clients, Report, Timing, stack_outputs
from tapstack.operate.destroy import StackDeletion, StackResource, delete_and_wait, listed_resources
from tapstack.operate.replay import Invoker
from tapstack.operate.stacks import EventStream, StackChanges, StackRequest, begin_change_set
from templates.naming import StackNames


class DeployTarget(StackChanges, StackDeletion, Protocol):
    """AWS or the emulator, as the stack commands use either."""

    def prepare_account(self, names: StackNames, report: Report) -> None:
        """Give the account what a deploy of these names needs before the first one."""
        ...

    def deployable(
        self, template: dict[str, Any], overrides: dict[str, str], text: str
    ) -> tuple[dict[str, Any], str]:
        """The template to deploy, and its text, for the template file read as `template` and `text`."""
        ...

    def template_url(self, bucket: str, key: str) -> str:
        """Where CloudFormation reads a template uploaded to the artifact bucket."""
        ...

    def stack_outputs(self, stack: str, environment: str, template: dict[str, Any]) -> dict[str, str]:
        """Every output of the deployed stack, `template` being the one deployed."""
        ...

    def leftover_cleanup(self, stack: str, environment: str) -> Callable[[], None]:
        """What removes, once the stack is deleted, what the target made beside it (read before the
        delete: it is read from the stack's template)."""
        ...

    def invoker(self, stack: str, environment: str) -> AbstractContextManager[Invoker]:
        """A Lambda client that invokes the stack's functions, while the context lasts."""
        ...

    def lambda_account_limits(self) -> dict[str, Any] | None:
        """Lambda's AccountLimit (ClientError when it cannot be read); None where there is none."""
        ...

    @property
    def supplies_verification_material(self) -> bool:
        """Whether the target puts working signing material into the webhook secret itself (the
        emulator's local material), so that no placeholder is ever deployed."""
        ...


def _nothing() -> None:
    """A real stack owns everything deleting it removes."""


@dataclass(frozen=True)
class AwsTarget:
    """AWS: change sets, CloudFormation's own DeleteStack, and Lambda running the functions."""

    clients: Clients
    timing: Timing = field(default_factory=Timing)

    def prepare_account(self, names: StackNames, report: Report) -> None:
        """Nothing: a real account is bootstrapped once (`tapstack bootstrap`), and its API Gateway
        logging role is the operator's decision, which preflight checks."""

    def deployable(
        self,
        template: dict[str, Any],
        overrides: dict[str, str],  # noqa: ARG002 (DeployTarget's signature)
        text: str,
    ) -> tuple[dict[str, Any], str]:
        return template, text

    def template_url(self, bucket: str, key: str) -> str:
        return f"https://{bucket}.s3.{self.clients.region}.amazonaws.com/{key}"

    def begin_change(
        self, request: StackRequest, existing: dict[str, Any] | None, report: Report
    ) -> EventStream | None:
        return begin_change_set(self.clients("cloudformation"), request, existing, report, self.timing)

    def stack_outputs(self, stack: str, environment: str, template: dict[str, Any]) -> dict[str, str]:  # noqa: ARG002 (DeployTarget's signature)
        return stack_outputs(self.clients("cloudformation"), stack)

    def stack_resources(self, stack: dict[str, Any]) -> list[StackResource]:
        return listed_resources(self.clients("cloudformation"), stack["StackId"])

    def delete_stack(self, stack: str, resources: list[StackResource], stream: EventStream) -> str:  # noqa: ARG002 (DeployTarget's signature)
        return delete_and_wait(self.clients("cloudformation"), stack, stream, self.timing)

    def leftover_cleanup(self, stack: str, environment: str) -> Callable[[], None]:  # noqa: ARG002 (DeployTarget's signature)
        return _nothing

    @contextmanager
    def invoker(self, stack: str, environment: str) -> Iterator[Invoker]:  # noqa: ARG002 (DeployTarget's signature)
        yield self.clients("lambda")

    def lambda_account_limits(self) -> dict[str, Any] | None:
        return dict(self.clients("lambda").get_account_settings()["AccountLimit"])

    @property
    def supplies_verification_material(self) -> bool:
        """False: on AWS the secret holds placeholders until the operator puts the providers' material in."""
        return False
