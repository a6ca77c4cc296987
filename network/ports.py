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
    """Bound sockets, in the order of `ports` (a request may have two: 0.0.0.0 and [::]);
    `close` drops this process's copies."""

    ports: tuple[PublishedPort, ...] = ()
    requests: tuple[PortRequest, ...] = ()
    sockets: list[socket.socket] = field(default_factory=list)
    chosen: tuple[int, ...] = ()  # the host port of each request

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def reserve(requests: Sequence[PortRequest], prefer: Sequence[int | None] = ()) -> Reservation:
    """Bind every request or none. Without a host address a port is bound on 0.0.0.0 and,
    where the host has IPv6, on [::] too (as Docker). `prefer[i]` is a host port to try
    first for request i (the one it had before, when a proxy is restarted); a port that was
    picked from a range or by the kernel moves on when it is taken meanwhile."""
    reservation = Reservation(requests=tuple(requests))
    try:
        for index, request in enumerate(requests):
            previous = prefer[index] if index < len(prefer) else None
            bound = _bind_one(request, previous)
            reservation.chosen += (bound[0].getsockname()[1],)
            for sock in bound:
                reservation.sockets.append(sock)
                host = "::" if sock.family == socket.AF_INET6 and not request.host_ip else _host_ip(request)
                reservation.ports += (PublishedPort(host, sock.getsockname()[1], request.target, request.protocol),)
    except BaseException:
        reservation.close()
        raise
    return reservation


_NO_IPV6 = frozenset({errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL, errno.EPROTONOSUPPORT})
EPHEMERAL_TRIES = 8  # kernel-picked ports whose [::] twin turned out taken


def _bind_one(request: PortRequest, previous: int | None) -> list[socket.socket]:
    candidates: list[int] = [previous] if previous is not None else []
    if request.published is None:
        candidates += [0] * EPHEMERAL_TRIES
    else:
        first, last = request.published
        candidates += [p for p in range(first, last + 1) if p != previous]
    failed: tuple[str, int, OSError] | None = None
    for port in candidates:
        try:
            sock = _bind(request, _host_ip(request), port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise _bind_error(request, _host_ip(request), port, exc) from None
            failed = failed or (_host_ip(request), port, exc)
            continue
        if request.host_ip:
            return [sock]
        chosen = sock.getsockname()[1]
        try:
            return [sock, _bind(request, "::", chosen)]
        except OSError as exc:
            if exc.errno in _NO_IPV6:
                return [sock]  # a host without IPv6: 0.0.0.0 alone
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise _bind_error(request, "::", chosen, exc) from None
            failed = failed or ("::", chosen, exc)
    assert failed is not None
    raise _bind_error(request, *failed)


def _bind(request: PortRequest, address: str, port: int) -> socket.socket:
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


def _bind_error(request: PortRequest, host: str, port: int, error: OSError) -> PortAllocatedError:
    shown = f"[{host}]" if ":" in host else host
    if request.published and request.published[0] != request.published[1]:
        where = f"{shown}:{request.published[0]}-{request.published[1]}"
    else:
        where = f"{shown}:{port}"
    if error.errno == errno.EADDRINUSE:
        return PortAllocatedError(f"Bind for {where} failed: port is already allocated")
    return PortAllocatedError(f"Bind for {where} failed: {error.strerror}")
