"""The unit tier touches no emulator, subprocess or socket, so it runs in seconds: each test here that
tries to open a connection or start a process fails, naming the tier to move it to."""

import socket
import subprocess
from typing import Any, NoReturn

import pytest


def _refuse(what: str) -> Any:
    def refused(*_: object, **__: object) -> NoReturn:
        raise AssertionError(f"a unit test {what}: move it to tests/functional/ (or mock the boundary)")

    return refused


@pytest.fixture(autouse=True)
def _no_sockets_or_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse("opened a connection"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("opened a listening socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("started a process"))
