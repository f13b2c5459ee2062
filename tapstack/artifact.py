"""Build the one deterministic Lambda artifact shared by the three functions (`make package`).

The zip holds the handler code (`src/handlers` as `handlers/`) and the runtime dependencies from
`src/handlers/requirements.txt`, installed for the functions' platform (python3.13, arm64). The same
inputs always give a byte-identical zip: fixed timestamps and permissions, sorted entries, no
bytecode. Its name carries its content hash: `build/lambda-<sha256 prefix>.zip`.

Before zipping, an import-closure check fails the build when handler code imports a module that is
neither standard library, the handlers' own code, a dependency inside the zip, nor provided by the
Lambda runtime: the "No module named ..." that otherwise shows only at run time.
"""

import ast
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tapstack import paths

ROOT = paths.REPOSITORY
SOURCE = paths.HANDLERS_SOURCE
REQUIREMENTS = SOURCE / "requirements.txt"
BUILD = paths.BUILD

PIP_PLATFORM = (
    "--platform",
    "manylinux2014_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    "3.13",
    "--only-binary=:all:",
)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda's limit for a function's unzipped code

# Modules the python3.13 Lambda runtime provides, so they stay out of the zip. Only boto3 and
# botocore are imported by the handlers; the rest are their dependencies, listed so that a direct
# import of one is not mistaken for a missing dependency.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"})

# The build runs on Python 3.11, whose stdlib list still has the modules PEP 594 removed in 3.13.
REMOVED_IN_313 = frozenset(
    {
        "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap", "msilib",
        "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib",
    }
)  # fmt: skip
OWN_PACKAGE = "handlers"


class ImportClosureError(Exception):
    """Handler code imports something the artifact will not have at run time."""


# Part of the dependency cache key: bump it when what install_dependencies leaves behind changes.
DEPENDENCY_LAYOUT = "no-console-scripts-2"


def _drop_console_scripts(target: Path) -> None:
    """Remove bin/ and its RECORD lines: the scripts' shebangs name this machine's Python, so they (and
    their hashes in RECORD) would make the artifact depend on where it was built; Lambda never runs them."""
    shutil.rmtree(target / "bin", ignore_errors=True)
    for record in target.glob("*.dist-info/RECORD"):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        record.write_text(
            "".join(line for line in lines if not line.startswith("../../bin/")), encoding="utf-8"
        )


def install_dependencies(requirements: Path = REQUIREMENTS, build_dir: Path = BUILD) -> Path:
    """Install the requirements for the functions' platform, once per requirements content."""
    recipe = requirements.read_bytes() + " ".join(PIP_PLATFORM).encode() + DEPENDENCY_LAYOUT.encode()
    key = hashlib.sha256(recipe).hexdigest()[:16]
    target = build_dir / "deps" / key
    if target.is_dir():
        return target
    staging = build_dir / "deps" / f".{key}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    subprocess.run(  # noqa: S603 (fixed arguments, our own interpreter)
        [
            sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--no-compile",
            *PIP_PLATFORM, "--target", str(staging), "--cache-dir", str(build_dir / "pip-cache"),
            "--requirement", str(requirements),
        ],
        check=True,
    )  # fmt: skip
    _drop_console_scripts(staging)
    try:
        staging.rename(target)
    except OSError:  # a concurrent build (pytest-xdist) installed the same key first
        shutil.rmtree(staging)
    return target


def provided_by(deps: Path) -> set[str]:
    """Top-level module names importable from an installed dependency directory."""
    names = set()
    for entry in deps.iterdir():
        if entry.name.endswith((".dist-info", ".data")) or entry.name.startswith((".", "__")):
            continue
        names.add(entry.name.split(".")[0])  # package dir, module.py, or ext.cpython-313-....so
    return names


def imports_of(source: Path) -> dict[str, list[str]]:
    """Top-level modules imported anywhere in the handler code (lazy imports included) -> where."""
    found: dict[str, list[str]] = {}
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(
                    f"{path.relative_to(source.parent)}:{node.lineno}"
                )
    return found


def check_import_closure(source: Path, deps: Path) -> None:
    allowed = (
        (set(sys.stdlib_module_names) - REMOVED_IN_313) | provided_by(deps) | RUNTIME_PROVIDED | {OWN_PACKAGE}
    )
    missing = {name: where for name, where in imports_of(source).items() if name not in allowed}
    if missing:
        details = "; ".join(
            f"{name} (imported at {', '.join(where)})" for name, where in sorted(missing.items())
        )
        raise ImportClosureError(
            f"not in the artifact, the stdlib or the Lambda runtime: {details}; add it to {REQUIREMENTS.name}"
        )


def artifact_entries(source: Path, deps: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file) for every file the artifact holds, sorted by name."""
    entries = [
        (f"{OWN_PACKAGE}/{path.relative_to(source).as_posix()}", path)
        for path in source.rglob("*")
        if path.suffix in (".py", ".pem")  # .pem: the PayPal trust anchors the receiver pins
    ]
    entries += [
        (path.relative_to(deps).as_posix(), path)
        for path in deps.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    return sorted(entries)


def zip_bytes(entries: list[tuple[str, Path]]) -> bytes:
    buffer = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.create_system = 3  # Unix, so that the permission bits below are honoured
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            total += len(data)
            archive.writestr(info, data, compresslevel=9)
    if total > MAX_UNZIPPED_BYTES:
        raise ValueError(f"the artifact unzips to {total} bytes, over Lambda's 250 MB")
    return buffer.getvalue()


def build_artifact(source: Path = SOURCE, requirements: Path = REQUIREMENTS, build_dir: Path = BUILD) -> Path:
    """Build (or find, when the same content was built before) the artifact; return its path."""
    deps = install_dependencies(requirements, build_dir)
    check_import_closure(source, deps)
    data = zip_bytes(artifact_entries(source, deps))
    path = build_dir / f"lambda-{hashlib.sha256(data).hexdigest()[:16]}.zip"
    if not path.exists():
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        staging.write_bytes(data)
        staging.replace(path)
    return path
