"""Following a container's runs by its pidfile: the pidfile, pidfds, inotify events, and the
DNS server's view of which entries are running (network/liveness.py, network/dns/runs.py).

Real processes of this test stand in for containers: no root needed.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from network import inotify, liveness
from network.dns.records import Entry, Zone
from network.dns.runs import Runs
from network.state import replace


def write_pidfile(path: Path, pid: int, start: int | None = None) -> None:
    path.write_text(f"{pid} {start if start is not None else liveness.start_time(pid)}\n")


def test_a_pidfile_names_a_live_run_only_with_the_right_start_time(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    assert liveness.read(str(pidfile)) is None and not liveness.running(str(pidfile))
    write_pidfile(pidfile, os.getpid())
    assert liveness.running(str(pidfile))
    write_pidfile(pidfile, os.getpid(), 1)  # same pid, another start time: a reused pid
    assert not liveness.running(str(pidfile))
    pidfile.write_text("garbage\n")
    assert liveness.read(str(pidfile)) is None


def test_without_pidfds_a_run_is_followed_by_its_start_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pidfds(pid: int, flags: int = 0) -> int:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    monkeypatch.setattr(os, "pidfd_open", no_pidfds)
    pidfile = tmp_path / "pid"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_pidfile(pidfile, sleeper.pid, 1)
        assert liveness.open_run(str(pidfile)) is None  # a reused pid
        write_pidfile(pidfile, sleeper.pid)
        assert liveness.running(str(pidfile))
        watchers = [t for t in threading.enumerate() if t.name == f"run {sleeper.pid}"]
        for watcher in watchers:  # its pipe's read end closed by running(): the thread ends
            watcher.join(5)
            assert not watcher.is_alive()
        fd = liveness.open_run(str(pidfile))
        assert fd is not None
        try:
            assert select.select([fd], [], [], 0.3)[0] == []  # readable only once the run ends
            sleeper.kill()
            sleeper.wait()
            assert select.select([fd], [], [], 5)[0] == [fd] and os.read(fd, 1) == b""
        finally:
            os.close(fd)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_inotify_reports_the_names_that_changed(tmp_path: Path) -> None:
    fd = inotify.init()
    try:
        wd = inotify.add_watch(fd, tmp_path)
        (tmp_path / "pid.tmp").write_text("1 2\n")
        os.replace(tmp_path / "pid.tmp", tmp_path / "pid")
        assert (wd, inotify.IN_MOVED_TO, "pid") in inotify.events(fd)
        assert inotify.events(fd) == []
    finally:
        os.close(fd)


def flood(directory: Path) -> None:
    """More events than the kernel queues (max_queued_events, 16384 by default): an overflow."""
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    for i in range(limit + 2):
        os.close(os.open(directory / f"flood{i % 2}", os.O_WRONLY | os.O_CREAT, 0o644))


def test_inotify_reports_an_overflow(tmp_path: Path) -> None:
    fd = inotify.init()
    try:
        inotify.add_watch(fd, tmp_path)
        flood(tmp_path)
        found = inotify.events(fd)
        assert inotify.overflowed(found) and (-1, inotify.IN_Q_OVERFLOW, "") in found
    finally:
        os.close(fd)


def test_replace_exchanges_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    target, tmp = tmp_path / "a.json", tmp_path / ".a.json.tmp"
    tmp.write_text("one")
    replace(tmp, target)  # no file to exchange with yet
    tmp.write_text("two")
    replace(tmp, target)
    assert target.read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def _zone(*entries: Entry) -> Zone:
    return Zone("n", IPv4Address("10.0.0.1"), IPv4Network("10.0.0.0/24"), entries)


@dataclass
class Following:
    runs: Runs
    notify: int
    ended: asyncio.Event  # set when a followed run ends
    sleeper: subprocess.Popen[bytes]  # stands in for a container's PID 1


@asynccontextmanager
async def following(log: Callable[[str], None] = print) -> AsyncIterator[Following]:
    """A `Runs` on a fresh inotify fd, and a sleeping process; both gone afterwards."""
    ended = asyncio.Event()
    notify = inotify.init()
    runs = Runs(asyncio.get_running_loop(), notify, ended.set, log)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield Following(runs, notify, ended, sleeper)
    finally:
        sleeper.kill()
        sleeper.wait()
        runs.close()
        os.close(notify)


def test_runs_serve_running_entries_and_notice_an_exit(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with following() as f:
            runs, fd, ended, sleeper = f.runs, f.notify, f.ended, f.sleeper
            (tmp_path / "a").mkdir()
            (tmp_path / "b").mkdir()
            write_pidfile(tmp_path / "a" / "pid", sleeper.pid)
            write_pidfile(tmp_path / "b" / "pid", sleeper.pid, 1)  # a run that is over
            entries = (Entry("a", IPv4Address("10.0.0.2"), ("a",), pidfile=str(tmp_path / "a" / "pid")),
                       Entry("b", IPv4Address("10.0.0.3"), ("b",), pidfile=str(tmp_path / "b" / "pid")),
                       Entry("c", IPv4Address("10.0.0.4"), ("c",)))  # no pidfile: always served
            (zone,) = runs.track([_zone(*entries)])
            assert [e.owner for e in zone.entries] == ["a", "c"]
            sleeper.kill()
            await asyncio.wait_for(ended.wait(), 5)
            (zone,) = runs.track([_zone(*entries)])
            assert [e.owner for e in zone.entries] == ["c"]
            # a new run of b is a pidfile event in a watched directory
            write_pidfile(tmp_path / "b" / "pid", os.getpid())
            events = inotify.events(fd)
            assert any(runs.concerns(wd, name) for wd, _, name in events)
            (zone,) = runs.track([_zone(*entries)])
            assert [e.owner for e in zone.entries] == ["b", "c"]

    asyncio.run(scenario())


def test_runs_without_a_watch_still_serve_a_live_run_and_notice_its_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """inotify refusing a watch (ENOSPC: the host's watches used up) is logged once; the
    entry's run is still followed by its pidfd."""
    def no_space(fd: int, directory: object, mask: int = 0) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(directory))

    monkeypatch.setattr(inotify, "add_watch", no_space)
    logged: list[str] = []

    async def scenario() -> None:
        async with following(logged.append) as f:
            runs, ended, sleeper = f.runs, f.ended, f.sleeper
            write_pidfile(tmp_path / "pid", sleeper.pid)
            entries = (Entry("a", IPv4Address("10.0.0.2"), ("a",), pidfile=str(tmp_path / "pid")),)
            for _ in range(2):
                (zone,) = runs.track([_zone(*entries)])
                assert [e.owner for e in zone.entries] == ["a"]
            assert len(logged) == 1 and "No space left on device" in logged[0]
            sleeper.kill()
            await asyncio.wait_for(ended.wait(), 5)
            (zone,) = runs.track([_zone(*entries)])
            assert zone.entries == ()

    asyncio.run(scenario())
