"""The embedded DNS server: one long-lived asyncio process per run root (so per host).

It serves every zone under its directory on the zone's gateway address, port 53, UDP
and TCP, in the host's network namespace (so forwarding to the host's own resolvers,
loopback ones included, works). It rereads the zones when inotify reports a change and
rebinds to the gateways that came or went. An entry whose container is not running is
left out (dns/runs.py): it resolves again when the container starts. It holds an flock on its pidfile for its
whole life: that lock, not the pid, is what says "a server is running".

Run by `network.dns.control`; argv: DIRECTORY [--upstream IP[:PORT]]...
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import signal
import socket
import sys
import time
from collections.abc import Coroutine
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, cast

from network import inotify
from network.dns import wire
from network.dns.control import Layout, parse_upstream, resolv_conf_upstreams
from network.dns.records import Book, Zone
from network.dns.runs import Runs
from network.dns.zones import ZoneStore
from network.errors import StateError
from network.state import write_json

PORT = 53
FORWARD_TIMEOUT = 2.0  # per upstream, as resolv.conf's default `timeout:` is 5 for all tries
TCP_IDLE = 10.0
IP_FREEBIND = 15  # bind a gateway address before (or while) its bridge has it

Upstream = tuple[str, int]


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} dns[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


class DnsServer:
    def __init__(self, layout: Layout, upstreams: list[Upstream] | None) -> None:
        self.layout = layout
        self.zones = ZoneStore(layout.zones)
        self.answers = wire.AnswerCache(Book(()))
        self._zones: list[Zone] = []  # every entry, running or not
        self._every = wire.AnswerCache(Book(()))  # the answers if every container ran
        self._fixed_upstreams = upstreams  # None: the host's resolv.conf, reread on reload
        self.upstreams: list[Upstream] = []
        self._udp: dict[IPv4Address, asyncio.DatagramTransport] = {}
        self._tcp: dict[IPv4Address, asyncio.Server] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reloading: asyncio.Task[None] | None = None
        self._dirty = False
        self._runs: Runs | None = None
        self._zones_wd = -1

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        self.layout.zones.mkdir(parents=True, exist_ok=True)
        watch = inotify.init()
        self._zones_wd = inotify.add_watch(watch, self.layout.zones)
        self._runs = Runs(loop, watch, self._schedule_reload, _log)
        loop.add_reader(watch, self._changed, watch)
        await self.reload()
        await stop.wait()
        loop.remove_reader(watch)
        self._runs.close()
        os.close(watch)
        for gateway in list(self._udp):
            self._unbind(gateway)

    # reloading --------------------------------------------------------------
    def _changed(self, watch: int) -> None:
        events = inotify.events(watch)
        runs = self._runs
        if inotify.overflowed(events) or any(
                wd == self._zones_wd or (runs and (runs.concerns(wd, name) or (mask & inotify.IN_IGNORED and runs.dropped(wd))))
                for wd, mask, name in events):
            self._schedule_reload()

    def _schedule_reload(self) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.ensure_future(self._reload_until_clean())
        else:
            self._dirty = True

    async def _reload_until_clean(self) -> None:
        while True:
            self._dirty = False
            await self.reload()
            if not self._dirty:
                return

    async def reload(self) -> None:
        """Reread every zone; bind new gateways, release gone ones; publish the status."""
        book = self.load()
        if book is None:
            return
        fixed = self._fixed_upstreams
        self.upstreams = fixed if fixed is not None else _host_upstreams(book)
        for gateway in sorted(book.gateways - self._udp.keys()):
            try:
                await self._bind(gateway)
            except OSError as error:
                _log(f"cannot listen on {gateway}:{PORT}: {error}")
        for gateway in sorted(self._udp.keys() - book.gateways):
            self._unbind(gateway)
        write_json(self.layout.status, {"pid": os.getpid(), "listening": sorted(str(g) for g in self._udp)})

    def load(self) -> Book | None:
        """Reread every zone into the answers; None (the previous ones kept) when unreadable."""
        try:
            zones = self.zones.zones()
            book = Book(self._runs.track(zones) if self._runs else zones)
        except StateError as error:
            _log(f"keeping the previous records: {error}")
            return None
        self.answers = wire.AnswerCache(book)
        self._zones, self._every = zones, wire.AnswerCache(Book(zones))
        return book

    async def _bind(self, gateway: IPv4Address) -> None:
        loop = asyncio.get_running_loop()
        udp_sock = _socket(socket.SOCK_DGRAM, gateway)
        try:
            tcp_sock = _socket(socket.SOCK_STREAM, gateway)
        except OSError:
            udp_sock.close()
            raise
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self, gateway), sock=udp_sock)
        tcp_sock.listen(128)
        self._udp[gateway] = transport
        self._tcp[gateway] = await asyncio.start_server(
            lambda r, w: self._tcp_client(gateway, r, w), sock=tcp_sock)

    def _unbind(self, gateway: IPv4Address) -> None:
        self._udp.pop(gateway).close()
        self._tcp.pop(gateway).close()

    # answering --------------------------------------------------------------
    def answer_udp(self, transport: asyncio.DatagramTransport, local: str,
                   data: bytes, addr: tuple[str, int]) -> None:
        result = self.respond(data, local, addr[0])
        if isinstance(result, bytes):
            transport.sendto(result, addr)
        elif result is not None:
            self._spawn(self._forward_udp(transport, result, addr))

    def respond(self, packet: bytes, local: str, source: str, udp: bool = True) -> bytes | wire.Forward | None:
        """The answer from the running entries. A name of an entry not served is looked up
        again at once when it would resolve were its container running: its run may have
        begun before the pidfile's event reached the reload (a dependent started right after)."""
        result = self.answers.respond(packet, local, source, udp)
        if not _nxdomain(result) or self._runs is None or _nxdomain(self._every.respond(packet, local, source, udp)):
            return result
        revived = self._runs.revive(self._zones)
        if revived is None:
            return result
        self.answers = wire.AnswerCache(Book(revived))
        return self.answers.respond(packet, local, source, udp)

    async def _forward_udp(self, transport: asyncio.DatagramTransport, order: wire.Forward,
                           addr: tuple[str, int]) -> None:
        reply = None
        for upstream in self._upstreams_for(order):
            try:
                reply = await asyncio.wait_for(_udp_exchange(upstream, order.query), FORWARD_TIMEOUT)
                break
            except (OSError, TimeoutError):
                continue
        reply = reply or wire.servfail(order.query)
        if reply is not None and not transport.is_closing():
            transport.sendto(reply, addr)

    async def _tcp_client(self, gateway: IPv4Address, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        source, local = writer.get_extra_info("peername")[0], str(gateway)
        try:
            while True:
                size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), TCP_IDLE), "big")
                query = await reader.readexactly(size)
                result = self.respond(query, local, source, udp=False)
                if isinstance(result, wire.Forward):
                    result = await self._forward_tcp(result) or wire.servfail(query)
                if result is None:
                    break
                writer.write(len(result).to_bytes(2, "big") + result)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _forward_tcp(self, order: wire.Forward) -> bytes | None:
        for upstream in self._upstreams_for(order):
            try:
                return await asyncio.wait_for(_tcp_exchange(upstream, order.query), FORWARD_TIMEOUT)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                continue
        return None

    def _upstreams_for(self, order: wire.Forward) -> list[Upstream]:
        if order.upstreams:
            return [parse_upstream(u) for u in order.upstreams]
        return self.upstreams

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer, gateway: IPv4Address) -> None:
        self.server = server
        self.local = str(gateway)
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self.server.answer_udp(self.transport, self.local, data, addr)


