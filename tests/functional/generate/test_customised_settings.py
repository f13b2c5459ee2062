"""A fork that customises tapstack.toml and regenerates stays green: in a copy of the checkout with other
settings (prefix, log retention, memory, stage name), the tests that read the settings (marked
`settings`, see tests/conftest.py) pass against what those settings generate.

Only those tests run again, so the proof costs a fraction of the suite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tapstack import paths

# What a team changes on day one; each differs from the committed value (asserted below).
CUSTOMISED = {
    "name_prefix": '"acme-pay"',
    "default_log_retention_days": "90",
    "api_stage_name": '"live"',
    "receiver.memory_mb": "512",
    "processor.memory_mb": "2048",
    "notifier.memory_mb": "256",
}
# Not part of a checkout: environments, caches, build products, local state.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".venv-checkov", "node_modules", "build", "dist", ".local", "cfn-outputs",
    "__pycache__", ".mypy_cache", ".ruff_cache", ".hypothesis", ".pytest_cache", "*.egg-info",
)  # fmt: skip
RUN_LIMIT_SECONDS = 300


def customised(settings_text: str) -> str:
    """tapstack.toml with CUSTOMISED's values in place of its own, each found in its own table."""
    for name, value in CUSTOMISED.items():
        table, _, key = name.rpartition(".")
        start = settings_text.index(f"[{table}]\n") if table else 0
        assignment = re.compile(rf"^{re.escape(key)} = .*$", re.MULTILINE)
        found = assignment.search(settings_text, start)
        assert found is not None, name
        assert found.group() != f"{key} = {value}", f"{name} is {value} already: customise another value"
        settings_text = settings_text[: found.start()] + f"{key} = {value}" + settings_text[found.end() :]
    return settings_text


def run_in(fork: Path, *command: str) -> subprocess.CompletedProcess[str]:
    # The fork's own code first: its tapstack, templates and tests, not the installed checkout's.
    environment = os.environ | {"PYTHONPATH": os.pathsep.join([str(fork), str(fork / "src")])}
    return subprocess.run(
        [sys.executable, *command],
        cwd=fork,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=RUN_LIMIT_SECONDS,
    )


def test_the_tests_that_read_the_settings_pass_with_customised_settings(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # This session's tests that read the settings: their files only are collected again (all of tests/
    # when this test runs alone).
    marked = [item for item in request.session.items if item.get_closest_marker("settings")]
    files = sorted({str(item.path.relative_to(paths.REPOSITORY)) for item in marked}) or ["tests"]
    fork = tmp_path / "fork"
    shutil.copytree(paths.REPOSITORY, fork, ignore=NOT_COPIED)
    settings_file = fork / "tapstack.toml"
    settings_file.write_text(customised(settings_file.read_text(encoding="utf-8")), encoding="utf-8")

    generated = run_in(fork, "generate.py")
    assert generated.returncode == 0, generated.stderr
    assert '"acme-pay-receiver-${EnvironmentSuffix}"' in (fork / "output" / "TapStack.json").read_text()
    read = run_in(fork, "-c", "from tests.support.settings import CONFIG_IN_FORCE as c; print(c.name_prefix)")
    assert read.stdout.strip() == "acme-pay", read.stderr  # the fork's tests read the fork's settings

    tested = run_in(fork, "-m", "pytest", "-q", "-m", "settings", "-p", "no:xdist", *files)
    summary = tested.stdout.strip().splitlines()[-1] if tested.stdout.strip() else tested.stderr
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, summary
    # Every one of them ran again (none deselected or skipped away), or, alone, some did.
    assert int(passed.group(1)) == len(marked) if marked else int(passed.group(1)) > 0, summary
