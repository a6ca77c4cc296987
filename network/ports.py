"""Host ports reserved by binding them, in the calling process, before a container exists.

A taken port is therefore an error at `reserve` time, before anything is created for the
container, with Docker's wording ("Bind for 0.0.0.0:8080 failed: port is already
allocated"). The bound sockets (listening, for TCP) are then handed to the proxy process
(`network.proxies`), so no connection made in between is lost: the kernel queues it.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from network.errors import NetworkError


class PortAllocatedError(NetworkError):
    """A host port to publish cannot be bound (already in use, or the address is not ours)."""


@dataclass(frozen=True)
class PortRequest:
    """One container port to publish. `published` is an inclusive host port range (one port
    when both ends are equal), None for a port the kernel picks; `host_ip` "" means all
    IPv4 addresses of the host."""

    target: int
    protocol: str = "tcp"
    host_ip: str = ""
    published: tuple[int, int] | None = None


@dataclass(frozen=True)
class PublishedPort:
    """A host port as bound: `host_ip:host_port` forwards to the container's `target`."""

    host_ip: str
    host_port: int
    target: int
    protocol: str


@dataclass(frozen=True)
class SandboxPorts:
    """What a sandbox publishes: host ports as bound, ports only exposed ("80/tcp"), and
    whether its proxy runs (the host ports are held only while it does)."""

    ports: tuple[PublishedPort, ...]
    exposed: tuple[str, ...]
    serving: bool


@dataclass
class Reservation:
    """Bound sockets, in the order of `ports`; `close` drops this process's copies."""

    ports: tuple[PublishedPort, ...] = ()
    requests: tuple[PortRequest, ...] = ()
    sockets: list[socket.socket] = field(default_factory=list)

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def reserve(requests: Sequence[PortRequest], prefer: Sequence[int | None] = ()) -> Reservation:
    """Bind every request or none. `prefer[i]` is a host port to try first for request i (the
    one it had before, when a proxy is restarted); a port that was picked from a range or by
    the kernel falls back to another one when it is taken meanwhile."""
    reservation = Reservation(requests=tuple(requests))
    try:
        for index, request in enumerate(requests):
            previous = prefer[index] if index < len(prefer) else None
            sock = _bind_one(request, previous)
            reservation.sockets.append(sock)
            port = sock.getsockname()[1]
            reservation.ports += (PublishedPort(_host_ip(request), port, request.target, request.protocol),)
    except BaseException:
        reservation.close()
        raise
    return reservation


def _bind_one(request: PortRequest, previous: int | None) -> socket.socket:
    candidates: list[int] = []
    if previous is not None:
        candidates.append(previous)
    if request.published is None:
        candidates.append(0)
    else:
        first, last = request.published
        candidates += [p for p in range(first, last + 1) if p != previous]
    error: OSError | None = None
    for port in candidates:
        try:
            return _bind(request, port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise _bind_error(request, port, exc) from None
            error = error or exc
    assert error is not None
    first_port = request.published[0] if request.published else 0
    raise _bind_error(request, first_port, error)


def _bind(request: PortRequest, port: int) -> socket.socket:
    address = _host_ip(request)
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    kind = socket.SOCK_STREAM if request.protocol == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if kind == socket.SOCK_STREAM:
            # Rebinding right after a proxy went must not wait for TIME_WAIT; a listener
            # on the port still makes bind fail. (Not for UDP: there it would share ports.)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(socket.SOMAXCONN)
    except BaseException:
        sock.close()
        raise
    return sock


def _host_ip(request: PortRequest) -> str:
    return request.host_ip or "0.0.0.0"


def _bind_error(request: PortRequest, port: int, error: OSError) -> PortAllocatedError:
    host = _host_ip(request)
    shown = f"[{host}]" if ":" in host else host
    if request.published and request.published[0] != request.published[1]:
        where = f"{shown}:{request.published[0]}-{request.published[1]}"
    else:
        where = f"{shown}:{port}"
    if error.errno == errno.EADDRINUSE:
        return PortAllocatedError(f"Bind for {where} failed: port is already allocated")
    return PortAllocatedError(f"Bind for {where} failed: {error.strerror}")
