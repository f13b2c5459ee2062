"""The Lambda artifact as built (with its aarch64 wheels): deterministic, complete (import closure), and every
Handler resolves inside it. (The checks that need no build: tests/unit/generate/test_artifact_checks.py.)"""

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tapstack import artifact as lambda_artifact

HANDLERS = ["handlers.receiver.handler", "handlers.processor.handler", "handlers.notifier.handler"]

pytestmark = pytest.mark.slow  # the first build of a session downloads aarch64 wheels


@pytest.fixture(scope="session")
def artifact() -> Path:
    return lambda_artifact.build_artifact()


def test_the_build_is_byte_identical_and_named_by_its_hash(artifact: Path) -> None:
    data = artifact.read_bytes()
    assert artifact.name == f"lambda-{hashlib.sha256(data).hexdigest()[:16]}.zip"
    assert lambda_artifact.build_artifact() == artifact
    deps = lambda_artifact.install_dependencies()
    assert lambda_artifact.zip_bytes(lambda_artifact.artifact_entries(lambda_artifact.SOURCE, deps)) == data


def test_entries_are_sorted_with_fixed_dates_and_modes_and_no_bytecode(artifact: Path) -> None:
    with zipfile.ZipFile(artifact) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {lambda_artifact.ZIP_DATE}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    assert not [
        name for name in names if "__pycache__" in name or name.endswith(".pyc") or name.startswith("bin/")
    ]
    assert "handlers/receiver.py" in names
    assert "handlers/providers/paypal.py" in names
    assert any(name.startswith("aws_lambda_powertools/") for name in names)
    assert "_cffi_backend.cpython-313-aarch64-linux-gnu.so" in names  # built for python3.13 on arm64
    with zipfile.ZipFile(artifact) as archive:
        elf = archive.read("cryptography/hazmat/bindings/_rust.abi3.so")[:20]
    assert int.from_bytes(elf[18:20], "little") == 183  # ELF e_machine EM_AARCH64
    assert not any(name.startswith(("boto3/", "botocore/")) for name in names)  # the runtime's


def test_nothing_in_the_artifact_depends_on_where_it_was_built(artifact: Path) -> None:
    """Paths of this machine (console-script shebangs, their hashes in RECORD) would change the zip."""
    with zipfile.ZipFile(artifact) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            assert str(lambda_artifact.ROOT).encode() not in data, info.filename
            assert sys.prefix.encode() not in data, info.filename
            if info.filename.endswith(".dist-info/RECORD"):
                assert b"../" not in data, info.filename


def test_every_handler_resolves_inside_the_extracted_zip(artifact: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(tmp_path)
    probe = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        f"for spec in {HANDLERS!r}:\n"
        "    module, name = spec.rsplit('.', 1)\n"
        "    loaded = importlib.import_module(module)\n"
        f"    assert loaded.__file__.startswith({str(tmp_path)!r}), loaded.__file__\n"
        "    assert callable(getattr(loaded, name)), spec\n"
        "import aws_lambda_powertools\n"
        f"assert aws_lambda_powertools.__file__.startswith({str(tmp_path)!r})\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_real_handlers_pass_the_import_closure_check() -> None:
    lambda_artifact.check_import_closure(lambda_artifact.SOURCE, lambda_artifact.install_dependencies())
    assert {"aws_lambda_powertools", "cryptography", "boto3", "botocore"} <= set(
        lambda_artifact.imports_of(lambda_artifact.SOURCE)
    )
