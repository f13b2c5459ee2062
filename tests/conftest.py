"""Every tier's set-up: Powertools' settings, the shared fixtures (tests/support/fixtures.py),
and each test's tier marker, set by its folder: unit, functional, integration or guardrails."""

import os
from pathlib import Path

import pytest

# Powertools reads these when a handler module is imported, which can happen at collection in any test
# directory (the handler, template and integration tests all import handlers), so they are set first.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "TapStack")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tapstack-tests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")

pytest_plugins = ["tests.support.fixtures"]

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "functional", "integration", "guardrails")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its folder's tier, so `-m unit` selects what `tests/unit/` holds."""
    for item in items:
        tier = item.path.relative_to(TESTS).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(
                f"{item.nodeid}: tests live in a tier's folder, one of {', '.join(TIERS)}"
            )
        item.add_marker(tier)
