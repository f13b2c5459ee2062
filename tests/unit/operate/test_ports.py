"""The local session's ports: remembered between commands, and a taken one traced to its holder."""

from pathlib import Path

from tapstack.local import ports

PROC_NET_TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
)


def test_a_chosen_port_is_remembered_until_forgotten(tmp_path: Path) -> None:
    session = tmp_path / ".local" / "ports.json"

    assert ports.remembered(ports.EMULATOR, session) == 5000
    ports.remember(ports.EMULATOR, 5123, session)
    ports.remember(ports.HTTP, 8799, session)
    assert (ports.remembered(ports.EMULATOR, session), ports.remembered(ports.HTTP, session)) == (5123, 8799)
    ports.remember(ports.EMULATOR, None, session)
    assert (ports.remembered(ports.EMULATOR, session), ports.remembered(ports.HTTP, session)) == (5000, 8799)


def test_an_unreadable_session_file_means_the_defaults(tmp_path: Path) -> None:
    session = tmp_path / "ports.json"
    session.write_text("not json")

    assert ports.remembered(ports.HTTP, session) == 8787


def test_the_holder_of_a_listening_port_is_found_through_proc(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    listening = (
        "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242"
    )
    (proc / "net" / "tcp").write_text(f"{PROC_NET_TCP_HEADER}\n{listening}\n")
    (proc / "4321" / "fd").mkdir(parents=True)
    (proc / "4321" / "fd" / "3").symlink_to("socket:[424242]")
    (proc / "4321" / "cmdline").write_bytes(b"moto_server\0-p\x005000\0")

    assert ports.holder(5000, proc) == "pid 4321 (moto_server -p 5000)"
    assert ports.holder(5001, proc) is None
