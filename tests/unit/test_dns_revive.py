"""A name whose container has just started resolves at once, before the DNS server has
handled the pidfile's inotify event (network/dns/server.py `respond`, dns/runs.py `revive`):
`start` returns as soon as the monitor wrote the pidfile, and a dependent started right
after must not get NXDOMAIN. A run that is over still gets NXDOMAIN.

The server is loaded but not bound (no root needed); a sleeping process stands in for PID 1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dnslib import RCODE, DNSRecord

from network.dns.control import Layout
from network.dns.server import DnsServer
from network.dns.zones import ZoneStore
from tests.unit.test_liveness import following, write_pidfile

GATEWAY, SENDER = "10.0.0.1", "10.0.0.9"


def ask(server: DnsServer, name: str) -> DNSRecord:
    reply = server.respond(bytes(DNSRecord.question(name).pack()), GATEWAY, SENDER)
    assert isinstance(reply, bytes)
    return DNSRecord.parse(reply)


def test_a_run_begun_before_its_event_was_handled_resolves_and_an_ended_one_does_not(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "dns")
    store = ZoneStore(layout.zones)
    layout.zones.mkdir(parents=True)
    store.add_zone("n", GATEWAY, "10.0.0.0/24")
    (tmp_path / "web").mkdir()
    pidfile = tmp_path / "web" / "pid"
    store.publish("web", "n", "10.0.0.2", ["web"], pidfile=str(pidfile))

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
