"""A small typed adapter over pyroute2: the only module that imports it.

We use pyroute2 for what it is good at, the rtnetlink message formats (`ifinfmsg`,
`ifaddrmsg`, `rtmsg`, their attributes, and the parser), and drive a plain socket
synchronously ourselves. Why not `IPRoute`: in pyroute2 0.9 every request runs an
asyncio event loop and costs 0.5-0.9 ms of Python (plus ~0.8 ms per instance), which
alone would blow the 10 ms budget for wiring a container; a direct request/ack
round-trip with the same message classes costs ~0.1 ms. It also lets a socket made in
another namespace (see `netns.open_route_socket`) be used without any pyroute2 netns
machinery, which forks. The requests on the path of wiring a container (link lookup, veth,
link up, address, default route) are encoded by `network.rtnl` instead, the same bytes
without pyroute2's 0.1-0.6 ms of Python per message; replies are decoded by pyroute2.

A `Netlink` is not thread-safe; each call of the manager makes its own.
"""

from __future__ import annotations

import errno
import importlib.util
import itertools
import os
import socket
import struct
import sys
from ipaddress import IPv4Network
from types import TracebackType
from typing import Any


def _register_pyroute2_without_init() -> None:
    """Make `pyroute2` importable without running its package `__init__`.

    That `__init__` imports every pyroute2 API (IPRoute, NDB, asyncio, conntrack, nl80211,
    ...), ~200 ms on this VM, paid by every `up` and `down`. We use three message classes
    and their parser, so the package is registered bare and only those submodules load
    (~40 ms). This module is the only importer of pyroute2 in pycompose; code that wants
    the full `pyroute2` API in the same process would have to import it first.
    """
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    if spec is not None and spec.submodule_search_locations is not None:
        sys.modules["pyroute2"] = importlib.util.module_from_spec(spec)


_register_pyroute2_without_init()

from pyroute2.netlink import (  # noqa: E402
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
)
from pyroute2.netlink.exceptions import NetlinkError as _Pyroute2Error  # noqa: E402
from pyroute2.netlink.rtnl import (  # noqa: E402
    RTM_DELLINK,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETROUTE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
)
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg  # noqa: E402
from pyroute2.netlink.rtnl.ifinfmsg import IFF_UP, ifinfmsg  # noqa: E402
from pyroute2.netlink.rtnl.rtmsg import rtmsg  # noqa: E402

from network import rtnl  # noqa: E402
from network.errors import KernelError  # noqa: E402

# Replies are decoded by type with the message classes alone: pyroute2's MarshalRtnl
# would import every rtnetlink family (traffic control...), ~85 ms at each start.
_DECODERS: dict[int, Any] = {RTM_NEWLINK: ifinfmsg, RTM_NEWADDR: ifaddrmsg, RTM_NEWROUTE: rtmsg}

_RT_TABLE_MAIN = 254
_RTPROT_STATIC = 4
_RTN_UNICAST = 1
_RECV_SIZE = 1 << 16
_NLMSGHDR = struct.Struct("=IHHII")


