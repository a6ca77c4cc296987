"""The host bridge of a network: created with its gateway address, MTU and isolation filter
(see `isolation`), up; removed by name."""

from __future__ import annotations

from network import isolation
from network.errors import KernelError
from network.names import mac_address
from network.netlink import Netlink
from network.state import NetworkRecord

FALLBACK_MTU = 1500


def default_mtu(host: Netlink) -> int:
    """The MTU of the host's default-route interface, as netavark picks it; 1500 if none."""
    index = host.default_route_interface()
    return host.link_mtu(index) if index is not None else FALLBACK_MTU


def ensure_bridge(host: Netlink, net: NetworkRecord, repair: bool = True) -> int:
    """Return the index of `net`'s bridge, creating it if absent (e.g. after a reboot).

    With `repair` (the default), an existing bridge also gets its gateway address and is
    brought up, which finishes the job if a previous call died half-way. `repair=False`
    is the fast path for attach, which only needs the index of a working bridge.
    """
    index = host.link_index(net.bridge)
    if index is not None and not repair:
        return index
    if index is None:
        index = host.add_bridge(net.bridge, mac_address("bridge", net.bridge), net.mtu)
    elif host.link_kind(index) != "bridge":
        raise KernelError(
            f"interface {net.bridge} of network {net.name!r} exists but is not a bridge",
            hint=f"delete it with `ip link del {net.bridge}`",
        )
    host.add_address(index, net.gateway, int(net.subnet.rsplit("/", 1)[1]))
    isolation.isolate(net.bridge, net.internal)
    host.set_up(index)
    return index


def remove_bridge(host: Netlink, name: str) -> None:
    """Delete the bridge `name` and its filter; a missing one is fine. Its routes go with it."""
    host.delete_link(name)
    isolation.release(name)
