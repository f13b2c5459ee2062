"""Every tier's set-up: Powertools' settings, the shared fixtures (tests/support/fixtures.py),
each test's tier marker, set by its folder: unit, functional, integration or guardrails, and the
`settings` marker of the tests that read the generation settings (rerun by `make test-settings`)."""

import os
from collections.abc import Iterator
from pathlib import Path
from types import CodeType

import pytest

# Powertools reads these when a handler module is imported, which can happen at collection in any test
# directory (the handler, template and integration tests all import handlers), so they are set first.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "TapStack")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tapstack-tests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")

SHARED_FIXTURES = "tests.support.fixtures"
pytest_plugins = [SHARED_FIXTURES]

from tests.support import settings  # noqa: E402 (after the environment the handlers read)

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
        if reads_the_settings(item):
            item.add_marker("settings")


SETTINGS_FIXTURES = {"config_in_force", "template"}
SETTINGS_VALUES = {name: value for name, value in vars(settings).items() if name.isupper()}


def _global_names(code: CodeType) -> Iterator[str]:
    """The global names a function's code reads, its nested functions and comprehensions included."""
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _global_names(constant)


def reads_the_settings(item: pytest.Item) -> bool:
    """Whether a test reads the generation settings in force: through a fixture built from them, or a
    value of tests/support/settings.py named in its code."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    # The shared fixtures only: a module's own `template` fixture is its own input.
    shared = (definitions[name][-1].func for name in SETTINGS_FIXTURES & set(definitions))
    if any(getattr(function, "__module__", None) == SHARED_FIXTURES for function in shared):
        return True
    function = getattr(item, "function", None)
    if function is None:
        return False
    module_globals = function.__globals__
    return any(
        name in SETTINGS_VALUES and module_globals.get(name) is SETTINGS_VALUES[name]
        for name in _global_names(function.__code__)
    )
