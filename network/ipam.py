"""IP address management: pure allocation logic on `ipaddress`.

Nothing here touches the kernel or the disk; the manager feeds in what is taken (from
its state and from the host's routes and addresses) and records what comes out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from network.errors import NetworkError, PoolExhaustedError


def parse_pool(pool: str, prefix: int) -> IPv4Network:
    """Validate the subnet pool and the size of the subnets carved from it."""
    try:
        net = ipaddress.IPv4Network(pool, strict=True)
    except ValueError as exc:
        raise NetworkError(f"invalid subnet pool {pool!r}: {exc}") from exc
    if not net.prefixlen <= prefix <= 30:
        raise NetworkError(
            f"subnet prefix /{prefix} does not fit pool {pool}",
            hint=f"use a prefix between /{net.prefixlen} and /30",
        )
    return net


def allocate_subnet(pool: IPv4Network, prefix: int, taken: Iterable[IPv4Network]) -> IPv4Network:
    """The first /`prefix` subnet of `pool` that overlaps nothing in `taken`.

    `taken` holds our own recorded subnets and every prefix routed or assigned on the
    host (other data roots, docker, podman, the uplink), so we never shadow a route.
    """
    blocked = [t for t in taken if t.prefixlen > 0 and t.overlaps(pool)]
    for candidate in pool.subnets(new_prefix=prefix):
        if not any(candidate.overlaps(t) for t in blocked):
            return candidate
    raise PoolExhaustedError(
        f"no free /{prefix} subnet left in pool {pool}",
        hint="remove unused networks, or configure a larger subnet pool",
    )


def gateway_of(subnet: IPv4Network) -> IPv4Address:
    """The bridge's address: the first host address of the subnet."""
    return subnet.network_address + 1


def allocate_address(
    subnet: IPv4Network,
    in_use: Iterable[IPv4Address],
    network_name: str = "",
    gateway: IPv4Address | None = None,
    ip_range: IPv4Network | None = None,
) -> IPv4Address:
    """The lowest address of `ip_range` (default: the subnet) that is a host address of
    the subnet, not the gateway (default: the first host) and not in use."""
    used = set(in_use) | {gateway or gateway_of(subnet)}
    used |= {subnet.network_address, subnet.broadcast_address}
    for address in ip_range or subnet:
        if address not in used:
            return address
    label = f"network {network_name!r} ({subnet})" if network_name else f"subnet {subnet}"
    if ip_range is not None:
        label = f"ip_range {ip_range} of {label}"
    raise PoolExhaustedError(
        f"no free address left in {label}",
        hint="detach unused containers, or use a larger subnet prefix or ip_range",
    )

def user_subnet(
    network_name: str, subnet: str, gateway: str | None = None, ip_range: str | None = None
) -> tuple[IPv4Network, IPv4Address, IPv4Network | None]:
    """Validate a subnet the user chose (with its optional gateway and ip_range).

    Returns (subnet, gateway, ip_range); the gateway defaults to the first host address.
    """
    where = f"network {network_name!r}"
    try:
        net = ipaddress.IPv4Network(subnet, strict=False)
        gw = ipaddress.IPv4Address(gateway) if gateway else gateway_of(net)
        pool = ipaddress.IPv4Network(ip_range, strict=False) if ip_range else None
    except ValueError as exc:
        raise NetworkError(f"{where}: invalid IPAM setting: {exc}") from exc
    if net.prefixlen > 30:
        raise NetworkError(f"{where}: subnet {net} is too small", hint="use a prefix of /30 or shorter")
    if gw not in net or gw in (net.network_address, net.broadcast_address):
        raise NetworkError(f"{where}: gateway {gw} is not a host address of subnet {net}")
    if pool is not None and not pool.subnet_of(net):
        raise NetworkError(f"{where}: ip_range {pool} is not inside subnet {net}")
    return net, gw, pool


def check_no_overlap(
    network_name: str,
    subnet: IPv4Network,
    networks: dict[str, IPv4Network],
    host_prefixes: Iterable[IPv4Network],
) -> None:
    """A user subnet must not overlap another network of ours or a prefix of the host."""
    for other, other_subnet in sorted(networks.items()):
        if other != network_name and subnet.overlaps(other_subnet):
            raise NetworkError(
                f"network {network_name!r}: subnet {subnet} overlaps network {other!r} "
                f"({other_subnet})",
                hint="choose another subnet, or remove that network",
            )
    for prefix in host_prefixes:
        if prefix.prefixlen > 0 and subnet.overlaps(prefix):
            raise NetworkError(
                f"network {network_name!r}: subnet {subnet} overlaps {prefix}, "
                "which is routed or assigned on the host",
                hint="choose a subnet the host does not use",
            )


def check_static_address(
    network_name: str, address: str, subnet: IPv4Network, gateway: IPv4Address
) -> IPv4Address:
    """An `ipv4_address` must be a host address of the subnet other than the gateway.

    As in Docker it may lie outside `ip_range` (that is how one keeps it from dynamic use).
    """
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError as exc:
        raise NetworkError(f"invalid IPv4 address {address!r}") from exc
    if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address):
        raise NetworkError(
            f"address {ip} is not a host address of network {network_name!r} ({subnet})"
        )
    if ip == gateway:
        raise NetworkError(f"address {ip} is the gateway of network {network_name!r}")
    return ip


DEFAULT_POOL = "10.89.0.0/16"
DEFAULT_PREFIX = 24


def parse_pool_setting(setting: str | None) -> tuple[str, int]:
    """`CIDR[:PREFIX]` (e.g. "10.89.0.0/16:24") → (pool, prefix); None gives the defaults."""
    if not setting:
        return DEFAULT_POOL, DEFAULT_PREFIX
    pool, _, prefix = setting.strip().partition(":")
    if prefix and not prefix.lstrip("/").isdigit():
        raise NetworkError(
            f"invalid subnet pool {setting!r}", hint="write CIDR[:PREFIX], e.g. 10.89.0.0/16:24"
        )
    size = int(prefix.lstrip("/")) if prefix else DEFAULT_PREFIX
    parse_pool(pool, size)
    return pool, size
