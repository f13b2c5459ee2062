"""`tapstack local send` as `make send` runs it: JSON alone on stdout, logs in a file, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tests.integration.conftest import DeployedStack


def test_stdout_is_the_json_document_alone(
    moto_endpoint: str, deployment: DeployedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    port = moto_endpoint.rsplit(":", 1)[1]
    event = paths.EVENTS / "stripe" / "payment_intent.succeeded.json"

    status = main(["local", "send", str(event), "--port", port, "--env", deployment.environment])

    out, err = capsys.readouterr()
    document = json.loads(out)  # nothing but the document
    assert status == (ExitCode.OK if document["ok"] else ExitCode.FAILED)
    assert document["provider"] == "stripe"
    assert "duplicate" in document
    assert f"handler logs: {paths.LOCAL_STATE / 'send.log'}" in err


def test_a_binary_event_file_is_refused_in_one_line(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "stripe" / "event.json"
    binary.parent.mkdir()
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    port = moto_endpoint.rsplit(":", 1)[1]

    status = main(["local", "send", str(binary), "--port", port])

    assert status == ExitCode.USAGE
    # the emulator's request log shares stderr in this process; the command's own output is one line
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {binary} is not a JSON event (UnicodeDecodeError): give a sample such as "
        "events/stripe/refund.created.json"
    ]
