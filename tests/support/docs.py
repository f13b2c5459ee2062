"""Reading the documentation's examples, so that tests run what the pages show."""

import re
from pathlib import Path

from tapstack import paths

CONSUMERS_PAGE = paths.REPOSITORY / "docs" / "consumers.md"


def code_block(page: Path, language: str) -> str:
    """The one fenced block of `language` on `page`."""
    (block,) = re.findall(rf"^```{language}\n(.*?)^```$", page.read_text(), re.MULTILINE | re.DOTALL)
    return str(block)
