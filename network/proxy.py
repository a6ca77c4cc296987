"""The userland port proxy: one process per container, run as a script (`python -I -S
network/proxy.py SPEC`), so it imports only the standard library (no package, no site).

SPEC is JSON: {"ready": FD, "target": "10.89.0.2", "listeners": [{"fd": N, "protocol":
"tcp", "target_port": 80}, ...]}. Every listener fd is a socket the caller already bound
(and, for TCP, made listening): connections that arrive before this process runs are
queued by the kernel, not refused. Once serving, "ready" is written to the ready fd.

TCP: each accepted connection gets its own connection to the container; bytes are
relayed both ways with flow control, and a half-close (EOF) is passed on. UDP: each
client address is a flow with its own connected socket to the container, so replies go
back to the right client; a flow idle for UDP_IDLE seconds is dropped (as docker-proxy).
SIGTERM or SIGINT ends the process.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import sys
from typing import Any

UDP_IDLE = 90.0


class Relay(asyncio.Protocol):
    """One side of a relayed TCP connection: what it reads is written to its peer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: Relay | None = None
        self.got_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)

    def eof_received(self) -> bool:
        self.got_eof = True
        peer = self.peer.transport if self.peer else None
        if peer is None or self.peer is None or self.peer.got_eof:
            self.close()
            return False
        if peer.can_write_eof():
            peer.write_eof()
        return True  # the other direction may still carry data

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    def pause_writing(self) -> None:  # our send buffer is full: stop reading the peer
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def close(self) -> None:
        for side in (self, self.peer):
            if side is not None and side.transport is not None:
                side.transport.close()


class Inbound(Relay):
    """A client connection: held (not read) until the container side is connected."""

    def __init__(self, target: tuple[str, int]) -> None:
        super().__init__()
        self.target = target

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        outbound = Relay()
        try:
            await loop.create_connection(lambda: outbound, *self.target)
        except OSError:
            self.transport.close()  # the container does not listen (yet): as docker-proxy
            return
        if self.transport.is_closing():
            outbound.close()
            return
        self.peer, outbound.peer = outbound, self
        _no_delay(outbound.transport)
        _no_delay(self.transport)
        self.transport.resume_reading()


class UdpListener(asyncio.DatagramProtocol):
    """The published UDP port: one `UdpFlow` per client address."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[Any, UdpFlow] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        flow = self.flows.get(addr)
        if flow is None:
            flow = self.flows[addr] = UdpFlow(self, addr)
            asyncio.get_running_loop().create_task(flow.open(self.target))
        flow.send(data)

    def error_received(self, exc: Exception) -> None:
        pass  # an ICMP error for one client must not end the listener


class UdpFlow(asyncio.DatagramProtocol):
    def __init__(self, listener: UdpListener, client: Any) -> None:
        self.listener = listener
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []
        self.idle_since = asyncio.get_running_loop().time()

    async def open(self, target: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(lambda: self, remote_addr=target)
        except OSError:
            self.listener.flows.pop(self.client, None)
            return
        loop.call_later(UDP_IDLE, self._expire)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram transport
        for data in self.pending:
            self.transport.sendto(data)  # type: ignore[union-attr]
        self.pending.clear()

    def send(self, data: bytes) -> None:
        self.idle_since = asyncio.get_running_loop().time()
        if self.transport is None:
            self.pending.append(data)
        else:
            self.transport.sendto(data)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.idle_since = asyncio.get_running_loop().time()
        if self.listener.transport is not None:
            self.listener.transport.sendto(data, self.client)

    def error_received(self, exc: Exception) -> None:
        pass  # e.g. ECONNREFUSED while nothing listens in the container

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        left = self.idle_since + UDP_IDLE - loop.time()
        if left > 0:
            loop.call_later(left, self._expire)
            return
        self.listener.flows.pop(self.client, None)
        if self.transport is not None:
            self.transport.close()


def _no_delay(transport: asyncio.BaseTransport | None) -> None:
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def serve(spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    target_ip = spec["target"]
    for listener in spec["listeners"]:
        sock = socket.socket(fileno=listener["fd"])
        sock.setblocking(False)
        target = (target_ip, int(listener["target_port"]))
        if listener["protocol"] == "tcp":
            await loop.create_server(functools.partial(Inbound, target), sock=sock)
        else:
            await loop.create_datagram_endpoint(functools.partial(UdpListener, target), sock=sock)
    os.write(spec["ready"], b"ready\n")
    os.close(spec["ready"])
    await stop.wait()


def main() -> int:
    spec = json.loads(sys.argv[-1])
    asyncio.run(serve(spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
