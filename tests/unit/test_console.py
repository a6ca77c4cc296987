"""The console sockets between `run`, a terminal container's monitor and its PID 1
(runtime/console.py), with a pty of the host's devpts standing in for the container's."""

from __future__ import annotations

import os

from runtime.console import Console, console_pair, hand_over_pty, receive_master


def _size(fd: int) -> tuple[int, int]:
    size = os.get_terminal_size(fd)
    return size.lines, size.columns


def test_the_pty_is_sized_as_the_caller_asked_and_its_master_reaches_the_caller() -> None:
    ours, theirs = console_pair(40, 120)
    console = Console.prepare(theirs)
    slave = master = -1
    try:
        assert console.peer is not None and console.size == "40 120"
        assert os.path.samestat(os.fstat(theirs), os.stat(os.devnull))  # read once, then /dev/null
        slave = hand_over_pty(console.pid1_end())  # what PID 1 does in the container
        assert os.isatty(slave) and _size(slave) == (40, 120)
        assert os.ttyname(slave).startswith("/dev/pts/")
        assert console.receive() is not None  # the monitor's copy (it reads the output)
        master = receive_master(ours)  # the caller's copy (it writes keys and sizes)
        assert master is not None
        os.write(master, b"typed\n")
        assert os.read(slave, 100) == b"typed\n"
        console.forward(b"output")  # what the monitor reads from the master reaches the caller
        assert ours.recv(100) == b"output"
        console.close()
        assert ours.recv(100) == b""  # EOF: PID 1 is gone, the caller reads its exit code
    finally:
        for fd in (slave, master, theirs):
            if fd >= 0:
                os.close(fd)
        ours.close()


def test_without_a_console_socket_the_pty_is_the_logs_alone() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    console = Console.prepare(null)
    slave = -1
    try:
        assert console.peer is None and console.size == ""
        slave = hand_over_pty(console.pid1_end())
        master = console.receive()
        assert master is not None and os.isatty(slave)
        console.forward(b"nobody listens")  # no error
        os.close(master)
    finally:
        for fd in (slave, null):
            if fd >= 0:
                os.close(fd)


def test_a_pid_1_that_failed_before_its_pty_sends_none() -> None:
    console = Console.prepare(os.open(os.devnull, os.O_RDONLY))
    os.close(console.pid1_end())
    assert console.receive() is None


def test_a_caller_gone_before_the_hand_over_is_dropped() -> None:
    ours, theirs = console_pair(24, 80)
    ours.close()
    console = Console.prepare(theirs)
    slave = hand_over_pty(console.pid1_end())
    try:
        master = console.receive()
        assert master is not None and console.peer is None  # the container runs, its output logged
        os.close(master)
    finally:
        for fd in (slave, theirs):
            os.close(fd)
