"""What the handlers write for CloudWatch: Powertools' JSON log records and embedded-format metrics."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools import Logger


@contextmanager
def emitted(
    logger: Logger, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[list[dict[str, Any]], list[str]]]:
    """The records `logger` writes while the block runs, and the names of the metrics (EMF) printed.

    Powertools' log handler keeps the stream it was made with (at the handlers' import, for this
    service name): it writes to a buffer here, and then to that stream again.
    """
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    logs: list[dict[str, Any]] = []
    metrics: list[str] = []
    try:
        yield logs, metrics
    finally:
        handler.setStream(previous)
    logs.extend(json.loads(line) for line in buffer.getvalue().splitlines())
    metrics.extend(
        metric["Name"]
        for line in capsys.readouterr().out.splitlines()
        for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        if metric["Name"] != "ColdStart"  # the process's first invocation only: not this test's to count
    )
