"""A small typed adapter over pyroute2: the only module that imports it.

We use pyroute2 for what it is good at, the rtnetlink message formats (`ifinfmsg`,
`ifaddrmsg`, `rtmsg`, their attributes, and the parser), and drive a plain socket
synchronously ourselves. Why not `IPRoute`: in pyroute2 0.9 every request runs an
asyncio event loop and costs 0.5-0.9 ms of Python (plus ~0.8 ms per instance), which
alone would blow the 10 ms budget for wiring a container; a direct request/ack
round-trip with the same message classes costs ~0.1 ms. It also lets a socket made in
another namespace (see `netns.open_route_socket`) be used without any pyroute2 netns
machinery, which forks.

A `Netlink` is not thread-safe; each call of the manager makes its own.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
import struct
from ipaddress import IPv4Network
from types import TracebackType
from typing import Any

from pyroute2.netlink import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
)
from pyroute2.netlink.exceptions import NetlinkError as _Pyroute2Error
from pyroute2.netlink.rtnl import (
    RTM_DELLINK,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETROUTE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
)
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import IFF_UP, ifinfmsg
from pyroute2.netlink.rtnl.marshal import MarshalRtnl
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from network.errors import KernelError

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
        self._marshal = MarshalRtnl()

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
        """Send `msg`; return the replies. Raises pyroute2's NetlinkError on a NACK."""
        seq = next(self._seq)
        msg["header"]["type"] = msg_type
        msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK | flags
        msg["header"]["sequence_number"] = seq
        msg.encode()
        self._sock.send(msg.data)
        replies: list[Any] = []
        while True:
            for reply in self._marshal.parse(self._sock.recv(_RECV_SIZE)):
                header = reply["header"]
                if header["sequence_number"] != seq:
                    continue
                if header["error"] is not None:
                    raise header["error"]
                if header["type"] in (NLMSG_DONE, NLMSG_ERROR):
                    return replies  # NLMSG_ERROR with code 0 is the ACK
                replies.append(reply)

    def _request_raw(self, msg: Any, msg_type: int) -> list[bytes]:
        """Like `_request`, but return the reply payloads undecoded.

        Decoding a full RTM_NEWLINK reply (statistics, per-family data...) costs pyroute2
        over a millisecond; a caller that needs one fixed-offset field reads it directly.
        """
        seq = next(self._seq)
        msg["header"]["type"] = msg_type
        msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK
        msg["header"]["sequence_number"] = seq
        msg.encode()
        self._sock.send(msg.data)
        replies: list[bytes] = []
        while True:
            data = self._sock.recv(_RECV_SIZE)
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, kind, _flags, rseq, _pid = _NLMSGHDR.unpack_from(data, offset)
                if length < _NLMSGHDR.size:
                    break
                body = data[offset + _NLMSGHDR.size : offset + length]
                offset += (length + 3) & ~3
                if rseq != seq:
                    continue
                if kind == NLMSG_ERROR:
                    code = -struct.unpack_from("i", body)[0]
                    if code:
                        raise _Pyroute2Error(code, os.strerror(code))
                    return replies
                if kind == NLMSG_DONE:
                    return replies
                replies.append(body)

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
        msg = ifinfmsg()
        msg["attrs"] = [("IFLA_IFNAME", name)]
        try:
            (body,) = self._request_raw(msg, RTM_GETLINK)
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

    def add_bridge(self, name: str, mac: str) -> int:
        msg = ifinfmsg()
        msg["attrs"] = [
            ("IFLA_IFNAME", name),
            ("IFLA_ADDRESS", mac),
            ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "bridge")]}),
        ]
        self._do(f"cannot create bridge {name}", msg, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)
        index = self.link_index(name)
        if index is None:
            raise KernelError(f"bridge {name} vanished right after it was created")
        return index

    def add_veth(
        self, host_name: str, master: int, peer_name: str, peer_mac: str, peer_netns_fd: int
    ) -> None:
        """Create a veth pair in one request: the host end enslaved to `master` and up; the
        peer created directly inside namespace `peer_netns_fd`, named, with its MAC.
        Creating the peer in place means its name never has to be unique here."""
        # The peer cannot be created up (the kernel answers ENOTCONN: its other end does
        # not exist yet); attach brings it up from inside the namespace.
        peer = {
            "attrs": [
                ("IFLA_IFNAME", peer_name),
                ("IFLA_ADDRESS", peer_mac),
                ("IFLA_NET_NS_FD", peer_netns_fd),
            ],
        }
        msg = ifinfmsg()
        msg["flags"] = IFF_UP
        msg["change"] = IFF_UP
        msg["attrs"] = [
            ("IFLA_IFNAME", host_name),
            ("IFLA_MASTER", master),
            (
                "IFLA_LINKINFO",
                {
                    "attrs": [
                        ("IFLA_INFO_KIND", "veth"),
                        ("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", peer)]}),
                    ]
                },
            ),
        ]
        self._do(f"cannot create veth {host_name}", msg, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)

    def set_up(self, index: int) -> None:
        msg = ifinfmsg()
        msg["index"] = index
        msg["flags"] = IFF_UP
        msg["change"] = IFF_UP
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
        msg = ifaddrmsg()
        msg["family"] = socket.AF_INET
        msg["prefixlen"] = prefixlen
        msg["index"] = index
        msg["attrs"] = [
            ("IFA_LOCAL", address),
            ("IFA_ADDRESS", address),
            ("IFA_BROADCAST", str(net.broadcast_address)),
        ]
        self._do(
            f"cannot add address {address}/{prefixlen}",
            msg,
            RTM_NEWADDR,
            NLM_F_CREATE | NLM_F_EXCL,
            ok=(errno.EEXIST,),
        )

    def replace_default_route(self, gateway: str) -> None:
        msg = rtmsg()
        msg["family"] = socket.AF_INET
        msg["table"] = _RT_TABLE_MAIN
        msg["proto"] = _RTPROT_STATIC
        msg["type"] = _RTN_UNICAST
        msg["attrs"] = [("RTA_GATEWAY", gateway)]
        self._do(
            f"cannot set the default route via {gateway}",
            msg,
            RTM_NEWROUTE,
            NLM_F_CREATE | NLM_F_REPLACE,
        )

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
