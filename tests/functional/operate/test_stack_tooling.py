"""The emulator's process control: `local up` and `local down` start and stop exactly their own moto
server (tests/unit/operate/test_stack_tooling.py has the pure parts of the stack tooling)."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tapstack.exits import CommandError
from tapstack.local.emulator import EmulatorFiles, answers, start, stop
from tests.support import free_port


def test_local_up_and_down_manage_exactly_their_own_process(tmp_path: Path) -> None:
    files = EmulatorFiles(free_port(), tmp_path)

    started = start(files)
    pid = files.running_pid()
    try:
        assert pid is not None
        assert answers(files.port)
        assert "already runs" in start(files)
    finally:
        stopped = stop(files)

    assert stopped == f"stopped the emulator on port {files.port} (pid {pid})"
    assert not answers(files.port)
    assert not files.pid_file.exists()
    assert "runs on" in started


def test_local_down_refuses_a_pid_file_naming_another_process(tmp_path: Path) -> None:
    files = EmulatorFiles(free_port(), tmp_path)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # not a moto server
    files.pid_file.write_text(f"{bystander.pid}\n")
    try:
        assert stop(files).startswith("no emulator of this repository runs")
        assert bystander.poll() is None  # still alive: it was not ours to kill
    finally:
        bystander.kill()
        bystander.wait()


def test_a_taken_port_is_reported_with_its_holder_and_the_command_that_uses_a_free_one(
    tmp_path: Path,
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]

        with pytest.raises(CommandError) as refused:
            start(EmulatorFiles(port, tmp_path))

    message = str(refused.value)
    assert message.startswith(
        f"port {port} on 127.0.0.1 is taken (Address already in use, held by pid {os.getpid()} ("
    )
    suggested = re.search(r"`make local-up LOCAL_PORT=(\d+)` or `tapstack local up --port (\d+)`$", message)
    assert suggested is not None, message
    assert suggested[1] == suggested[2]
    assert int(suggested[1]) > port
    assert not (tmp_path / f"moto-{port}.pid").exists()  # nothing was started
