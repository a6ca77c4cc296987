from pathlib import Path

import pytest

from runtime.volumes import VolumeError, VolumeStore


def test_create_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    store = VolumeStore(tmp_path)
    volume = store.create("demo_data", {"com.docker.compose.project": "demo"})
    Path(volume.mountpoint, "file").write_text("kept")
    again = store.create("demo_data", {"other": "labels"})
    assert again.labels == {"com.docker.compose.project": "demo"}
    assert Path(again.mountpoint, "file").read_text() == "kept"
    assert [v.name for v in store.list()] == ["demo_data"]


def test_remove_deletes_data_and_tolerates_missing(tmp_path: Path) -> None:
    store = VolumeStore(tmp_path)
    store.create("v1")
    store.remove("v1")
    store.remove("v1")
    assert store.get("v1") is None and store.list() == []


def test_invalid_name_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VolumeError, match='invalid volume name "../x"'):
        VolumeStore(tmp_path).create("../x")
