"""Bounded load through the local stack: exactly the unique events stored and published, none lost."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tapstack.local.load import deliveries_plan, run_load, write_load_report
from tapstack.local.send import LocalRuntime
from tapstack.operate.actions import destroy_environment
from tapstack.operate.cloud import Clients
from tests.integration.conftest import deploy

# `make load` runs 2,000 deliveries; the test runs fewer. Repeats sent while an earlier copy can still be in
# flight are what it is about: the seeded plan of 150 has 7 of them, that of 250 had 3.
DELIVERIES = 150
DUPLICATE_SHARE = 0.2
SENDERS = 8
TIME_BUDGET_SECONDS = 50.0


@pytest.fixture
def load_stack(emulator: Clients, tmp_path: Path) -> Iterator[LocalRuntime]:
    """A stack of its own, so that the table holds only this run's events."""
    deployed = deploy(emulator, "load", tmp_path)
    runtime = deployed.runtime()
    with runtime.activated():
        yield runtime
    destroy_environment(deployed.deployment, with_bootstrap=False, report=deployed.log.append)


def racing_repeats(plan: list[tuple[str, bytes]], senders: int) -> int:
    """Repeats sent fewer than `senders` deliveries after the previous copy: both can be in flight at once."""
    last_sent: dict[tuple[str, bytes], int] = {}
    racing = 0
    for position, delivery in enumerate(plan):
        if delivery in last_sent and position - last_sent[delivery] < senders:
            racing += 1
        last_sent[delivery] = position
    return racing


@pytest.mark.load
def test_concurrent_deliveries_store_and_publish_each_unique_event_once(load_stack: LocalRuntime) -> None:
    assert racing_repeats(deliveries_plan(DELIVERIES, DUPLICATE_SHARE), SENDERS) >= 5  # else nothing races
    result = run_load(load_stack, DELIVERIES, DUPLICATE_SHARE, SENDERS, TIME_BUDGET_SECONDS)
    write_load_report(result, "pytest tests/integration/test_load.py")

    assert result.unique_events == DELIVERIES - round(DELIVERIES * DUPLICATE_SHARE)
    assert result.accepted == DELIVERIES
    assert result.stored == result.unique_events
    assert result.published == result.unique_events
    assert result.dead_letters == 0
