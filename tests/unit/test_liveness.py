"""Following a container's runs by its pidfile: the pidfile, pidfds, inotify events, and the
DNS server's view of which entries are running (network/liveness.py, network/dns/runs.py).

Real processes of this test stand in for containers: no root needed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

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


def test_inotify_reports_the_names_that_changed(tmp_path: Path) -> None:
    fd = inotify.init()
    try:
        wd = inotify.add_watch(fd, tmp_path)
        (tmp_path / "pid.tmp").write_text("1 2\n")
        os.replace(tmp_path / "pid.tmp", tmp_path / "pid")
        assert (wd, "pid") in inotify.events(fd)
        assert inotify.events(fd) == []
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


def test_runs_serve_running_entries_and_notice_an_exit(tmp_path: Path) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        ended = asyncio.Event()
        fd = inotify.init()
        runs = Runs(loop, fd, ended.set)
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
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
            assert any(runs.concerns(wd, name) for wd, name in events)
            (zone,) = runs.track([_zone(*entries)])
            assert [e.owner for e in zone.entries] == ["b", "c"]
        finally:
            sleeper.kill()
            sleeper.wait()
            runs.close()
            os.close(fd)

    asyncio.run(scenario())
