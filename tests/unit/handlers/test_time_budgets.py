"""Time budgets by arithmetic: every AWS call (and the PayPal certificate fetch) of each deployed function
ends before the function's timeout.

The budgets are derived from FUNCTION_TIMEOUT_SECONDS, which the template sets to each function's
Timeout; tests/functional/handlers/test_time_budgets.py checks them against dependencies that hang.
"""

from typing import Any

import pytest

from handlers.aws import (
    FUNCTION_TIMEOUT_VARIABLE,
    MAX_READ_TIMEOUT_SECONDS,
    RESERVE_FRACTION,
    SEQUENTIAL_CALLS,
    CallBudget,
)
from tapstack import paths
from tapstack.cfn.model import read_template
from templates.config import API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS


def _functions() -> dict[str, dict[str, Any]]:
    """The generated template's functions by role (`handlers.<role>.handler`)."""
    resources = read_template(paths.TEMPLATE)["Resources"].values()
    return {
        r["Properties"]["Handler"].split(".")[1]: r["Properties"]
        for r in resources
        if r["Type"] == "AWS::Lambda::Function"
    }


FUNCTIONS = _functions()


def timeout_of(role: str) -> int:
    return int(FUNCTIONS[role]["Timeout"])


@pytest.mark.parametrize("role", sorted(FUNCTIONS))
def test_the_template_gives_each_function_its_own_timeout_to_budget_from(role: str) -> None:
    variables = FUNCTIONS[role]["Environment"]["Variables"]
    assert variables[FUNCTION_TIMEOUT_VARIABLE] == str(FUNCTIONS[role]["Timeout"])


def test_every_deployed_function_has_its_count_of_sequential_calls() -> None:
    assert set(SEQUENTIAL_CALLS) == set(FUNCTIONS)


@pytest.mark.parametrize("role", sorted(FUNCTIONS))
def test_each_deployed_function_s_calls_all_end_before_its_timeout(role: str) -> None:
    timeout, calls = timeout_of(role), SEQUENTIAL_CALLS[role]
    budget = CallBudget.for_function(timeout, calls)
    assert calls * budget.worst_case_seconds <= timeout * (1 - RESERVE_FRACTION) + 1e-9
    if role == "receiver":
        assert calls * budget.worst_case_seconds < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS - 10


@pytest.mark.parametrize("calls", sorted(set(SEQUENTIAL_CALLS.values())))
def test_every_timeout_lambda_allows_has_a_budget_that_fits(calls: int) -> None:
    for timeout in range(1, 901):
        budget = CallBudget.for_function(timeout, calls)
        assert budget.attempts >= 1, timeout
        assert 0 < budget.connect_timeout <= 1, timeout
        assert 0 < budget.read_timeout <= MAX_READ_TIMEOUT_SECONDS, timeout
        assert budget.worst_case_seconds <= budget.per_call_seconds + 1e-9, timeout
        assert 2 * budget.fetch_timeout_seconds <= budget.per_call_seconds + 1e-9, timeout  # connect + read
        assert calls * budget.per_call_seconds < timeout, timeout


def test_the_defaults_retry_within_their_budgets() -> None:
    """The numbers the README documents for the default timeouts."""
    assert CallBudget.for_function(20, 3) == CallBudget(6.0, 1.0, 1.5, 2)
    assert CallBudget.for_function(30, 3) == CallBudget(9.0, 1.0, 1.0, 3)
    processor = CallBudget.for_function(30, 5)
    assert (processor.per_call_seconds, processor.read_timeout, processor.attempts) == pytest.approx(
        (5.4, 1.2, 2)
    )
