"""Options more than one room's commands take, defined once (this module imports no command's library)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

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


class MomentType(click.ParamType[int, str]):
    """A moment as Unix seconds: ISO 8601 (`2026-12-01T10:00:00Z`), Unix seconds, or a span ago
    (`90m`, `6h`, `3d`)."""

    name = "TIME"
    SPANS: ClassVar[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        if text[:-1].isdigit() and text[-1:] in self.SPANS:
            return int(time.time()) - int(text[:-1]) * self.SPANS[text[-1]]
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a time: give e.g. 2026-12-01T10:00:00Z, 1764583200 or 6h", param, ctx)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())


MOMENT = MomentType()
