"""Thin ctypes wrappers for the Linux syscalls Python 3.11 lacks.

Every wrapper raises `OSError(errno, strerror, path)` so a failure names the path
involved. `Syscalls` is the seam rootfs setup goes through; `RecordingSyscalls`
records calls instead of making them, so the order of mounts is unit-tested
without root.
"""

from __future__ import annotations

import ctypes
import os

TYPE_CHECKING = False  # typing costs the monitor ≈5 ms of imports: only for type checkers
if TYPE_CHECKING:
    from typing import Protocol

# clone/unshare/setns flags (linux/sched.h)
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# mount flags (linux/mount.h)
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19

MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

NAMESPACE_FLAGS: dict[str, int] = {
    "pid": CLONE_NEWPID,
    "mount": CLONE_NEWNS,
    "uts": CLONE_NEWUTS,
    "ipc": CLONE_NEWIPC,
    "network": CLONE_NEWNET,
    "cgroup": CLONE_NEWCGROUP,
}
# Names of the files under /proc/<pid>/ns/ for each namespace type.
NAMESPACE_FILES: dict[str, str] = {
    "pid": "pid",
    "mount": "mnt",
    "uts": "uts",
    "ipc": "ipc",
    "network": "net",
    "cgroup": "cgroup",
}

_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret: int, what: str, path: str | None = None) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        msg = f"{what}: {os.strerror(err)}"
        raise OSError(err, msg, path) if path is not None else OSError(err, msg)
    return ret


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def unshare(flags: int) -> None:
    _check(_lib().unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int = 0, path: str | None = None) -> None:
    _check(_lib().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns", path)


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    ret = _lib().mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
    _check(ret, f"mount {fstype or source or ''} on {target}", target)


def umount2(target: str, flags: int = 0) -> None:
    _check(_lib().umount2(_b(target), ctypes.c_int(flags)), "umount2", target)


def pivot_root(new_root: str, put_old: str) -> None:
    machine = os.uname().machine
    nr = _SYS_PIVOT_ROOT.get(machine)
    if nr is None:
        raise OSError(38, f"pivot_root: unsupported architecture {machine}")
    _check(_lib().syscall(ctypes.c_long(nr), _b(new_root), _b(put_old)), "pivot_root", new_root)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def rename_exchange(first: str, second: str) -> None:
    """Swap two paths' names atomically (renameat2 RENAME_EXCHANGE); OSError (ENOENT when
    one is missing, EINVAL where the filesystem cannot) otherwise."""
    renameat2 = getattr(_lib(), "renameat2", None)  # glibc 2.28+
    if renameat2 is None:
        raise OSError(38, "renameat2: not in this C library", second)
    _check(renameat2(_AT_FDCWD, _b(first), _AT_FDCWD, _b(second), ctypes.c_uint(_RENAME_EXCHANGE)), "renameat2", second)


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_lib().sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname", name)


def prctl(option: int, arg2: int = 0) -> None:
    _check(_lib().prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl")


if TYPE_CHECKING:

    class Syscalls(Protocol):
        """The privileged operations rootfs setup performs, in the order it performs them."""

        def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None: ...
        def umount2(self, target: str, flags: int = 0) -> None: ...
        def pivot_root(self, new_root: str, put_old: str) -> None: ...
        def sethostname(self, name: str) -> None: ...
        def mknod(self, path: str, mode: int, major: int, minor: int) -> None: ...
        def symlink(self, target: str, path: str) -> None: ...
        def makedirs(self, path: str, mode: int = 0o755) -> None: ...
        def touch(self, path: str) -> None: ...
        def chown(self, path: str, uid: int, gid: int) -> None: ...
        def chdir(self, path: str) -> None: ...
        def open_dir(self, path: str) -> int: ...
        def fchdir(self, fd: int) -> None: ...
        def close(self, fd: int) -> None: ...


class LinuxSyscalls:
    """The real thing."""

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
        mount(source, target, fstype, flags, data)

    def umount2(self, target: str, flags: int = 0) -> None:
        umount2(target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        pivot_root(new_root, put_old)

    def sethostname(self, name: str) -> None:
        sethostname(name)

    def mknod(self, path: str, mode: int, major: int, minor: int) -> None:
        os.mknod(path, mode, os.makedev(major, minor))
        os.chmod(path, mode & 0o7777)

    def symlink(self, target: str, path: str) -> None:
        os.symlink(target, path)

    def makedirs(self, path: str, mode: int = 0o755) -> None:
        os.makedirs(path, mode, exist_ok=True)

    def touch(self, path: str) -> None:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid)

    def chdir(self, path: str) -> None:
        os.chdir(path)

    def open_dir(self, path: str) -> int:
        return os.open(path, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)

    def fchdir(self, fd: int) -> None:
        os.fchdir(fd)

    def close(self, fd: int) -> None:
        os.close(fd)


class RecordingSyscalls:
    """A fake that records each call as a tuple; for unit tests of the setup order."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self._fds: list[str] = []

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
        self.calls.append(("mount", source, target, fstype, flags, data))

    def umount2(self, target: str, flags: int = 0) -> None:
        self.calls.append(("umount2", target, flags))

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self.calls.append(("pivot_root", new_root, put_old))

    def sethostname(self, name: str) -> None:
        self.calls.append(("sethostname", name))

    def mknod(self, path: str, mode: int, major: int, minor: int) -> None:
        self.calls.append(("mknod", path, mode, major, minor))

    def symlink(self, target: str, path: str) -> None:
        self.calls.append(("symlink", target, path))

    def makedirs(self, path: str, mode: int = 0o755) -> None:
        self.calls.append(("makedirs", path))

    def touch(self, path: str) -> None:
        self.calls.append(("touch", path))

    def chown(self, path: str, uid: int, gid: int) -> None:
        self.calls.append(("chown", path, uid, gid))

    def chdir(self, path: str) -> None:
        self.calls.append(("chdir", path))

    def open_dir(self, path: str) -> int:
        self.calls.append(("open_dir", path))
        self._fds.append(path)
        return len(self._fds) - 1

    def fchdir(self, fd: int) -> None:
        self.calls.append(("fchdir", self._fds[fd]))

    def close(self, fd: int) -> None:
        self.calls.append(("close", self._fds[fd]))
