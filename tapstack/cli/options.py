"""Options more than one room's commands take, defined once (this module imports no command's library)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from handlers.core.windows import parse_moment
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


class MomentType(click.ParamType):  # type: ignore[type-arg]  # click < 8.5 takes one parameter, 8.5 two
    """A moment as Unix seconds: what handlers.core.windows.parse_moment reads (ISO 8601 with an
    offset, a UTC date, or a time ago: `90m`, `6h`, `3d`), or Unix seconds."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        try:
            return int(parse_moment(text, datetime.now(UTC)).timestamp())
        except ValueError as error:
            self.fail(str(error), param, ctx)


MOMENT = MomentType()
