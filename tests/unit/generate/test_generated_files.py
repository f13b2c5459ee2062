"""Writing and checking the generated files: atomic, the umask's mode, clear refusals, a labelled diff."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tapstack.exits import CommandError, ExitCode
from tapstack.generate.files import check_current, write_atomically


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_written_file_gets_the_umask_mode_not_the_temporary_files(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "out" / "TapStack.json"
    write_atomically(target, "{}\n")
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(path.name for path in target.parent.iterdir()) == ["TapStack.json"]


def test_a_directory_as_output_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"is a directory: give a file path, e.g. .*TapStack\.json"):
        write_atomically(tmp_path, "{}\n")
    assert list(tmp_path.iterdir()) == []


def test_an_output_under_a_file_names_the_file_and_the_next_step(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "notes.txt"
    not_a_directory.write_text("notes\n", encoding="utf-8")

    with pytest.raises(CommandError, match=r"cannot write .*TapStack\.json: .*choose a writable --output"):
        write_atomically(not_a_directory / "TapStack.json", "{}\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_the_check_diff_labels_the_file_on_disk_and_the_generated_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = tmp_path / "TapStack.json"
    committed.write_text("line\ncommitted\n", encoding="utf-8")

    assert check_current(committed, "line\ngenerated\n") == ExitCode.FAILED

    diff = capsys.readouterr().err
    assert f"--- {committed} (committed)" in diff
    assert f"+++ {committed} (generated)" in diff
    assert "-committed" in diff
    assert "+generated" in diff
