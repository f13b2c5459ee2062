"""The Lambda artifact's checks that need no build: the import closure against a dependency directory, the
exact pins of the runtime requirements."""

import re
import shutil
from pathlib import Path

import pytest

from tapstack import artifact as lambda_artifact


def test_an_import_missing_from_the_artifact_fails_the_build(tmp_path: Path) -> None:
    """Seed: `No module named 'aws_xray_sdk'` at run time because the dependency was never packed."""
    source = tmp_path / "handlers"
    shutil.copytree(lambda_artifact.SOURCE, source)
    # The dependencies as installed: a package directory for each module the real handlers import.
    deps = tmp_path / "deps"
    for module in lambda_artifact.imports_of(lambda_artifact.SOURCE):
        (deps / module).mkdir(parents=True)
    (source / "webhook_client.py").write_text('"""Forgets requirements.txt."""\n\nimport requests\n')
    (source / "lazy.py").write_text("def later() -> None:\n    import aws_xray_sdk.core  # noqa: F401\n")
    with pytest.raises(lambda_artifact.ImportClosureError) as caught:
        lambda_artifact.check_import_closure(source, deps)
    assert "requests (imported at handlers/webhook_client.py:3)" in str(caught.value)
    assert "aws_xray_sdk (imported at handlers/lazy.py:2)" in str(caught.value)


def test_runtime_requirements_are_exact_pins() -> None:
    lines = [
        line
        for line in lambda_artifact.REQUIREMENTS.read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line) for line in lines), lines
    assert not any(line.startswith(("boto3", "botocore")) for line in lines)
