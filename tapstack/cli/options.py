"""Options more than one room's commands take, defined once (this module imports no command's library)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tapstack import paths
from tapstack.exits import CommandError


def template_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--template PATH` (passed as `template_path`), by default the committed generated template."""
    return click.option(
        "--template",
        "template_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=paths.TEMPLATE,
        show_default=str(paths.TEMPLATE.relative_to(paths.REPOSITORY)),
        help=help_text,
    )


TEMPLATE_ERRORS = (OSError, ValueError, LookupError)
"""What reading a file that is not a generated template raises."""


def unusable_template(template_path: Path, error: Exception) -> CommandError:
    return CommandError(
        f"cannot use {template_path} as the stack's template ({error}): generate it with "
        f"`tapstack generate --output {template_path}`"
    )
