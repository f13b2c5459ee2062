"""Bounded load through the local stack: exactly the unique events stored and published, none lost."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tapstack.local.load import run_load, write_load_report
from tapstack.local.send import LocalRuntime
from tapstack.operate.actions import destroy_environment
from tapstack.operate.cloud import Clients
from tests.integration.conftest import deploy

# `make load` runs 2,000 deliveries; the test runs fewer to stay well under a minute on 2 cores.
DELIVERIES = 250
DUPLICATE_SHARE = 0.2
SENDERS = 8
TIME_BUDGET_SECONDS = 50.0


@pytest.fixture
def load_stack(emulator: Clients, tmp_path: Path) -> Iterator[LocalRuntime]:
    """A stack of its own, so that the table holds only this run's events."""
    deployed = deploy(emulator, "load", tmp_path)
    runtime = LocalRuntime.for_deployed_stack(emulator, "load")
    with runtime.activated():
        yield runtime
    destroy_environment(emulator, "load", with_bootstrap=False, report=deployed.log.append)


@pytest.mark.load
def test_concurrent_deliveries_store_and_publish_each_unique_event_once(load_stack: LocalRuntime) -> None:
    result = run_load(load_stack, DELIVERIES, DUPLICATE_SHARE, SENDERS, TIME_BUDGET_SECONDS)
    write_load_report(result, "pytest tests/integration/test_load.py")

    assert result.unique_events == DELIVERIES - round(DELIVERIES * DUPLICATE_SHARE)
    assert result.accepted == DELIVERIES
    assert result.stored == result.unique_events
    assert result.published == result.unique_events
    assert result.dead_letters == 0
