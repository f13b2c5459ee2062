"""Failures injected into the local stack, so one can watch an event dead-letter and be replayed.

An operation fault makes one AWS call of the handlers fail as the service would (a 500); a crash makes
one asynchronous function raise before it does anything; `unreachable` keeps the delivery from reaching
the stack at all (the endpoint down, the WAF blocking it): the provider has created and logged the event,
and only reconciliation with its log (`make reconcile-local`) recovers it. The first two last as long
as the runtime does (tapstack/local/send.py's `LocalRuntime.inject_fault`): the replay that recovers
the event runs in a new process, without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

# fault name -> (service, operation) of the handlers' call that fails
OPERATION_FAULTS = {
    "table": ("dynamodb", "PutItem"),  # the processor's store
    "bucket": ("s3", "PutObject"),  # the processor's audit archive
    "topic": ("sns", "Publish"),  # the notifier's publication
}
# fault name -> the function (its name's role part) that crashes
CRASH_FAULTS = ("processor", "notifier")
UNREACHABLE = "unreachable"
DEAD_LETTERING_FAULTS = (*CRASH_FAULTS, *OPERATION_FAULTS)
"""The faults an event survives in a dead-letter queue (replay recovers it); `unreachable`'s event never
reached the stack (reconciliation recovers it)."""
FAULTS = (*DEAD_LETTERING_FAULTS, UNREACHABLE)


class InjectedCrashError(RuntimeError):
    """What a crashed function raises: named so that its dead-letter record says it was injected."""


def fail_operation(
    client: Any, operation: str, times: int | None = None, *, after: bool = False
) -> Callable[[], int]:
    """Make `operation` raise (a 500 from the service) `times` times, or always; before or after the call.

    Failing *after* the call models a crash once the request took effect. Returns a call counter.
    """
    calls = 0

    def hook(**_: Any) -> None:
        nonlocal calls
        calls += 1
        if times is None or calls <= times:
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, operation)

    service = client.meta.service_model.service_name
    client.meta.events.register(f"{'after' if after else 'before'}-call.{service}.{operation}", hook)
    return lambda: calls


def crashing(function_name: str) -> Callable[[dict[str, Any], Any], Any]:
    """A handler that crashes before it does anything."""

    def handler(_event: dict[str, Any], _context: Any) -> Any:
        raise InjectedCrashError(f"injected fault: {function_name} crashed")

    return handler
