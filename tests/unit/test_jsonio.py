"""runtime/jsonio.py: atomic JSON writes (a name exchange, or a rename for a new file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime import jsonio


def test_a_new_file_is_written_and_no_temp_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    jsonio.write_json_atomic(path, {"a": 1})
    assert jsonio.loads(path.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["state.json"]


def test_an_existing_file_is_replaced_in_place_of_its_name(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    jsonio.write_json_atomic(path, {"a": 1})
    before = path.stat().st_ino
    jsonio.write_json_atomic(path, {"a": 2, "b": [1, 2]})
    assert jsonio.loads(path.read_text()) == {"a": 2, "b": [1, 2]}
    assert path.stat().st_ino != before  # a new file: readers holding the old one keep it whole
    assert os.listdir(tmp_path) == ["state.json"]


def test_without_an_exchange_a_plain_rename_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime import syscalls

    def unsupported(first: str, second: str) -> None:
        raise OSError(22, "renameat2: Invalid argument")

    monkeypatch.setattr(syscalls, "rename_exchange", unsupported)
    path = tmp_path / "state.json"
    jsonio.write_json_atomic(path, {"a": 1})
    jsonio.write_json_atomic(path, {"a": 3})
    assert jsonio.loads(path.read_text()) == {"a": 3}
    assert os.listdir(tmp_path) == ["state.json"]
