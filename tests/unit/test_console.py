"""The console socket between `run` and a terminal container's monitor (runtime/console.py)."""

from __future__ import annotations

import os

from runtime.console import Console, console_pair, receive_master


def _size(fd: int) -> tuple[int, int]:
    size = os.get_terminal_size(fd)
    return size.lines, size.columns


def test_the_monitor_sizes_the_pty_and_hands_its_master_to_the_caller() -> None:
    ours, theirs = console_pair(40, 120)
    console = Console.open(theirs)
    try:
        assert console.peer is not None
        assert os.isatty(console.slave) and _size(console.slave) == (40, 120)
        assert os.path.samestat(os.fstat(theirs), os.stat(os.devnull))  # read once, then /dev/null
        master = receive_master(ours)
        assert master is not None
        os.write(master, b"typed\n")  # what the caller writes reaches PID 1's terminal
        assert os.read(console.slave, 100) == b"typed\n"
        console.forward(b"output")  # what the monitor reads from the master reaches the caller
        assert ours.recv(100) == b"output"
        console.close()
        assert ours.recv(100) == b""  # EOF: PID 1 is gone, the caller reads its exit code
        os.close(master)
    finally:
        for fd in (console.master, console.slave, theirs):
            os.close(fd)
        ours.close()


def test_without_a_console_socket_the_pty_is_the_logs_alone() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    console = Console.open(null)
    try:
        assert console.peer is None and os.isatty(console.slave)
        console.forward(b"nobody listens")  # no error
    finally:
        for fd in (console.master, console.slave, null):
            os.close(fd)


def test_a_caller_gone_before_the_hand_over_is_dropped() -> None:
    ours, theirs = console_pair(24, 80)
    ours.close()
    console = Console.open(theirs)
    try:
        assert console.peer is None  # the container starts anyway, its output logged
    finally:
        for fd in (console.master, console.slave, theirs):
            os.close(fd)
