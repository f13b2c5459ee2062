"""Parameter files: the `--parameter-overrides` of `aws cloudformation deploy`, a JSON list of "Key=Value".

Read by deploy, preflight and lint alike, and checked against the template before anything reaches AWS;
no AWS SDK is imported here, so lint and generation stay free of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tapstack.exits import CommandError


class ParameterFileError(CommandError):
    """A parameter file that cannot be deployed as it is: the user's input to fix, before any AWS call."""

    def __init__(self, message: str) -> None:
        super().__init__(f'{message}; fix the file (a JSON list of "Key=Value", see params/dev.json)')


def load_parameter_file(path: Path, template: dict[str, Any] | None = None) -> dict[str, str]:
    """A `--parameter-overrides` file of `aws cloudformation deploy`: a JSON list of "Key=Value".

    Checked before anything reaches AWS or the artifact is built: readable, JSON, that format, and (given
    the template) only keys the template declares, with values its AllowedValues allow.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ParameterFileError(f"cannot read the parameter file {path}: {error.strerror}") from error
    except ValueError as error:
        raise ParameterFileError(f"{path} is not valid JSON ({error})") from error
    if not isinstance(entries, list) or not all(isinstance(entry, str) and "=" in entry for entry in entries):
        raise ParameterFileError(f'{path}: expected a JSON list of "Key=Value" strings')
    overrides = dict(entry.split("=", 1) for entry in entries)
    if template is not None:
        declared = template.get("Parameters", {})
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise ParameterFileError(
                f"{path} sets {', '.join(unknown)}, which the template does not declare "
                f"(it declares {', '.join(sorted(declared))})"
            )
        for key, value in overrides.items():
            allowed = declared[key].get("AllowedValues")
            if allowed is not None and value not in map(str, allowed):
                raise ParameterFileError(
                    f"{path} sets {key}={value}; allowed: {', '.join(map(str, allowed))}"
                )
    return overrides
