"""A pseudo-terminal for `exec -t` and `run -t`: the caller's side (allocate, relay, resize).

For exec, the caller opens a pty pair, hands the slave to the exec helper as stdin,
stdout and stderr, and relays bytes between its own terminal (put in raw mode, as
`docker exec -it` does, so keys like Ctrl-C reach the command's terminal instead of us)
and the master. The command becomes the session leader with the slave as its
controlling terminal (`take_controlling_terminal`, in the helper). Window size follows
the caller's terminal (SIGWINCH). Relaying ends when the last holder of the slave closes
it (EIO on the master). For run, the container's monitor owns the pty and reads its
master (console.py): the output comes from the console socket, which ends at EOF.
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

from runtime.console import TIOCSCTTY, console_pair, receive_master, set_size


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
    size = terminal_size()
    if size is not None:
        set_size(target, *size)


def terminal_size() -> tuple[int, int] | None:
    """(rows, cols) of our terminal, if we have one."""
    for fd in (0, 1):
        if os.isatty(fd):
            packed = fcntl.ioctl(fd, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
            rows, cols, _, _ = struct.unpack("HHHH", packed)
            return rows, cols
    return None


def attach_console(start: Callable[[int], object]) -> None:
    """Start a container with `process.terminal` through `start(console_fd)` (e.g.
    `ContainerStore.start(id, console=fd)`) and relay our terminal to its pty until its
    PID 1 has exited (or its monitor has dropped us)."""
    ours, theirs = console_pair(*(terminal_size() or (24, 80)))
    try:
        try:
            start(theirs)
        finally:
            os.close(theirs)  # the monitor has its copy: EOF on ours once it closes it
        master = receive_master(ours)
        if master is None:
            return
        try:
            relay(master, lambda: False, output=ours.fileno())
        finally:
            os.close(master)
    finally:
        ours.close()


def relay(master: int, done: Callable[[], bool], output: int | None = None) -> None:
    """Copy our stdin to `master` and `output` (default: `master`) to our stdout until the
    slave side is gone, `output` is at EOF, or `done()` and nothing is left to read."""
    saved = termios.tcgetattr(0) if os.isatty(0) else None
    previous = signal.getsignal(signal.SIGWINCH)

    def resized(_signum: int, _frame: FrameType | None) -> None:
        _copy_size(master)

    if saved is not None:
        tty.setraw(0, termios.TCSANOW)  # not TCSAFLUSH: keep what was typed ahead
    signal.signal(signal.SIGWINCH, resized)
    try:
        _pump(master, master if output is None else output, done)
    finally:
        signal.signal(signal.SIGWINCH, previous)
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)


def _pump(master: int, output: int, done: Callable[[], bool]) -> None:
    reading_stdin = True
    while True:
        watched = [output, 0] if reading_stdin else [output]
        ready, _, _ = select.select(watched, [], [], 0.1)
        if output in ready:
            try:
                data = os.read(output, 65536)
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
