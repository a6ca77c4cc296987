"""Wiring a sandbox to a bridge with a veth pair, and unwiring it symmetrically."""

from __future__ import annotations

import os
from pathlib import Path

from network import netns
from network.errors import KernelError
from network.netlink import Netlink
from network.state import AttachmentRecord

# The kernel gives loopback ifindex 1 in every new network namespace.
LOOPBACK_INDEX = 1


def bring_up_loopback(inside: Netlink) -> None:
    inside.set_up(LOOPBACK_INDEX)


def wire(
    host: Netlink, netns_path: Path, bridge_index: int, rec: AttachmentRecord, mtu: int = 0,
    inside: Netlink | None = None,
) -> None:
    """Create the veth for `rec` (if absent) and configure its peer inside the namespace.

    Idempotent: every step tolerates having been done already, so calling it again after
    a crash finishes the job. The peer is created directly inside the namespace under
    its final name (eth0...) with a fixed MAC, so nothing has to be moved or renamed.
    Both ends get the network's `mtu` (0: the kernel's default). `inside`: a netlink socket
    already in the namespace (else one is opened there, by a short-lived thread).
    """
    if host.link_index(rec.host_interface) is None:
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            host.add_veth(rec.host_interface, bridge_index, rec.interface, rec.mac, fd, mtu)
        finally:
            os.close(fd)
    if inside is None:
        with Netlink(netns.open_route_socket(netns_path)) as opened:
            _configure(opened, netns_path, rec)
    else:
        _configure(inside, netns_path, rec)


def _configure(inside: Netlink, netns_path: Path, rec: AttachmentRecord) -> None:
    """The peer's address, link state and (if it is the one) default route."""
    index = inside.link_index(rec.interface)
    if index is None:
        raise KernelError(
            f"interface {rec.interface} is missing in network namespace {netns_path} "
            f"although its host end {rec.host_interface} exists",
            hint="remove the sandbox and create it again",
        )
    inside.add_address(index, rec.address, rec.prefixlen)
    inside.set_up(index)
    if rec.default_route:
        inside.replace_default_route(rec.gateway)


def unwire(host: Netlink, rec: AttachmentRecord) -> None:
    """Delete the veth pair (deleting one end deletes both); already gone is fine.

    The address and routes inside the namespace vanish with the interface.
    """
    host.delete_link(rec.host_interface)
