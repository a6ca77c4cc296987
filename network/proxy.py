"""The userland port proxy: one process per container, run as a script (`python -I -S
network/proxy.py SPEC`), so it imports only the standard library (no package, no site).

SPEC is JSON: {"ready": FD, "target": "10.89.0.2", "listeners": [{"fd": N, "protocol":
"tcp", "target_port": 80}, ...], "pidfile": PATH or null}. Every listener fd is a socket
the caller already bound (and, for TCP, made listening): connections that arrive before this process runs are
queued by the kernel, not refused. Once serving, "ready" is written to the ready fd.

TCP: each accepted connection gets its own connection to the container; bytes are
relayed both ways with flow control, and a half-close (EOF) is passed on. UDP: each
client address is a flow with its own connected socket to the container, so replies go
back to the right client; a flow idle for UDP_IDLE seconds is dropped (as docker-proxy).
SIGTERM ends the process; SIGINT and SIGHUP (from the terminal of the `up` that
started it) are ignored.

With a pidfile (network/liveness.py), the host ports are held only while the container
runs, as Docker does: when its PID 1 exits they are closed (another process may bind
them), and bound again when it runs again (a restart policy, or `start`). Until the first
pidfile is seen they stay held, as reserved before the container was created; a run that
ended before the proxy saw it alive (a short-lived service) releases them too. The sibling
modules `inotify` and `liveness` are standard library only and loaded from this directory.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from network import inotify, liveness
else:
    if not __package__:  # run as a script (-I: its directory is not on sys.path)
        sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    inotify = importlib.import_module(f"{__package__}.inotify" if __package__ else "inotify")
    liveness = importlib.import_module(f"{__package__}.liveness" if __package__ else "liveness")

UDP_IDLE = 90.0
REBIND_RETRY = 1.0  # seconds between tries to take a port back that another process holds
PIDFILE_POLL = 0.1  # seconds, without inotify
WATCHED = inotify.IN_MOVED_TO | inotify.IN_CLOSE_WRITE | inotify.IN_DELETE


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
        self.peer, outbound.peer = outbound, self  # asyncio sets TCP_NODELAY on both already
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


class Listeners:
    """The published ports: each a socket bound to a host address, served toward the target."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.held: list[tuple[socket.socket, tuple[str, int]]] = []
        for listener in spec["listeners"]:
            sock = socket.socket(fileno=listener["fd"])
            sock.setblocking(False)
            self.held.append((sock, (spec["target"], int(listener["target_port"]))))
        # (family, type, address, target) of each, to bind them again after a release
        self.bindings = [(s.family, s.type, s.getsockname(), t) for s, t in self.held]
        self.open: list[asyncio.AbstractServer | asyncio.BaseTransport] = []
        self.generation = 0  # one more at each release: a serve() begun before it stops

    async def serve(self) -> None:
        """Serve the held sockets (several loop turns: a release may come in between)."""
        generation = self.generation
        while self.held and generation == self.generation:
            sock, target = self.held.pop(0)
            try:
                item = await self._open(sock, target)
            except BaseException:
                sock.close()
                raise
            if generation != self.generation:  # released meanwhile (its sockets closed)
                item.close()
                return
            self.open.append(item)

    @staticmethod
    async def _open(sock: socket.socket, target: tuple[str, int]) -> asyncio.AbstractServer | asyncio.BaseTransport:
        loop = asyncio.get_running_loop()
        if sock.type == socket.SOCK_STREAM:
            return await loop.create_server(functools.partial(Inbound, target), sock=sock)
        transport, _ = await loop.create_datagram_endpoint(functools.partial(UdpListener, target), sock=sock)
        return transport

    def release(self) -> None:
        """Close every port: served, or bound and not served yet."""
        self.generation += 1
        for item in self.open:
            item.close()
        for sock, _ in self.held:
            sock.close()
        self.open, self.held = [], []

    def bind(self) -> None:
        """Bind every port again (all or none; OSError when one is taken)."""
        held: list[tuple[socket.socket, tuple[str, int]]] = []
        try:
            for family, kind, address, target in self.bindings:
                sock = socket.socket(family, kind)
                held.append((sock, target))
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if kind == socket.SOCK_STREAM:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                if kind == socket.SOCK_STREAM:
                    sock.listen(socket.SOMAXCONN)
                sock.setblocking(False)
        except OSError:
            for sock, _ in held:
                sock.close()
            raise
        self.held = held


