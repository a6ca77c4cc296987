"""Subnet and address allocation (pure)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from network import NetworkError, PoolExhaustedError
from network.ipam import allocate_address, allocate_subnet, gateway_of, parse_pool

POOL = IPv4Network("10.89.0.0/16")


def test_first_subnet_of_an_empty_pool() -> None:
    assert allocate_subnet(POOL, 24, []) == IPv4Network("10.89.0.0/24")


def test_taken_and_overlapping_prefixes_are_skipped() -> None:
    taken = [
        IPv4Network("10.89.0.0/24"),  # ours
        IPv4Network("10.89.1.128/25"),  # part of a /24 routed on the host
        IPv4Network("10.89.2.7/32"),  # a single host route
    ]
    assert allocate_subnet(POOL, 24, taken) == IPv4Network("10.89.3.0/24")


def test_a_supernet_route_blocks_everything_inside_it() -> None:
    with pytest.raises(PoolExhaustedError, match="no free /24 subnet left in pool 10.89.0.0/16"):
        allocate_subnet(POOL, 24, [IPv4Network("10.0.0.0/8")])


def test_default_route_and_unrelated_prefixes_do_not_block() -> None:
    taken = [IPv4Network("0.0.0.0/0"), IPv4Network("192.168.1.0/24"), IPv4Network("127.0.0.0/8")]
    assert allocate_subnet(POOL, 24, taken) == IPv4Network("10.89.0.0/24")


def test_small_pool_exhausts_with_a_hint() -> None:
    pool = IPv4Network("10.213.0.0/23")
    with pytest.raises(PoolExhaustedError) as info:
        allocate_subnet(pool, 24, [IPv4Network("10.213.0.0/24"), IPv4Network("10.213.1.0/24")])
    assert info.value.hint and "larger subnet pool" in info.value.hint


def test_gateway_is_first_host() -> None:
    assert gateway_of(IPv4Network("10.89.7.0/24")) == IPv4Address("10.89.7.1")


def test_addresses_skip_gateway_and_used_and_fill_holes() -> None:
    subnet = IPv4Network("10.89.7.0/24")
    assert allocate_address(subnet, []) == IPv4Address("10.89.7.2")
    used = {IPv4Address("10.89.7.2"), IPv4Address("10.89.7.4")}
    assert allocate_address(subnet, used) == IPv4Address("10.89.7.3")


def test_addresses_never_network_or_broadcast_and_exhaust() -> None:
    subnet = IPv4Network("10.89.7.0/30")  # .1 gateway, .2 the only host
    assert allocate_address(subnet, []) == IPv4Address("10.89.7.2")
    with pytest.raises(PoolExhaustedError, match="no free address left in network 'p_net'"):
        allocate_address(subnet, [IPv4Address("10.89.7.2")], "p_net")


@pytest.mark.parametrize(
    ("pool", "prefix"),
    [("10.89.0.0/16", 8), ("10.89.0.0/16", 31), ("10.89.0.1/16", 24), ("nope", 24)],
)
def test_bad_pools_are_rejected(pool: str, prefix: int) -> None:
    with pytest.raises(NetworkError):
        parse_pool(pool, prefix)
