"""inotify through ctypes: how the DNS server and the port proxies see a file change within
milliseconds. Standard library only, importing nothing of the package: the proxy process
imports it as a top-level module (see proxy.py)."""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_Q_OVERFLOW = 0x4000  # events were lost (wd -1): whatever is watched must be looked at again
IN_IGNORED = 0x8000  # the watch is gone (removed, or its directory deleted)
CHANGES = IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CREATE

_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name
_libc = ctypes.CDLL(None, use_errno=True)


def _error(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, os.strerror(err), what)


def init() -> int:
    """A non-blocking inotify fd with no watch yet."""
    fd = int(_libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
    if fd < 0:
        raise _error("inotify_init1")
    return fd


def add_watch(fd: int, directory: str | Path, mask: int = CHANGES) -> int:
    """Watch `directory` on `fd`; the watch descriptor (the same one for the same directory)."""
    wd = int(_libc.inotify_add_watch(fd, os.fsencode(directory), ctypes.c_uint32(mask)))
    if wd < 0:
        raise _error(str(directory))
    return wd


def remove_watch(fd: int, wd: int) -> None:
    """Stop a watch; one the kernel dropped already (its directory was deleted) is fine."""
    _libc.inotify_rm_watch(fd, wd)


def events(fd: int) -> list[tuple[int, int, str]]:
    """Read every pending event: (watch descriptor, mask, name in the directory) each."""
    found: list[tuple[int, int, str]] = []
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return found
        if not data:
            return found
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size: offset + _EVENT.size + length].split(b"\0", 1)[0]
            found.append((wd, mask, os.fsdecode(name)))
            offset += _EVENT.size + length


def overflowed(found: list[tuple[int, int, str]]) -> bool:
    """Whether the kernel's queue overflowed: some events are missing from `found`."""
    return any(mask & IN_Q_OVERFLOW for _, mask, _ in found)