class Follower:
    """Holds the ports while the container runs, releases them while it does not."""

    def __init__(self, listeners: Listeners, pidfile: str) -> None:
        self.listeners = listeners
        self.pidfile = pidfile
        self.run: int | None = None  # pidfd of the container's current run
        self.released = False
        self.seen = False  # a run was (or a pidfile named one): from then on, no run means no ports
        self.retrying = False  # a port is held by another process: logged once, tried each second
        self.serving: asyncio.Future[None] | None = None  # the latest take-back's serve()
        self.notify: int | None = None  # inotify on the pidfile's directory; None: polled
        directory = os.path.dirname(pidfile)
        if not os.path.isdir(directory):  # no container to follow: the ports stay held
            _log(f"cannot follow the container: no {directory}; its host ports stay held")
            return
        try:
            self.notify = inotify.init()
            inotify.add_watch(self.notify, directory, WATCHED)
        except OSError as error:  # e.g. the host's inotify instances are used up (128 per user)
            if self.notify is not None:
                os.close(self.notify)
                self.notify = None
            _log(f"no inotify ({error}): the pidfile is polled every {PIDFILE_POLL:g} s while the container is down")
        else:
            asyncio.get_running_loop().add_reader(self.notify, self._changed)
        self.follow()

    def follow(self) -> None:
        """Watch the current run if there is one (taking the ports back if released)."""
        if self.run is not None:
            return
        self.run = liveness.open_run(self.pidfile)
        if self.run is None:
            if self.notify is None:
                asyncio.get_running_loop().call_later(PIDFILE_POLL, self.follow)
            if liveness.read(self.pidfile) is not None:  # a run we never saw alive
                self.seen = True
            if self.seen:
                self._release()
            return
        asyncio.get_running_loop().add_reader(self.run, self._ended)
        if self.released:
            self._take_back()

    def _changed(self) -> None:
        assert self.notify is not None
        name = os.path.basename(self.pidfile)
        events = inotify.events(self.notify)
        ours = any(event == name for _, _, event in events)
        ignored = any(mask & inotify.IN_IGNORED for _, mask, _ in events)
        self.seen = self.seen or ours
        if ignored:
            self._rewatch()
        if ours or ignored or inotify.overflowed(events):  # an overflow may have lost the pidfile's event
            self.follow()

    def _rewatch(self) -> None:
        """The directory's watch is gone (the directory was deleted): watch it again if it is
        back, else poll the pidfile."""
        assert self.notify is not None
        try:
            inotify.add_watch(self.notify, os.path.dirname(self.pidfile), WATCHED)
        except OSError as error:
            _log(f"cannot watch the pidfile's directory any more ({error}): polled every {PIDFILE_POLL:g} s")
            asyncio.get_running_loop().remove_reader(self.notify)
            os.close(self.notify)
            self.notify = None

    def _ended(self) -> None:
        assert self.run is not None
        asyncio.get_running_loop().remove_reader(self.run)
        os.close(self.run)
        self.run = None
        self.seen = True
        self._release()
        self.follow()  # it may have been started again already

    def _release(self) -> None:
        if not self.released:
            self.listeners.release()
            self.released = True
            _log("the container exited: its host ports are released")

    def _take_back(self) -> None:
        if self.run is None or not self.released:
            return
        try:
            self.listeners.bind()
        except OSError as error:
            if not self.retrying:
                _log(f"cannot take the host ports back ({error}); retrying every {REBIND_RETRY:g} s")
            self.retrying = True
            asyncio.get_running_loop().call_later(REBIND_RETRY, self._take_back)
            return
        self.released = self.retrying = False
        self.serving = asyncio.ensure_future(self.listeners.serve())
        self.serving.add_done_callback(_report)
        _log("the container runs again: its host ports are served")


def _report(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log(f"cannot serve the host ports again: {task.exception()!r}")


def _log(message: str) -> None:
    print(f"proxy[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


async def serve(spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    for signum in (signal.SIGINT, signal.SIGHUP):  # the terminal of the `up` that started it
        signal.signal(signum, signal.SIG_IGN)
    listeners = Listeners(spec)
    await listeners.serve()
    follower = Follower(listeners, spec["pidfile"]) if spec.get("pidfile") else None
    os.write(spec["ready"], b"ready\n")
    os.close(spec["ready"])
    await stop.wait()
    del follower


def main() -> int:
    spec = json.loads(sys.argv[-1])
    asyncio.run(serve(spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
