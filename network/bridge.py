"""The host bridge of a network: created with its gateway address and MTU, up; removed by name."""

from __future__ import annotations

from pathlib import Path

from network.errors import KernelError
from network.names import mac_address
from network.netlink import Netlink
from network.state import NetworkRecord

FALLBACK_MTU = 1500
_SYSCTL_CONF = Path("/proc/sys/net/ipv4/conf")


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
    if net.internal:
        _no_forwarding(net.bridge)
    host.set_up(index)
    return index


def _no_forwarding(bridge: str) -> None:
    """Packets arriving on an internal network's bridge are never routed elsewhere.

    Members have no default route either; this also stops one that adds its own. (The
    kernel resets per-interface forwarding when the global ip_forward is toggled; the
    next `up` sets it again.)
    """
    try:
        (_SYSCTL_CONF / bridge / "forwarding").write_text("0\n")
    except OSError as exc:
        raise KernelError(f"cannot turn forwarding off on {bridge}: {exc.strerror}") from exc


def remove_bridge(host: Netlink, name: str) -> None:
    """Delete the bridge `name`; a missing bridge is fine. Its routes go with it."""
    host.delete_link(name)