def _nxdomain(reply: bytes | wire.Forward | None) -> bool:
    return isinstance(reply, bytes) and len(reply) >= 4 and reply[3] & 0x0F == 3  # RCODE 3


def _socket(kind: int, gateway: IPv4Address) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        sock.setblocking(False)
        sock.bind((str(gateway), PORT))
    except OSError:
        sock.close()
        raise
    return sock


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


async def _udp_exchange(upstream: Upstream, query: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    with socket.socket(_family(upstream[0]), socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, upstream)
        await loop.sock_sendall(sock, query)
        while True:
            data = await loop.sock_recv(sock, 65535)
            if data[:2] == query[:2]:  # same id: the answer, not a stray datagram
                return data


async def _tcp_exchange(upstream: Upstream, query: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(*upstream)
    try:
        writer.write(len(query).to_bytes(2, "big") + query)
        await writer.drain()
        size = int.from_bytes(await reader.readexactly(2), "big")
        return await reader.readexactly(size)
    finally:
        writer.close()


def _host_upstreams(book: Book) -> list[Upstream]:
    """The host's resolvers, minus our own gateways (a loop)."""
    try:
        text = Path("/etc/resolv.conf").read_text()
    except OSError:
        return []
    ours = {str(g) for g in book.gateways}
    return [u for u in resolv_conf_upstreams(text) if u[0] not in ours]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="network.dns.server")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--upstream", action="append", default=None)
    args = parser.parse_args(argv)
    layout = Layout(args.directory)
    layout.directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(layout.pidfile, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another server has the directory
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    upstreams = [parse_upstream(u) for u in args.upstream] if args.upstream is not None else None
    _log(f"serving {layout.zones}, upstreams: {args.upstream or 'from /etc/resolv.conf'}")
    asyncio.run(DnsServer(layout, upstreams).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
