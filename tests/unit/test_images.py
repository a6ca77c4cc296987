"""Image references, config JSON and store bookkeeping; no root needed (files owned by us)."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from runtime.errors import ImageError
from runtime.images import ImageConfig, ImageStore, normalize_reference
from runtime.images.layers import member_parts
from runtime.images.model import config_json, parse_config
from runtime.images.reference import id_prefix


@pytest.mark.parametrize(
    ("reference", "normalized"),
    [
        ("busybox", "busybox:latest"),
        ("busybox:1.36", "busybox:1.36"),
        ("localhost:5000/a/b", "localhost:5000/a/b:latest"),
        ("localhost:5000/a/b:v1.2-rc_3", "localhost:5000/a/b:v1.2-rc_3"),
        ("registry.example.com/team/my-app__x.y", "registry.example.com/team/my-app__x.y:latest"),
    ],
)
def test_normalize_reference(reference: str, normalized: str) -> None:
    assert normalize_reference(reference) == normalized


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "invalid image reference"),
        ("BusyBox", "invalid image reference"),
        ("a//b", "invalid image reference"),
        ("-a", "invalid image reference"),
        ("a:", "invalid tag ''"),
        ("a:-x", "invalid tag '-x'"),
        ("a:" + "x" * 129, "invalid tag"),
        ("a@sha256:" + "0" * 64, "digest references"),
    ],
)
def test_invalid_references(reference: str, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        normalize_reference(reference)


def test_id_prefix() -> None:
    assert id_prefix("sha256:abcd12") == "abcd12"
    assert id_prefix("abcd") == "abcd"
    assert id_prefix("abc") is None and id_prefix("busybox") is None


def test_member_paths_are_confined() -> None:
    assert member_parts("./a/b", "t.tar") == ("a", "b")
    assert member_parts("./", "t.tar") == ()
    with pytest.raises(ImageError, match=r"unsafe path '/etc/x' in t\.tar: absolute"):
        member_parts("/etc/x", "t.tar")
    with pytest.raises(
        ImageError, match=r"unsafe path 'a/\.\./\.\./x' in t\.tar: '\.\.' would escape"
    ):
        member_parts("a/../../x", "t.tar")


def test_config_json_is_canonical_and_round_trips() -> None:
    config = ImageConfig(
        env=("PATH=/bin", "A=b=c"), cmd=("sh",), entrypoint=(), working_dir="/w", user="1:2"
    )
    raw = config_json(config, ("sha256:" + "1" * 64,), "2026-01-01T00:00:00Z")
    assert raw == config_json(config, ("sha256:" + "1" * 64,), "2026-01-01T00:00:00Z")
    document = json.loads(raw)
    assert raw == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert document["config"] == {
        "Env": ["PATH=/bin", "A=b=c"],
        "Cmd": ["sh"],
        "Entrypoint": [],
        "WorkingDir": "/w",
        "User": "1:2",
    }
    assert document["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]}
    assert parse_config(raw, "x") == (config, ("sha256:" + "1" * 64,), "2026-01-01T00:00:00Z")
    assert parse_config(config_json(ImageConfig(), (), "t"), "x")[0] == ImageConfig()


def test_env_entries_need_a_key() -> None:
    with pytest.raises(ImageError, match="invalid environment entry 'NOVALUE'"):
        config_json(ImageConfig(env=("NOVALUE",)), (), "t")


def make_tar(path: Path, files: dict[str, bytes]) -> Path:
    """A tar of regular files owned by the current user, so no root is needed to extract it."""
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid = len(data), 0o644, os.getuid(), os.getgid()
            tar.addfile(info, io.BytesIO(data))
    return path


def test_same_content_is_the_same_image_and_tags_move(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "data")
    tar = make_tar(tmp_path / "a.tar", {"hello": b"hi"})
    first = store.import_tar(tar, "app", ImageConfig(cmd=("one",)))
    again = store.import_tar(tar, "app:stable", ImageConfig(cmd=("one",)))
    assert again.id == first.id and again.repo_tags == ("app:latest", "app:stable")
    second = store.import_tar(tar, "app", ImageConfig(cmd=("two",)))
    assert second.id != first.id and second.layers == first.layers
    assert store.get("app").id == second.id
    assert store.get(first.id).repo_tags == ("app:stable",)  # keeps its other tag
    store.import_tar(tar, "app:stable", ImageConfig(cmd=("two",)))
    assert store.get(first.id).repo_tags == ()  # untagged ("dangling"), like docker
    assert {i.id for i in store.list()} == {first.id, second.id}
    store.remove(first.id)
    assert [i.id for i in store.list()] == [second.id]
    assert second.repo_tags == ("app:latest",) and store.get(second.id).repo_tags == (
        "app:latest",
        "app:stable",
    )


def test_lookup_by_id_prefix_and_not_found_message(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "data")
    image = store.import_tar(make_tar(tmp_path / "a.tar", {"f": b"x"}), "app:1")
    assert store.get(image.id) == image
    assert store.get(image.id[7:11]) == image
    assert store.get(image.id[:15]) == image
    assert store.find("nothere") is None
    with pytest.raises(ImageError, match=r'^image "nothere:latest" not found; import it with'):
        store.get("nothere")
    with pytest.raises(ImageError, match="invalid image reference"):
        store.get("Not/Valid")


def test_remove_by_name_untags_and_by_id_removes_and_unused_layers_go(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "data")
    tar = make_tar(tmp_path / "a.tar", {"f": b"x"})
    image = store.import_tar(tar, "app:1")
    other = store.import_tar(tar, "app:2", ImageConfig(user="1"))  # another image, same layer
    store.remove("app:2")
    assert store.find(other.id) is None and store.get("app:1") == image
    assert len(list((tmp_path / "data/images/layers/sha256").iterdir())) == 1  # still used
    store.remove(image.id[7:13])
    assert store.list() == [] and store.find("app:1") is None
    assert list((tmp_path / "data/images/layers/sha256").iterdir()) == []


def test_corrupt_tag_file_is_reported(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "data")
    store.import_tar(make_tar(tmp_path / "a.tar", {"f": b"x"}), "app")
    (tmp_path / "data/images/repositories.json").write_text("{")
    with pytest.raises(ImageError, match="repositories.json is corrupt"):
        store.get("app")


def test_importing_a_missing_or_broken_tar_fails_cleanly(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "data")
    with pytest.raises(ImageError, match="no such file"):
        store.import_tar(tmp_path / "nope.tar", "app")
    (tmp_path / "bad.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ImageError, match="is not a valid tar archive"):
        store.import_tar(tmp_path / "bad.tar", "app")
    assert store.list() == [] and not (tmp_path / "data/images/tmp").exists()
