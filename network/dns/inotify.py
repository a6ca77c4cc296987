"""inotify through ctypes: the server's way to see a zone file change within milliseconds."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
CHANGES = IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CREATE

_libc = ctypes.CDLL(None, use_errno=True)


def watch(directory: Path, mask: int = CHANGES) -> int:
    """A non-blocking inotify fd watching `directory`; readable whenever something changed."""
    fd = int(_libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
    if fd < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno), "inotify_init1")
    if _libc.inotify_add_watch(fd, os.fsencode(directory), ctypes.c_uint32(mask)) < 0:
        errno = ctypes.get_errno()
        os.close(fd)
        raise OSError(errno, os.strerror(errno), str(directory))
    return fd


def drain(fd: int) -> bool:
    """Read every pending event; True if there was any (the events themselves do not matter:
    the server rereads the whole directory)."""
    seen = False
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return seen
        if not data:
            return seen
        seen = True