class Netlink:
    """Link, address and route operations on one network namespace."""

    def __init__(self, sock: socket.socket | None = None) -> None:
        """Use `sock` (a NETLINK_ROUTE socket; ownership is taken) or one made here, which
        lives in the calling thread's namespace."""
        self._sock = sock or socket.socket(
            socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, 0
        )
        self._sock.bind((0, 0))
        self._seq = itertools.count(1)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # the request loop ----------------------------------------------------------
    def _request(self, msg: Any, msg_type: int, flags: int = 0) -> list[Any]:
        """Send `msg`; return the replies decoded. Raises pyroute2's NetlinkError on a NACK."""
        replies = []
        for kind, data in self._exchange(msg, msg_type, flags):
            decoder = _DECODERS.get(kind)
            if decoder is not None:
                reply = decoder(data)
                reply.decode()
                replies.append(reply)
        return replies

    def _request_raw(self, msg: Any, msg_type: int) -> list[bytes]:
        """Like `_request`, but return the reply payloads undecoded.

        Decoding a full RTM_NEWLINK reply (statistics, per-family data...) costs pyroute2
        over a millisecond; a caller that needs one fixed-offset field reads it directly.
        """
        return [data[_NLMSGHDR.size:] for _kind, data in self._exchange(msg, msg_type, 0)]

    def _exchange(self, msg: Any, msg_type: int, flags: int) -> list[tuple[int, bytes]]:
        """Send `msg` (a pyroute2 message, or the body of one encoded by network.rtnl) and
        collect (type, whole message) of each reply until the ACK or DONE."""
        seq = next(self._seq)
        flags |= NLM_F_REQUEST | NLM_F_ACK
        if isinstance(msg, bytes):
            self._sock.send(rtnl.message(msg_type, flags, seq, msg))
        else:
            msg["header"]["type"] = msg_type
            msg["header"]["flags"] = flags
            msg["header"]["sequence_number"] = seq
            msg.encode()
            self._sock.send(msg.data)
        replies: list[tuple[int, bytes]] = []
        while True:
            data = self._sock.recv(_RECV_SIZE)
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, kind, _flags, rseq, _pid = _NLMSGHDR.unpack_from(data, offset)
                if length < _NLMSGHDR.size:
                    break
                message = data[offset : offset + length]
                offset += (length + 3) & ~3
                if rseq != seq:
                    continue
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("i", message, _NLMSGHDR.size)[0]
                    if code:
                        raise _Pyroute2Error(code, os.strerror(code))
                    return replies  # NLMSG_ERROR with code 0 is the ACK
                if kind == NLMSG_DONE:
                    return replies
                replies.append((kind, message))

    def _do(
        self, what: str, msg: Any, msg_type: int, flags: int = 0, ok: tuple[int, ...] = ()
    ) -> list[Any]:
        try:
            return self._request(msg, msg_type, flags)
        except _Pyroute2Error as exc:
            if exc.code in ok:
                return []
            reason = errno.errorcode.get(exc.code, str(exc.code))
            raise KernelError(f"{what}: {reason} ({exc})") from exc

    # links ---------------------------------------------------------------------
    def link_index(self, name: str) -> int | None:
        """The index of interface `name`, or None if there is none."""
        try:
            (body,) = self._request_raw(rtnl.ifinfo(rtnl.text(rtnl.IFLA_IFNAME, name)), RTM_GETLINK)
        except _Pyroute2Error as exc:
            if exc.code == errno.ENODEV:
                return None
            raise KernelError(f"cannot look up interface {name}: {exc}") from exc
        # struct ifinfomsg { u8 family; u8 pad; u16 type; i32 index; ... }
        return int(struct.unpack_from("i", body, 4)[0])

    def link_kind(self, index: int) -> str | None:
        msg = ifinfmsg()
        msg["index"] = index
        (link,) = self._do(f"cannot read interface #{index}", msg, RTM_GETLINK)
        info = link.get_attr("IFLA_LINKINFO")
        return info.get_attr("IFLA_INFO_KIND") if info is not None else None

    def link_names(self) -> list[str]:
        msg = ifinfmsg()
        links = self._do("cannot list interfaces", msg, RTM_GETLINK, NLM_F_DUMP)
        return [str(link.get_attr("IFLA_IFNAME")) for link in links]

    def link_mtu(self, index: int) -> int:
        msg = ifinfmsg()
        msg["index"] = index
        (link,) = self._do(f"cannot read interface #{index}", msg, RTM_GETLINK)
        return int(link.get_attr("IFLA_MTU"))

    def add_bridge(self, name: str, mac: str, mtu: int = 0) -> int:
        """Create a bridge; `mtu` 0 leaves the kernel's default."""
        msg = ifinfmsg()
        msg["attrs"] = [
            ("IFLA_IFNAME", name),
            ("IFLA_ADDRESS", mac),
            *([("IFLA_MTU", mtu)] if mtu else []),
            ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "bridge")]}),
        ]
        self._do(f"cannot create bridge {name}", msg, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)
        index = self.link_index(name)
        if index is None:
            raise KernelError(f"bridge {name} vanished right after it was created")
        return index

    def add_veth(
        self,
        host_name: str,
        master: int,
        peer_name: str,
        peer_mac: str,
        peer_netns_fd: int,
        mtu: int = 0,
    ) -> None:
        """Create a veth pair in one request: the host end enslaved to `master` and up; the
        peer created directly inside namespace `peer_netns_fd`, named, with its MAC.
        Creating the peer in place means its name never has to be unique here."""
        # The peer cannot be created up (the kernel answers ENOTCONN: its other end does
        # not exist yet); attach brings it up from inside the namespace.
        mtu_attr = [rtnl.u32(rtnl.IFLA_MTU, mtu)] if mtu else []
        peer = rtnl.ifinfo(
            rtnl.text(rtnl.IFLA_IFNAME, peer_name),
            rtnl.mac(rtnl.IFLA_ADDRESS, peer_mac),
            rtnl.u32(rtnl.IFLA_NET_NS_FD, peer_netns_fd),
            *mtu_attr,
        )
        info = rtnl.attr(rtnl.IFLA_LINKINFO, rtnl.text(rtnl.IFLA_INFO_KIND, "veth") + rtnl.attr(
            rtnl.IFLA_INFO_DATA, rtnl.attr(rtnl.VETH_INFO_PEER, peer)))
        msg = rtnl.ifinfo(
            rtnl.text(rtnl.IFLA_IFNAME, host_name), rtnl.u32(rtnl.IFLA_MASTER, master), *mtu_attr, info,
            flags=IFF_UP, change=IFF_UP,
        )
        self._do(f"cannot create veth {host_name}", msg, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)

    def set_up(self, index: int) -> None:
        msg = rtnl.ifinfo(index=index, flags=IFF_UP, change=IFF_UP)
        self._do(f"cannot bring interface #{index} up", msg, RTM_NEWLINK)

    def delete_link(self, name: str) -> bool:
        """Delete interface `name`; False if it did not exist."""
        msg = ifinfmsg()
        msg["attrs"] = [("IFLA_IFNAME", name)]
        try:
            self._request(msg, RTM_DELLINK)
            return True
        except _Pyroute2Error as exc:
            if exc.code == errno.ENODEV:
                return False
            raise KernelError(f"cannot delete interface {name}: {exc}") from exc

    # addresses and routes ------------------------------------------------------
    def add_address(self, index: int, address: str, prefixlen: int) -> None:
        """Assign an IPv4 address (with its broadcast); already assigned is fine."""
        net = IPv4Network(f"{address}/{prefixlen}", strict=False)
        msg = rtnl.ifaddr(index, prefixlen, rtnl.ipv4(rtnl.IFA_LOCAL, address), rtnl.ipv4(rtnl.IFA_ADDRESS, address),
                          rtnl.ipv4(rtnl.IFA_BROADCAST, str(net.broadcast_address)))
        self._do(
            f"cannot add address {address}/{prefixlen}",
            msg,
            RTM_NEWADDR,
            NLM_F_CREATE | NLM_F_EXCL,
            ok=(errno.EEXIST,),
        )

    def replace_default_route(self, gateway: str) -> None:
        msg = rtnl.rtmsg(_RT_TABLE_MAIN, _RTPROT_STATIC, _RTN_UNICAST, rtnl.ipv4(rtnl.RTA_GATEWAY, gateway))
        self._do(
            f"cannot set the default route via {gateway}",
            msg,
            RTM_NEWROUTE,
            NLM_F_CREATE | NLM_F_REPLACE,
        )

    def default_route_interface(self) -> int | None:
        """The index of the interface of the main table's IPv4 default route, if any."""
        query = rtmsg()
        query["family"] = socket.AF_INET
        for route in self._do("cannot list routes", query, RTM_GETROUTE, NLM_F_DUMP):
            table = route.get_attr("RTA_TABLE") or route["table"]
            oif = route.get_attr("RTA_OIF")
            if route["dst_len"] == 0 and table == _RT_TABLE_MAIN and oif is not None:
                return int(oif)
        return None

    def ipv4_prefixes(self) -> list[IPv4Network]:
        """Every IPv4 prefix routed (in any table) or assigned in this namespace."""
        found: list[IPv4Network] = []
        query = rtmsg()
        query["family"] = socket.AF_INET
        for route in self._do("cannot list routes", query, RTM_GETROUTE, NLM_F_DUMP):
            dst = route.get_attr("RTA_DST")
            if dst is not None:
                found.append(IPv4Network(f"{dst}/{route['dst_len']}", strict=False))
        query = ifaddrmsg()
        query["family"] = socket.AF_INET
        for addr in self._do("cannot list addresses", query, RTM_GETADDR, NLM_F_DUMP):
            local = addr.get_attr("IFA_ADDRESS")
            found.append(IPv4Network(f"{local}/{addr['prefixlen']}", strict=False))
        return found
