"""Named network namespaces: bind-mounted nsfs files, created and entered without fork().

Why threads and not pyroute2's helpers: pyroute2 0.9 creates a namespace, and opens a
socket inside one, in a forked child (`netns.create` and `netns.create_socket` use its
`ChildProcess`). Composer calls us from several threads, and forking a threaded process
can deadlock the child on locks another thread held. The network namespace, however,
is a *per-thread* attribute (CLONE_NEWNET may be unshared or setns()ed by one thread
alone), and a socket stays bound to the namespace it was created in. So a short-lived
thread enters (or unshares) the namespace, creates the netlink socket, and exits; the
calling thread then drives that socket from its own namespace. The thread dies right
after, so no thread of the caller is ever left in a foreign namespace.

Like `ip netns add`, a namespace outlives its processes because its nsfs file
(/proc/thread-self/ns/net) is bind-mounted onto a regular file. Unlike iproute2 we do not
make the directory a shared mount: the runtime detaches the old root after pivot_root,
which drops any copies of these mounts in container mount namespaces.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from network.errors import KernelError

if TYPE_CHECKING:
    from network.netlink import Netlink

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MNT_DETACH = 0x2
NETLINK_ROUTE = 0

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]

T = TypeVar("T")


def _check(result: int, what: str, path: Path | str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}", str(path))


def _in_thread(fn: Callable[[], T]) -> T:
    """Run `fn` in a fresh OS thread and return its result (or raise its exception)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # re-raised in the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, name="pycompose-netns")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def _route_socket() -> socket.socket:
    return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, NETLINK_ROUTE)


def is_mounted(path: Path) -> bool:
    """True if `path` is a live namespace file (an nsfs mount, not the bare placeholder)."""
    try:
        return os.stat(path).st_dev != os.stat(path.parent).st_dev
    except FileNotFoundError:
        return False


def create(path: Path) -> socket.socket:
    """Create a new network namespace pinned at `path`; return a netlink socket inside it.

    `path` is created if missing. Raises KernelError if the file is already a namespace.
    """
    path.parent.mkdir(parents=True, exist_ok=True)

    def work() -> socket.socket:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)", path)
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o444)
        os.close(fd)
        _check(
            _libc.mount(b"/proc/thread-self/ns/net", os.fsencode(path), None, MS_BIND, None),
            "bind-mount network namespace",
            path,
        )
        return _route_socket()

    try:
        return _in_thread(work)
    except OSError as exc:
        raise KernelError(f"cannot create network namespace {path}: {exc.strerror}") from exc


def open_route_socket(path: Path) -> socket.socket:
    """A NETLINK_ROUTE socket bound to the namespace pinned at `path`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise KernelError(f"cannot open network namespace {path}: {exc.strerror}") from exc

    def work() -> socket.socket:
        _check(_libc.setns(fd, CLONE_NEWNET), "setns(CLONE_NEWNET)", path)
        return _route_socket()

    try:
        return _in_thread(work)
    except OSError as exc:
        raise KernelError(f"cannot enter network namespace {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)


def remove(path: Path) -> None:
    """Unmount and delete a namespace file. Idempotent: missing or unmounted is fine."""
    for _ in range(16):  # a crashed retry may have stacked mounts; peel them all
        if _libc.umount2(os.fsencode(path), MNT_DETACH) != 0:
            err = ctypes.get_errno()
            if err in (errno.EINVAL, errno.ENOENT):
                break
            raise KernelError(f"cannot unmount network namespace {path}: {os.strerror(err)}")
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise KernelError(f"cannot delete network namespace file {path}: {exc.strerror}") from exc


class KeptSocket(threading.local):
    """A netlink socket inside the namespace a thread just created, kept for the
    attachments that follow: entering the namespace again costs a thread and a setns
    (~1 ms of the 10 ms budget of wiring a container). One per thread, closed when the
    thread creates its next namespace or removes that one."""

    kept: tuple[str, int, Netlink] | None = None  # (sandbox id, nsfs inode, socket)

    def keep(self, sandbox_id: str, path: Path, inside: Netlink) -> None:
        self.drop()
        self.kept = (sandbox_id, os.stat(path).st_ino, inside)

    def get(self, sandbox_id: str, path: Path) -> Netlink | None:
        """The kept socket if it is inside the namespace pinned at `path` now. The open
        socket pins its namespace, so an equal nsfs inode means the same namespace (not
        one removed and made again under the same id)."""
        if self.kept is None or self.kept[0] != sandbox_id:
            return None
        try:
            same = os.stat(path).st_ino == self.kept[1]
        except OSError:
            same = False
        if not same:
            self.drop()
            return None
        return self.kept[2]

    def drop(self, sandbox_id: str | None = None) -> None:
        """Close the kept socket (only if it is `sandbox_id`'s, when given)."""
        if self.kept is not None and sandbox_id in (None, self.kept[0]):
            self.kept[2].close()
            self.kept = None
