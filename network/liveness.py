"""Following a container's runs through its pidfile, without knowing the runtime.

The runtime's monitor writes "PID START\n" into the container's pidfile (renamed into
place) each time PID 1 starts, START being field 22 of /proc/PID/stat, and removes it when
PID 1 exits. Composer hands that path to the network side with the container's DNS names
and published ports; the DNS server and the port proxy then serve a container only while
it runs, as Docker releases an endpoint's names and host ports when its container stops
or exits, and takes them again when it (re)starts, restart policies included.

A pidfd (not the file) tells that a run ended: it fires even when the monitor was killed
and left its pidfile behind. A kernel without pidfd_open (before 5.3) gets a pipe instead,
closed by a thread that polls the process's start time. A new run is seen by watching the pidfile's directory
(network/inotify.py).

Standard library only, importing nothing of the package: the proxy process imports it as
a top-level module (see proxy.py).
"""

from __future__ import annotations

import errno
import os
import select
import threading

POLL = 0.1  # seconds between looks at a run's start time, on a kernel without pidfds


def read(pidfile: str) -> tuple[int, int] | None:
    """(pid, start time) from the pidfile; None when absent or malformed."""
    try:
        with open(pidfile, "rb") as f:
            words = f.read(64).split()
    except OSError:
        return None
    if len(words) != 2 or not all(w.isdigit() for w in words):
        return None
    return int(words[0]), int(words[1])


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat; None when the process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def open_run(pidfile: str) -> int | None:
    """A pidfd of the run the pidfile names, if that run is alive (readable once it ends);
    None when there is no live run."""
    named = read(pidfile)
    if named is None:
        return None
    pid, start = named
    try:
        fd = os.pidfd_open(pid)
    except OSError as error:
        if error.errno == errno.ENOSYS and start_time(pid) == start:  # a kernel before 5.3
            return _polled_run(pid, start)
        return None
    if start_time(pid) != start:  # the pid was reused (or the process is a zombie)
        os.close(fd)
        return None
    return fd


def _polled_run(pid: int, start: int) -> int:
    """Without pidfds: a pipe whose read end (returned) reads EOF once the process is gone,
    as its start time is polled by a thread; closing the read end ends the thread."""
    read, write = os.pipe()

    def watch() -> None:
        closed = select.poll()
        closed.register(write, select.POLLERR)  # reported once the read end is closed
        try:
            while start_time(pid) == start and not closed.poll(int(POLL * 1000)):
                pass
        finally:
            os.close(write)

    threading.Thread(target=watch, name=f"run {pid}", daemon=True).start()
    return read


def running(pidfile: str) -> bool:
    fd = open_run(pidfile)
    if fd is None:
        return False
    os.close(fd)
    return True
