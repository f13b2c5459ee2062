"""Loopback ports of the local session: the ones chosen (remembered in .local/ so later commands need no
repetition), who holds a taken one, and a free one to suggest instead."""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path

from tapstack import paths
from tapstack.exits import CommandError

SESSION_FILE = paths.LOCAL_STATE / "ports.json"
EMULATOR = "emulator"
HTTP = "http"
DEFAULT_PORTS = {EMULATOR: 5000, HTTP: 8787}
PROC = Path("/proc")
LISTENING = "0A"  # the TCP state LISTEN in /proc/net/tcp


def remembered(role: str, session_file: Path = SESSION_FILE) -> int:
    """The port the local session chose for `role` (`emulator`, `http`), else its default."""
    try:
        return int(json.loads(session_file.read_text(encoding="utf-8"))[role])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_PORTS[role]


def remember(role: str, port: int | None, session_file: Path = SESSION_FILE) -> None:
    """Keep `port` as the session's for `role` (None: forget it, back to the default)."""
    try:
        chosen = dict(json.loads(session_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        chosen = {}
    if port is None or port == DEFAULT_PORTS[role]:
        chosen.pop(role, None)
    else:
        chosen[role] = port
    session_file.parent.mkdir(parents=True, exist_ok=True)
    session_file.write_text(json.dumps(chosen) + "\n", encoding="utf-8")


def bindable(port: int) -> OSError | None:
    """None when 127.0.0.1:port can be listened on; otherwise why not."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            return error
    return None


def holder(port: int, proc: Path = PROC) -> str | None:
    """`pid 1234 (moto_server -H 127.0.0.1 -p 5000)` of the process listening on `port`, where the
    system says (Linux's /proc, for processes this user may inspect); None otherwise."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (proc / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == LISTENING and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for process in proc.glob("[0-9]*"):
        with contextlib.suppress(OSError):
            for descriptor in (process / "fd").iterdir():
                if str(descriptor.readlink()) in inodes:
                    command = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    return f"pid {process.name} ({command.strip()})"
    return None


def free_port_after(port: int, tries: int = 50) -> int:
    """The first port after `port` nothing listens on at 127.0.0.1."""
    for candidate in range(port + 1, port + 1 + tries):
        if bindable(candidate) is None:
            return candidate
    raise CommandError(f"no free port among {port + 1} to {port + tries} on 127.0.0.1: stop what holds them")


def port_taken(port: int, cause: OSError | str, commands: list[str]) -> CommandError:
    """The one-line error of a taken port: its cause, its holder when known, and the exact commands that
    use a free one instead (each `commands` entry formatted with `{port}`)."""
    reason = cause.strerror if isinstance(cause, OSError) else cause
    held = holder(port)
    by = f", held by {held}" if held else ""
    instead = free_port_after(port)
    use = " or ".join(f"`{command.format(port=instead)}`" for command in commands)
    return CommandError(f"port {port} on 127.0.0.1 is taken ({reason}{by}): use a free one, e.g. {use}")
