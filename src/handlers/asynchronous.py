"""What both asynchronous functions do around their core step: count it, log it, let failures raise.

A failure must raise out of the handler: only then does Lambda retry and finally route the event to the
function's dead-letter queue (nothing is swallowed here).
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

Result = dict[str, Any]


def run_counted(
    step: Callable[[], Result],
    outcome_of: Callable[[Result], tuple[str, str]],
    *,
    logger: Logger,
    metrics: EphemeralMetrics,
    failure: str,
) -> Result:
    """Run `step`; count and log its outcome (name, transaction id), or count and log the failure and
    re-raise it."""
    try:
        result = step()
    except Exception:
        metrics.add_metric(name="Failed", unit=MetricUnit.Count, value=1)
        logger.exception(f"{failure}; Lambda retries, then dead-letters it")
        raise
    outcome, transaction_id = outcome_of(result)
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
    logger.info(outcome.lower(), extra={"transaction_id": transaction_id})
    return result
