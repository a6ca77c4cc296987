"""The image store as root: the busybox image, faithful extraction, whiteouts, hostile tars."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import stat
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.errors import ImageError
from runtime.images import ImageConfig, ImageStore

Entry = Callable[[tarfile.TarFile], None]


def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs: object) -> Entry:
    def write(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.size, info.mode, info.mtime = kind, len(data), 0o644, 946684800
        if kind == tarfile.DIRTYPE:
            info.mode = 0o755
        for key, value in attrs.items():
            setattr(info, key, value)
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    return write


def make_tar(path: Path, *entries: Entry) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            entry(tar)
    return path


@pytest.fixture
def store(roots) -> Iterator[ImageStore]:
    yield ImageStore(roots.data)  # roots.data lives in tmp_path, removed by pytest


def layer_dirs(roots) -> list[Path]:
    base = roots.data / "images/layers/sha256"
    return sorted(base.iterdir()) if base.exists() else []


def test_busybox_import_list_get(store: ImageStore, busybox_tar: Path) -> None:
    image = store.import_tar(busybox_tar, "busybox", ImageConfig(cmd=("sh",), env=("PATH=/bin",)))
    assert image.repo_tags == ("busybox:latest",) and len(image.layers) == 1
    assert image.size > 1_000_000  # the static busybox binary
    assert store.list() == [image]
    for reference in ("busybox", "busybox:latest", image.id, image.id[7:11], image.id[:20]):
        assert store.get(reference) == image
    [layer] = store.layer_dirs(image)
    root = Path(layer)
    assert os.path.isabs(layer) and (root / "bin/busybox").stat().st_mode & 0o111
    assert os.readlink(root / "bin/sh") == "/bin/busybox"
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777
    out = subprocess.run(
        ["chroot", layer, "/bin/sh", "-c", "echo hi"], capture_output=True, text=True
    )
    assert out.stdout == "hi\n"


def test_identical_content_reuses_the_layer(
    store: ImageStore, busybox_tar: Path, roots, monkeypatch
) -> None:
    first = store.import_tar(busybox_tar, "busybox")
    [layer] = layer_dirs(roots)
    inode = layer.stat().st_ino

    def no_extraction(*args: object) -> None:
        raise AssertionError("the layer was extracted a second time")

    monkeypatch.setattr("runtime.images.layers.extract", no_extraction)
    gz = busybox_tar.with_suffix(".tar.gz")
    gz.write_bytes(gzip.compress(busybox_tar.read_bytes()))
    xz = busybox_tar.with_suffix(".tar.xz")
    xz.write_bytes(lzma.compress(busybox_tar.read_bytes()))
    try:
        again = store.import_tar(gz, "busybox:gz", ImageConfig(cmd=("true",)))
        store.import_tar(xz, "busybox:xz", ImageConfig(cmd=("true",)))
    finally:
        gz.unlink()
        xz.unlink()
    assert again.layers == first.layers and again.id != first.id
    assert layer_dirs(roots) == [layer] and layer.stat().st_ino == inode
    assert store.get("busybox:xz").id == again.id
    assert not (roots.data / "images/tmp").exists()


def test_retag_and_remove_delete_unused_layers(
    store: ImageStore, busybox_tar: Path, roots, tmp_path
) -> None:
    old = store.import_tar(busybox_tar, "app", ImageConfig(cmd=("old",)))
    other = store.import_tar(make_tar(tmp_path / "o.tar", add("x", data=b"1")), "other")
    new = store.import_tar(busybox_tar, "app", ImageConfig(cmd=("new",)))
    assert store.get("app").id == new.id and store.get(old.id).repo_tags == ()
    store.remove("app")
    assert store.find(new.id) is None and len(layer_dirs(roots)) == 2  # `old` still uses busybox
    store.remove(old.id)
    assert [Path(d) for d in store.layer_dirs(other)] == layer_dirs(roots)
    store.remove("other")
    assert store.list() == [] and layer_dirs(roots) == []
    with pytest.raises(ImageError, match='image "other:latest" not found'):
        store.remove("other")


def test_extraction_is_faithful(store: ImageStore, tmp_path: Path) -> None:
    tar = make_tar(
        tmp_path / "f.tar",
        add("./", tarfile.DIRTYPE, mode=0o700),
        add("etc", tarfile.DIRTYPE, mode=0o750, uid=7, gid=8),
        add("etc/suid", data=b"#!", mode=0o4755, uid=1000, gid=1000),
        add("etc/hard", tarfile.LNKTYPE, linkname="etc/suid"),
        add("etc/sym", tarfile.SYMTYPE, linkname="../etc/suid"),
        add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        add("dev/fifo", tarfile.FIFOTYPE),
        add("cap", data=b"x", pax_headers={"SCHILY.xattr.user.note": "hello"}),
    )
    [layer] = store.layer_dirs(store.import_tar(tar, "faithful"))
    root = Path(layer)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    etc = (root / "etc").stat()
    assert (etc.st_uid, etc.st_gid, stat.S_IMODE(etc.st_mode), etc.st_mtime) == (
        7,
        8,
        0o750,
        946684800,
    )
    suid = (root / "etc/suid").stat()
    assert (suid.st_uid, stat.S_IMODE(suid.st_mode)) == (1000, 0o4755)
    assert (root / "etc/hard").stat().st_ino == suid.st_ino
    assert os.readlink(root / "etc/sym") == "../etc/suid"
    null = (root / "dev/null").lstat()
    assert stat.S_ISCHR(null.st_mode) and (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    assert (root / "dev").stat().st_mode & 0o777 == 0o755  # created implicitly
    assert stat.S_ISFIFO((root / "dev/fifo").lstat().st_mode)
    assert os.getxattr(root / "cap", "user.note") == b"hello"


def test_whiteouts_become_overlayfs_whiteouts(store: ImageStore, tmp_path: Path) -> None:
    lower = make_tar(
        tmp_path / "lower.tar",
        add("a/gone", data=b"old"),
        add("a/kept", data=b"kept"),
        add("b/old", data=b"old"),
    )
    upper = make_tar(
        tmp_path / "upper.tar",
        add("a", tarfile.DIRTYPE),
        add("a/.wh.gone"),
        add("b", tarfile.DIRTYPE),
        add("b/.wh..wh..opq"),
        add("b/new", data=b"new"),
    )
    [low] = store.layer_dirs(store.import_tar(lower, "lower"))
    [up] = store.layer_dirs(store.import_tar(upper, "upper"))
    gone = Path(up, "a/gone").lstat()
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == os.makedev(0, 0)
    assert not Path(up, "a/.wh.gone").exists() and not Path(up, "b/.wh..wh..opq").exists()
    assert os.getxattr(Path(up, "b"), "trusted.overlay.opaque") == b"y"
    merged = tmp_path / "merged"
    merged.mkdir()
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={up}:{low}", str(merged)], check=True
    )
    try:
        assert sorted(os.listdir(merged / "a")) == ["kept"]
        assert sorted(os.listdir(merged / "b")) == ["new"]
    finally:
        subprocess.run(["umount", str(merged)], check=True)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [add("../x", data=b"evil")],
            r"unsafe path '\.\./x' in .*: '\.\.' would escape the image root",
        ),
        ([add("a/../../x")], r"unsafe path 'a/\.\./\.\./x'"),
        ([add("/etc/evil")], r"unsafe path '/etc/evil' in .*: absolute paths are not allowed"),
        (
            [add("esc", tarfile.SYMTYPE, linkname="/etc"), add("esc/passwd", data=b"x")],
            "goes through the symlink 'esc'",
        ),
        (
            [add("up", tarfile.SYMTYPE, linkname="a/../../../etc")],
            "unsafe symlink 'up' -> 'a/../../../etc'",
        ),
        (
            [add("h", tarfile.LNKTYPE, linkname="/etc/passwd")],
            "unsafe hardlink 'h' -> '/etc/passwd'",
        ),
        ([add("h", tarfile.LNKTYPE, linkname="../outside")], "unsafe hardlink 'h' -> '../outside'"),
        (
            [add("h", tarfile.LNKTYPE, linkname="missing")],
            "the target is not a file extracted earlier",
        ),
        (
            [add("x", pax_headers={"SCHILY.xattr.trusted.overlay.redirect": "/"})],
            "overlayfs-internal xattr",
        ),
    ],
)
def test_hostile_tars_are_rejected_and_leave_nothing(
    store: ImageStore, roots, tmp_path: Path, entries: list[Entry], message: str
) -> None:
    tar = make_tar(tmp_path / "evil.tar", add("ok", data=b"fine"), *entries)
    with pytest.raises(ImageError, match=message):
        store.import_tar(tar, "evil")
    assert store.list() == [] and layer_dirs(roots) == []
    assert not (roots.data / "images/tmp").exists()
    assert not Path("/x").exists() and not (tmp_path / "outside").exists()
