"""A pseudo-terminal for `exec -t`: the caller's side (allocate, relay, resize).

The caller opens a pty pair, hands the slave to the exec helper as stdin, stdout and
stderr, and relays bytes between its own terminal (put in raw mode, as `docker exec -it`
does, so keys like Ctrl-C reach the command's terminal instead of us) and the master.
The command becomes the session leader with the slave as its controlling terminal
(`take_controlling_terminal`, in the helper). Window size follows the caller's terminal
(SIGWINCH). Relaying ends when the last holder of the slave closes it (EIO on the master).
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import struct
import termios
import tty
from collections.abc import Callable
from types import FrameType

TIOCSCTTY = 0x540E  # Linux <asm-generic/ioctls.h>


def take_controlling_terminal() -> None:
    """In the command's process, before exec: a new session whose terminal is stdin."""
    os.setsid()
    fcntl.ioctl(0, TIOCSCTTY, 0)


def open_pty() -> tuple[int, int]:
    """(master, slave); the slave gets the size of our terminal when we have one."""
    master, slave = os.openpty()
    _copy_size(slave)
    return master, slave


def _copy_size(target: int) -> None:
    for fd in (0, 1):
        if os.isatty(fd):
            size = fcntl.ioctl(fd, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
            fcntl.ioctl(target, termios.TIOCSWINSZ, size)
            return


def relay(master: int, done: Callable[[], bool]) -> None:
    """Copy our stdin to `master` and `master` to our stdout until the slave side is gone
    (or `done()` and nothing is left to read)."""
    saved = termios.tcgetattr(0) if os.isatty(0) else None
    previous = signal.getsignal(signal.SIGWINCH)

    def resized(_signum: int, _frame: FrameType | None) -> None:
        _copy_size(master)

    if saved is not None:
        tty.setraw(0, termios.TCSANOW)  # not TCSAFLUSH: keep what was typed ahead
    signal.signal(signal.SIGWINCH, resized)
    try:
        _pump(master, done)
    finally:
        signal.signal(signal.SIGWINCH, previous)
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)


def _pump(master: int, done: Callable[[], bool]) -> None:
    reading_stdin = True
    while True:
        watched = [master, 0] if reading_stdin else [master]
        ready, _, _ = select.select(watched, [], [], 0.1)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError as e:
                if e.errno == errno.EIO:  # every holder of the slave closed it
                    return
                raise
            if not data:
                return
            _write_all(1, data)
        elif done():
            return
        if 0 in ready:
            data = os.read(0, 65536)
            if data:
                _write_all(master, data)
            else:
                reading_stdin = False  # our input ended; the command keeps its terminal


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
