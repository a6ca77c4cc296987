"""A small typed adapter over pyroute2: the only module that imports it.

One `Netlink` wraps one rtnetlink socket, either in the caller's namespace or in a
sandbox's (see `netns.open_route_socket` for how that socket is made without forking).
Errors come out as `KernelError` with the operation and the interface named.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Network
from types import TracebackType

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError as _Pyroute2Error

from network.errors import KernelError


@contextmanager
def _kernel(what: str, ignore: tuple[int, ...] = ()) -> Iterator[None]:
    try:
        yield
    except _Pyroute2Error as exc:
        if exc.code in ignore:
            return
        raise KernelError(f"{what}: {errno.errorcode.get(exc.code, exc.code)} {exc}") from exc


class Netlink:
    """Link, address and route operations on one network namespace."""

    def __init__(self, sock: socket.socket | None = None) -> None:
        """Use `sock` (ownership is taken) or, by default, a socket in the caller's namespace."""
        self._ipr = IPRoute(fileno=sock.detach()) if sock is not None else IPRoute()

    def close(self) -> None:
        self._ipr.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # links -----------------------------------------------------------------
    def link_index(self, name: str) -> int | None:
        """The index of interface `name`, or None if there is none."""
        try:
            return int(self._ipr.link("get", ifname=name)[0]["index"])
        except _Pyroute2Error as exc:
            if exc.code == errno.ENODEV:
                return None
            raise KernelError(f"cannot look up interface {name}: {exc}") from exc

    def link_kind(self, index: int) -> str | None:
        with _kernel(f"cannot read interface #{index}"):
            info = self._ipr.link("get", index=index)[0].get_attr("IFLA_LINKINFO")
        return info.get_attr("IFLA_INFO_KIND") if info is not None else None

    def link_names(self) -> list[str]:
        with _kernel("cannot list interfaces"):
            return [str(m.get_attr("IFLA_IFNAME")) for m in self._ipr.link("dump")]

    def add_bridge(self, name: str, mac: str) -> int:
        with _kernel(f"cannot create bridge {name}"):
            self._ipr.link("add", ifname=name, kind="bridge", address=mac)
        index = self.link_index(name)
        if index is None:
            raise KernelError(f"bridge {name} vanished right after it was created")
        return index

    def add_veth(
        self, host_name: str, master: int, peer_name: str, peer_mac: str, peer_netns_fd: int
    ) -> None:
        """Create a veth pair: the host end enslaved to `master` and up, the peer created
        directly inside the namespace `peer_netns_fd` (so its name never clashes here)."""
        with _kernel(f"cannot create veth {host_name}"):
            self._ipr.link(
                "add",
                ifname=host_name,
                kind="veth",
                master=master,
                state="up",
                peer={"ifname": peer_name, "address": peer_mac, "net_ns_fd": peer_netns_fd},
            )

    def set_up(self, index: int) -> None:
        with _kernel(f"cannot bring interface #{index} up"):
            self._ipr.link("set", index=index, state="up")

    def delete_link(self, name: str) -> bool:
        """Delete interface `name`; False if it did not exist."""
        try:
            self._ipr.link("del", ifname=name)
            return True
        except _Pyroute2Error as exc:
            if exc.code == errno.ENODEV:
                return False
            raise KernelError(f"cannot delete interface {name}: {exc}") from exc

    # addresses and routes --------------------------------------------------
    def add_address(self, index: int, address: str, prefixlen: int) -> None:
        """Assign an IPv4 address; already assigned is fine."""
        with _kernel(f"cannot add address {address}/{prefixlen}", ignore=(errno.EEXIST,)):
            self._ipr.addr("add", index=index, address=address, prefixlen=prefixlen)

    def replace_default_route(self, gateway: str) -> None:
        with _kernel(f"cannot set default route via {gateway}"):
            self._ipr.route("replace", dst="0.0.0.0/0", gateway=gateway)

    def ipv4_prefixes(self) -> list[IPv4Network]:
        """Every IPv4 prefix routed (any table) or assigned in this namespace."""
        found: list[IPv4Network] = []
        with _kernel("cannot list routes and addresses"):
            for route in self._ipr.route("dump", family=socket.AF_INET):
                dst = route.get_attr("RTA_DST")
                if dst is not None:
                    found.append(IPv4Network(f"{dst}/{route['dst_len']}", strict=False))
            for addr in self._ipr.addr("dump", family=socket.AF_INET):
                local = addr.get_attr("IFA_ADDRESS")
                found.append(IPv4Network(f"{local}/{addr['prefixlen']}", strict=False))
        return found
