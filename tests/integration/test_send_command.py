"""`tapstack local send` as `make send` runs it: JSON alone on stdout, logs in a file, clear refusals."""

from __future__ import annotations

import json
import time
import uuid
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


def test_local_reconcile_prints_what_an_unreachable_send_left_missing_then_ingests_it(
    moto_endpoint: str, deployment: DeployedStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make send FAULT=unreachable` then `make reconcile-local [APPLY=1]`, through the commands."""
    port = moto_endpoint.rsplit(":", 1)[1]
    sample = json.loads((paths.EVENTS / "stripe" / "refund.created.json").read_text(encoding="utf-8"))
    event_id = f"evt_{uuid.uuid4().hex[:24]}"
    event = tmp_path / "stripe" / f"{event_id}.json"
    event.parent.mkdir()
    event.write_text(
        json.dumps(sample | {"id": event_id, "created": int(time.time()) - 60}), encoding="utf-8"
    )
    common = ["--port", port, "--env", deployment.environment]

    assert main(["local", "send", str(event), "--fault", "unreachable", *common]) == ExitCode.OK
    sent = json.loads(capsys.readouterr().out)
    assert (sent["delivered"], sent["logged"]) == (False, True)

    since = ["--since", str(int(time.time()) - 600)]
    assert main(["local", "reconcile", "--provider", "stripe", *since, *common]) == ExitCode.OK
    dry = json.loads(capsys.readouterr().out)  # nothing but the document
    assert f"stripe#{event_id}" in dry["missing"]
    assert "ingested" not in dry

    assert main(["local", "reconcile", *since, "--apply", *common]) == ExitCode.OK
    applied = json.loads(capsys.readouterr().out)
    assert f"stripe#{event_id}" in applied["ingested"]
    assert set(applied["providers"]) == {"stripe", "paypal"}
