"""The frame of the asynchronous functions: what it counts and logs around a step, and that failures raise."""

from collections.abc import Mapping
from typing import Any

import pytest

from handlers.asynchronous import AsynchronousFunction, Outcome
from tapstack.local.local_lambda import FakeContext
from tests.support.telemetry import emitted

EVENT = {"correlation_id": "corr-1", "value": "v"}


def frame(decode: Any, step: Any, dependencies: Any = lambda: "deps") -> AsynchronousFunction[Any, Any]:
    return AsynchronousFunction(
        decode=decode,
        step=step,
        dependencies=dependencies,
        correlation_id_path="correlation_id",
        failure="testing failed",
    )


def test_a_step_s_outcome_is_counted_logged_and_returned(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[object, object, str]] = []

    def step(decoded: Mapping[str, object], deps: str, now: str) -> Outcome:
        calls.append((decoded, deps, now))
        return Outcome("SomethingDone", "generic#evt-1", {"answer": "42"})

    function = frame(lambda event: event["value"], step)
    with emitted(function.logger, capsys) as (logs, metrics):
        response = function.handler(EVENT, FakeContext("tapstack-processor"))

    assert response == {"answer": "42"}
    ((decoded, deps, now),) = calls
    assert (decoded, deps) == ("v", "deps")
    assert now.endswith("Z")
    (log,) = logs
    assert (log["level"], log["message"], log["transaction_id"]) == ("INFO", "somethingdone", "generic#evt-1")
    assert (log["correlation_id"], log["function_name"]) == ("corr-1", "tapstack-processor")
    assert metrics == ["SomethingDone"]


@pytest.mark.parametrize("failing", ["decode", "step"])
def test_a_failure_is_counted_logged_and_raised_for_lambda_to_retry(
    capsys: pytest.CaptureFixture[str], failing: str
) -> None:
    def fail(*_: object) -> Any:
        raise ValueError("not a hand-off")

    def step(*_: object) -> Outcome:
        return Outcome("SomethingDone", "generic#evt-1", {})

    function = frame(fail, step) if failing == "decode" else frame(lambda event: event, fail)
    with (
        emitted(function.logger, capsys) as (logs, metrics),
        pytest.raises(ValueError, match="not a hand-off"),
    ):
        function.handler(EVENT, FakeContext("tapstack-processor"))

    (log,) = logs
    assert (log["level"], log["message"]) == ("ERROR", "testing failed; Lambda retries, then dead-letters it")
    assert "not a hand-off" in log["exception"]
    assert metrics == ["Failed"]


def test_dependencies_are_built_once_per_container_and_replaceable() -> None:
    built: list[str] = []

    def build() -> str:
        built.append("built")
        return "from the environment"

    seen: list[str] = []

    def step(_: object, deps: str, __: str) -> Outcome:
        seen.append(deps)
        return Outcome("Done", "t", {})

    function = frame(lambda event: event, step, build)
    function.handler(EVENT, FakeContext("f"))
    function.handler(EVENT, FakeContext("f"))
    function.dependencies.set("injected")
    function.handler(EVENT, FakeContext("f"))

    assert built == ["built"]
    assert seen == ["from the environment", "from the environment", "injected"]
