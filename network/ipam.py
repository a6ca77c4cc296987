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
    subnet: IPv4Network, in_use: Iterable[IPv4Address], network_name: str = ""
) -> IPv4Address:
    """The lowest host address that is not the gateway and not in use.

    `hosts()` already excludes the network and broadcast addresses.
    """
    used = set(in_use)
    used.add(gateway_of(subnet))
    for address in subnet.hosts():
        if address not in used:
            return address
    label = f"network {network_name!r} ({subnet})" if network_name else f"subnet {subnet}"
    raise PoolExhaustedError(
        f"no free address left in {label}",
        hint="detach unused containers, or use a larger subnet prefix",
    )
