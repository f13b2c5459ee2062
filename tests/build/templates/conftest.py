from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from templates.config import StackConfig
from templates.stack import build_template, render


@pytest.fixture(scope="session")
def default_config() -> StackConfig:
    return StackConfig(today=datetime.date(2026, 11, 23))


@pytest.fixture(scope="session")
def template(default_config: StackConfig) -> dict[str, Any]:
    rendered: dict[str, Any] = json.loads(render(build_template(default_config)))
    return rendered
