"""The requests `Netlink` hand-encodes (network.rtnl) are byte for byte what pyroute2's
message classes encode; checked through a fake socket that acknowledges each (pure)."""

from __future__ import annotations

import struct
from typing import Any

from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import IFF_UP, ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from network.netlink import Netlink

NEWLINK, GETLINK, NEWADDR, NEWROUTE = 16, 18, 20, 24
ACK, CREATE_EXCL, CREATE_REPLACE = 0x5, 0x605, 0x505


class AckingSocket:
    """Records what is sent; answers each request with an ACK (or an interface's index)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def bind(self, address: object) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        header = self.sent[-1][:16]
        _, kind, _, seq, _ = struct.unpack("=IHHII", header)
        reply = b""
        if kind == GETLINK:  # an RTM_NEWLINK with index 42
            body = struct.pack("=BxHiII", 0, 0, 42, 0, 0)
            reply = struct.pack("=IHHII", 16 + len(body), NEWLINK, 0, seq, 0) + body
        return reply + struct.pack("=IHHII", 36, 2, 0, seq, 0) + struct.pack("=i", 0) + header


def pyroute2_bytes(msg: Any, msg_type: int, flags: int, seq: int) -> bytes:
    msg["header"]["type"] = msg_type
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg.encode()
    return bytes(msg.data)


def sent_by(call: Any) -> bytes:
    sock = AckingSocket()
    result = call(Netlink(sock))  # type: ignore[arg-type]
    assert len(sock.sent) == 1
    return sock.sent[0] if result is None else sock.sent[0] + bytes([result])


def test_a_veth_pair_with_its_peer_made_in_a_namespace() -> None:
    peer = {"attrs": [("IFLA_IFNAME", "eth0"), ("IFLA_ADDRESS", "02:00:00:00:00:01"),
                      ("IFLA_NET_NS_FD", 5), ("IFLA_MTU", 1400)]}
    msg = ifinfmsg()
    msg["flags"] = msg["change"] = IFF_UP
    msg["attrs"] = [("IFLA_IFNAME", "vp-0123456789ab"), ("IFLA_MASTER", 7), ("IFLA_MTU", 1400),
                    ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "veth"),
                                                 ("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", peer)]})]})]
    sent = sent_by(lambda nl: nl.add_veth("vp-0123456789ab", 7, "eth0", "02:00:00:00:00:01", 5, 1400))
    assert sent == pyroute2_bytes(msg, NEWLINK, CREATE_EXCL, 1)


def test_a_link_looked_up_by_name_and_set_up() -> None:
    msg = ifinfmsg()
    msg["attrs"] = [("IFLA_IFNAME", "lan")]
    assert sent_by(lambda nl: nl.link_index("lan")) == pyroute2_bytes(msg, GETLINK, ACK, 1) + bytes([42])
    msg = ifinfmsg()
    msg["index"], msg["flags"], msg["change"] = 3, IFF_UP, IFF_UP
    assert sent_by(lambda nl: nl.set_up(3)) == pyroute2_bytes(msg, NEWLINK, ACK, 1)


def test_an_address_and_a_default_route() -> None:
    msg = ifaddrmsg()
    msg["family"], msg["prefixlen"], msg["index"] = 2, 24, 2
    msg["attrs"] = [("IFA_LOCAL", "10.89.0.2"), ("IFA_ADDRESS", "10.89.0.2"), ("IFA_BROADCAST", "10.89.0.255")]
    assert sent_by(lambda nl: nl.add_address(2, "10.89.0.2", 24)) == pyroute2_bytes(msg, NEWADDR, CREATE_EXCL, 1)
    msg = rtmsg()
    msg["family"], msg["table"], msg["proto"], msg["type"] = 2, 254, 4, 1
    msg["attrs"] = [("RTA_GATEWAY", "10.89.0.1")]
    sent = sent_by(lambda nl: nl.replace_default_route("10.89.0.1"))
    assert sent == pyroute2_bytes(msg, NEWROUTE, CREATE_REPLACE, 1)
