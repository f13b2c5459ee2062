"""The frame of both asynchronous functions: their dependencies, logger and metrics, and what they do
around their own step: decode the event, count and log the outcome, let failures raise.

A failure must raise out of the handler: only then does Lambda retry and finally route the event to the
function's dead-letter queue (nothing is swallowed here).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from handlers.aws import Once
from handlers.core.fields import utc_iso

if TYPE_CHECKING:  # for the annotations only: the handlers' cold start does not import it
    from aws_lambda_powertools.utilities.typing import LambdaContext

Event = TypeVar("Event")
Dependencies = TypeVar("Dependencies")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a step did: its name (the metric counted and, lower-cased, the log message), the
    transaction it did it to, and what the function returns (its on-success destination's payload)."""

    name: str
    transaction_id: str
    response: Mapping[str, object]


class AsynchronousFunction(Generic[Event, Dependencies]):
    """One asynchronous function: `handler` is its Lambda entry point, `dependencies` what its step
    uses (built from the environment on first use; tests and tools `set` their own)."""

    def __init__(
        self,
        *,
        decode: Callable[[Mapping[str, object]], Event],
        step: Callable[[Event, Dependencies, str], Outcome],
        dependencies: Callable[[], Dependencies],
        correlation_id_path: str,
        failure: str,
    ) -> None:
        """`decode` parses the event (ValueError if malformed), `step` does the function's work on it
        at a time (UTC ISO 8601); `failure` begins the log message of an attempt that raised."""
        self._decode = decode
        self._step = step
        self._failure = failure
        self.dependencies = Once(dependencies)
        self.logger = Logger()
        self.metrics = EphemeralMetrics()
        counted = self.metrics.log_metrics(self._handle, capture_cold_start_metric=True)
        self.handler = self.logger.inject_lambda_context(counted, correlation_id_path=correlation_id_path)

    def _handle(self, event: Mapping[str, object], context: "LambdaContext") -> Mapping[str, object]:  # noqa: ARG002 (Lambda's signature)
        dependencies = self.dependencies.get()
        try:
            outcome = self._step(self._decode(event), dependencies, utc_iso(datetime.now(UTC)))
        except Exception:
            self.metrics.add_metric(name="Failed", unit=MetricUnit.Count, value=1)
            self.logger.exception(f"{self._failure}; Lambda retries, then dead-letters it")
            raise
        self.metrics.add_metric(name=outcome.name, unit=MetricUnit.Count, value=1)
        self.logger.info(outcome.name.lower(), extra={"transaction_id": outcome.transaction_id})
        return outcome.response
