"""The port proxy holds its host ports only while the container runs (network/proxy.py's
Follower), with inotify or, when the host has no inotify instance left, by polling.

A sleeping process with a pidfile stands in for PID 1; the ports are on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from network import PortRequest, inotify, proxy, reserve
from tests.unit.test_liveness import flood, write_pidfile


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def new_run(pidfile: Path) -> subprocess.Popen[bytes]:
    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    write_pidfile(pidfile, run.pid)
    return run


async def until(check: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def reserved(count: int = 1) -> tuple[dict[str, Any], list[int]]:
    """A proxy spec of `count` TCP ports on 127.0.0.1, bound as `up` binds them; the ports."""
    reservation = reserve([PortRequest(9 + i, "tcp", "127.0.0.1") for i in range(count)])
    spec = {"target": "127.0.0.1", "listeners": [
        {"fd": sock.detach(), "protocol": "tcp", "target_port": 9} for sock in reservation.sockets]}
    return spec, [p.host_port for p in reservation.ports]


@pytest.fixture(params=["inotify", "polled"])
def watching(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test twice: with inotify, and polling as when the host has no inotify left."""
    def used_up() -> int:
        raise OSError(errno.EMFILE, "Too many open files")

    if request.param == "polled":
        monkeypatch.setattr(inotify, "init", used_up)


def exit_then_run_again(pidfile: Path, meanwhile: Callable[[proxy.Follower], Awaitable[None]] | None = None) -> None:
    """A run, its exit (the port released), `meanwhile`, a new run (the port bound again)."""
    spec, (port,) = reserved()
    runs: list[subprocess.Popen[bytes]] = []

    async def scenario() -> None:
        listeners = proxy.Listeners(spec)
        await listeners.serve()
        runs.append(new_run(pidfile))
        follower = proxy.Follower(listeners, str(pidfile))
        assert follower.run is not None and listening(port)
        runs[0].kill()
        runs[0].wait()
        pidfile.unlink()
        await until(lambda: follower.released and not listening(port))
        if meanwhile is not None:
            await meanwhile(follower)
        runs.append(new_run(pidfile))
        await until(lambda: not follower.released and listening(port))
        listeners.release()

    try:
        asyncio.run(scenario())
    finally:
        for run in runs:
            run.kill()
            run.wait()


@pytest.mark.usefixtures("watching")
def test_ports_are_released_at_exit_and_bound_again_for_the_next_run(tmp_path: Path) -> None:
    exit_then_run_again(tmp_path / "pid")


@pytest.mark.usefixtures("watching")
def test_a_run_over_before_the_proxy_saw_it_alive_releases_the_ports(tmp_path: Path) -> None:
    """A short-lived service (`restart: no`): its pidfile comes when PID 1 has exited already."""
    spec, (port,) = reserved()
    pidfile = tmp_path / "pid"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()

    async def scenario() -> None:
        listeners = proxy.Listeners(spec)
        await listeners.serve()
        follower = proxy.Follower(listeners, str(pidfile))
        assert not follower.released and listening(port)  # no pidfile yet: held
        write_pidfile(pidfile, gone.pid, 1)
        await until(lambda: follower.released and not listening(port))

    asyncio.run(scenario())


def test_a_release_while_the_ports_are_being_served_closes_every_one() -> None:
    """serve() takes several loop turns; a release in between (an exit right after a
    take-back) must close the ports served so far and those not served yet."""
    spec, ports = reserved(3)

    async def scenario() -> None:
        listeners = proxy.Listeners(spec)
        serving = asyncio.ensure_future(listeners.serve())
        while not listeners.open:
            await asyncio.sleep(0)  # one loop turn
        assert len(listeners.open) < len(ports)  # some not served yet
        listeners.release()
        await serving
        assert not any(listening(port) for port in ports)
        listeners.bind()  # all of them free again: the next take-back binds them
        await listeners.serve()
        assert all(listening(port) for port in ports)
        listeners.release()

    asyncio.run(scenario())


def test_a_run_whose_event_was_lost_in_an_overflow_gets_its_ports_back(tmp_path: Path) -> None:
    async def overflow(follower: proxy.Follower) -> None:
        flood(tmp_path)  # the queue is full: the new pidfile's event is lost

    exit_then_run_again(tmp_path / "pid", overflow)


def test_a_deleted_directory_is_polled_then(tmp_path: Path) -> None:
    """The kernel drops the watch of a deleted directory (IN_IGNORED): the pidfile is polled."""
    (tmp_path / "c").mkdir()

    async def delete_and_make_again(follower: proxy.Follower) -> None:
        (tmp_path / "c").rmdir()
        await until(lambda: follower.notify is None)
        (tmp_path / "c").mkdir()

    exit_then_run_again(tmp_path / "c" / "pid", delete_and_make_again)
