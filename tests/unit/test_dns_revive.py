"""A name whose container has just started resolves at once, before the DNS server has
handled the pidfile's inotify event (network/dns/server.py `respond`, dns/runs.py `revive`):
`start` returns as soon as the monitor wrote the pidfile, and a dependent started right
after must not get NXDOMAIN. A run that is over still gets NXDOMAIN. Lost events (a queue
overflow) and dropped watches (a deleted directory) make the server reload.

The server is loaded but not bound (no root needed); a sleeping process stands in for PID 1.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from dnslib import RCODE, DNSRecord

from network.dns.control import Layout
from network.dns.server import DnsServer
from network.dns.zones import ZoneStore
from tests.unit.test_liveness import flood, following, write_pidfile

GATEWAY, SENDER = "10.0.0.1", "10.0.0.9"


def ask(server: DnsServer, name: str) -> DNSRecord:
    reply = server.respond(bytes(DNSRecord.question(name).pack()), GATEWAY, SENDER)
    assert isinstance(reply, bytes)
    return DNSRecord.parse(reply)


def zone_of_web(tmp_path: Path) -> tuple[Layout, Path]:
    """A server directory with one zone, whose entry `web` (10.0.0.2) has a pidfile (not
    written yet) in the directory tmp_path/web."""
    layout = Layout(tmp_path / "dns")
    layout.zones.mkdir(parents=True)
    store = ZoneStore(layout.zones)
    store.add_zone("n", GATEWAY, "10.0.0.0/24")
    (tmp_path / "web").mkdir()
    pidfile = tmp_path / "web" / "pid"
    store.publish("web", "n", "10.0.0.2", ["web"], pidfile=str(pidfile))
    return layout, pidfile


def test_a_run_begun_before_its_event_was_handled_resolves_and_an_ended_one_does_not(tmp_path: Path) -> None:
    layout, pidfile = zone_of_web(tmp_path)

    async def scenario() -> None:
        server = DnsServer(layout, [])
        async with following() as f:
            server._runs, ended, sleeper = f.runs, f.ended, f.sleeper
            assert server.load() is not None
            assert ask(server, "web").header.rcode == RCODE.NXDOMAIN  # not started yet
            write_pidfile(pidfile, sleeper.pid)  # started; the event is not handled yet
            reply = ask(server, "web")
            assert reply.header.rcode == RCODE.NOERROR and [str(r.rdata) for r in reply.rr] == ["10.0.0.2"]
            assert ask(server, "other").header.rcode == RCODE.NXDOMAIN
            sleeper.kill()
            sleeper.wait()
            await asyncio.wait_for(ended.wait(), 5)  # its pidfd says the run ended
            write_pidfile(pidfile, sleeper.pid, 1)  # a pidfile left behind by a run that is over
            assert server.load() is not None
            assert ask(server, "web").header.rcode == RCODE.NXDOMAIN

    asyncio.run(scenario())


def test_lost_events_and_dropped_watches_make_the_server_reload(tmp_path: Path) -> None:
    layout, _ = zone_of_web(tmp_path)
    reloads: list[int] = []

    async def scenario() -> None:
        server = DnsServer(layout, [])
        server._schedule_reload = lambda: reloads.append(1)  # type: ignore[method-assign]
        async with following() as f:
            server._runs = f.runs
            assert server.load() is not None
            flood(tmp_path / "web")  # nothing about the pidfile, but the queue overflows
            server._changed(f.notify)
            assert reloads == [1]
            shutil.rmtree(tmp_path / "web")  # its watch is dropped
            server._changed(f.notify)
            assert reloads == [1, 1]
            (tmp_path / "web").mkdir()  # back: watched again at the next load
            assert server.load() is not None
            write_pidfile(tmp_path / "web" / "pid", f.sleeper.pid)
            server._changed(f.notify)
            assert reloads == [1, 1, 1]

    asyncio.run(scenario())
