"""Lambda entry point for the notifier function (not implemented yet)."""

from typing import Any


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Refuse honestly: this function's code has not been written yet."""
    raise NotImplementedError("the notifier handler is not implemented yet")
