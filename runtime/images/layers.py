"""Layer tarballs: their diff id, and a safe, faithful extraction into a directory.

Faithful: ownership (numeric), modes with setuid/sticky bits, mtimes, symlinks, hardlinks,
device nodes, FIFOs and xattrs are kept. OCI whiteouts become what overlayfs reads: `.wh.<name>`
a 0/0 character device named <name>, `.wh..wh..opq` the trusted.overlay.opaque="y" xattr on its
directory, so a layer directory can serve as an overlay lowerdir as is.

Safe: a member may not be absolute, contain "..", pass through a symlink, or hardlink to
anything outside the layer; a relative symlink may not point above the layer root.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath

from runtime.errors import ImageError

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
CHUNK = 1 << 20


def open_uncompressed(path: str) -> io.BufferedIOBase:
    """The tar stream inside `path`, decompressing gzip, xz or bzip2 (found by magic bytes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as e:
        raise ImageError(f"cannot read image tarball {path}: {e.strerror}") from e
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        raise ImageError(
            f"{path} is zstd-compressed, which is not supported; decompress it first (unzstd)"
        )
    if head.startswith(b"\x1f\x8b"):
        return gzip.open(path, "rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(path, "rb")
    if head.startswith(b"BZh"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def diff_id(path: str) -> str:
    """ "sha256:<hex>" of the uncompressed tar, as the OCI rootfs.diff_ids."""
    digest = hashlib.sha256()
    try:
        with open_uncompressed(path) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
        raise ImageError(f"cannot decompress image tarball {path}: {e}") from e
    return f"sha256:{digest.hexdigest()}"


def member_parts(name: str, tar: str) -> tuple[str, ...]:
    """Path components of a member name inside the layer; () is the layer root."""
    if name.startswith("/"):
        raise ImageError(
            f"unsafe path {name!r} in {tar}: absolute paths are not allowed in a layer"
        )
    parts = tuple(p for p in PurePosixPath(name).parts if p != ".")
    if ".." in parts:
        raise ImageError(f"unsafe path {name!r} in {tar}: '..' would escape the image root")
    return parts


def extract(tar_path: str, dest: str) -> str:
    """Extract the layer tarball into the existing, empty directory `dest`; return the diff id
    of what was read, so the caller can check it is the content it hashed before."""
    extractor = _Extractor(tar_path, dest)
    try:
        with open_uncompressed(tar_path) as raw:
            stream = _Hashing(raw)
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    extractor.add(member, tar)
            while stream.read(CHUNK):  # the zero blocks after the end-of-archive marker
                pass
    except (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error) as e:
        raise ImageError(f"{tar_path} is not a valid tar archive: {e}") from e
    extractor.finish()
    return f"sha256:{stream.digest.hexdigest()}"


class _Hashing:
    """A read-only stream that hashes what passes through it."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def disk_usage(root: str) -> int:
    """Bytes allocated on disk under `root`, each hardlinked inode once."""
    seen: set[int] = set()
    total = 0
    for path in _walk(root):
        st = os.lstat(path)
        if st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_blocks * 512
    return total


def _walk(root: str) -> Iterator[str]:
    yield root
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            yield os.path.join(dirpath, name)


class _Extractor:
    def __init__(self, tar_path: str, dest: str) -> None:
        self.tar = tar_path
        self.dest = dest
        self.dirs: list[tuple[str, tarfile.TarInfo]] = []  # metadata applied last, deepest first

    def add(self, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        parts = member_parts(member.name, self.tar)
        base = parts[-1] if parts else ""
        if base.startswith(WHITEOUT):
            self._whiteout(parts)
            return
        target = self._prepare(parts)
        if member.isdir():
            if not os.path.isdir(target) or os.path.islink(target):
                os.mkdir(target, 0o700)
            self.dirs.append((target, member))
            return
        self._create(target, member, tar)
        if not member.islnk():  # a hardlink shares its inode, and that already has its metadata
            self._set_metadata(target, member)

    def _whiteout(self, parts: tuple[str, ...]) -> None:
        parent = self._ensure_parent(parts)
        if parts[-1] == OPAQUE:
            os.setxattr(parent, OPAQUE_XATTR, b"y", follow_symlinks=False)
        elif parts[-1].startswith(WHITEOUT + WHITEOUT):
            raise ImageError(
                f"unsupported whiteout {'/'.join(parts)!r} in {self.tar} (aufs metadata)"
            )
        else:
            target = os.path.join(parent, parts[-1][len(WHITEOUT) :])
            _remove(target)
            os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(0, 0))

    def _prepare(self, parts: tuple[str, ...]) -> str:
        """The target path with its parents created; a non-directory already there is replaced."""
        if not parts:
            return self.dest
        target = os.path.join(self._ensure_parent(parts), parts[-1])
        if os.path.lexists(target) and not (os.path.isdir(target) and not os.path.islink(target)):
            os.unlink(target)
        return target

    def _ensure_parent(self, parts: tuple[str, ...]) -> str:
        """Create missing parent dirs (0755, root) and refuse to walk through a symlink."""
        path = self.dest
        for part in parts[:-1]:
            path = os.path.join(path, part)
            if os.path.islink(path):
                raise ImageError(
                    f"unsafe path {'/'.join(parts)!r} in {self.tar}: it goes through the symlink {part!r}"
                )
            if not os.path.lexists(path):
                os.mkdir(path, 0o755)
            elif not os.path.isdir(path):
                raise ImageError(
                    f"bad path {'/'.join(parts)!r} in {self.tar}: {part!r} is not a directory"
                )
        return path

    def _create(self, target: str, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)  # a later entry replaces an earlier directory
        if member.isreg():
            source = tar.extractfile(member)
            assert source is not None
            fd = os.open(
                target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
            )
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
        elif member.issym():
            self._check_symlink(member)
            os.symlink(member.linkname, target)
        elif member.islnk():
            os.link(self._link_source(member), target, follow_symlinks=False)
        elif member.ischr() or member.isblk():
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            os.mknod(target, 0o600 | kind, os.makedev(member.devmajor, member.devminor))
        elif member.isfifo():
            os.mkfifo(target, 0o600)
        else:
            raise ImageError(
                f"unsupported entry {member.name!r} (tar type {member.type!r}) in {self.tar}"
            )

    def _check_symlink(self, member: tarfile.TarInfo) -> None:
        """Absolute targets resolve inside the container's root; relative ones must stay in it."""
        if member.linkname.startswith("/"):
            return
        depth = len(member_parts(member.name, self.tar)) - 1
        for part in PurePosixPath(member.linkname).parts:
            depth += -1 if part == ".." else 0 if part == "." else 1
            if depth < 0:
                raise ImageError(
                    f"unsafe symlink {member.name!r} -> {member.linkname!r} in {self.tar}: "
                    "it points outside the image root"
                )

    def _link_source(self, member: tarfile.TarInfo) -> str:
        try:
            parts = member_parts(member.linkname, self.tar)
        except ImageError as e:
            raise ImageError(
                f"unsafe hardlink {member.name!r} -> {member.linkname!r} in {self.tar}"
            ) from e
        source = os.path.join(self._ensure_parent(parts), parts[-1]) if parts else self.dest
        if not os.path.lexists(source) or (os.path.isdir(source) and not os.path.islink(source)):
            raise ImageError(
                f"bad hardlink {member.name!r} -> {member.linkname!r} in {self.tar}: "
                "the target is not a file extracted earlier"
            )
        return source

    def _set_metadata(self, target: str, member: tarfile.TarInfo) -> None:
        os.lchown(target, member.uid, member.gid)
        for key, value in member.pax_headers.items():
            if key.startswith("SCHILY.xattr."):
                self._set_xattr(target, key.removeprefix("SCHILY.xattr."), value)
        if not member.issym():
            os.chmod(target, member.mode)  # after chown, which clears setuid bits
        os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)

    def _set_xattr(self, target: str, name: str, value: str) -> None:
        if name.startswith("trusted.overlay."):
            raise ImageError(f"{self.tar} sets the overlayfs-internal xattr {name} on {target}")
        try:
            raw = value.encode("utf-8", "surrogateescape")
            os.setxattr(target, name, raw, follow_symlinks=False)
        except OSError as e:
            raise ImageError(
                f"cannot set xattr {name} on {target} from {self.tar}: {e.strerror}"
            ) from e

    def finish(self) -> None:
        """Directory metadata last (children change mtimes), deepest first."""
        for target, member in sorted(self.dirs, key=lambda d: -d[0].count("/")):
            self._set_metadata(target, member)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
