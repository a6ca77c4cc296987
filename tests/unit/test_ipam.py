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


def test_user_subnet_with_gateway_and_range() -> None:
    from network.ipam import user_subnet

    assert user_subnet("n", "10.7.0.0/24") == (
        IPv4Network("10.7.0.0/24"), IPv4Address("10.7.0.1"), None
    )
    assert user_subnet("n", "10.7.0.0/24", "10.7.0.254", "10.7.0.128/25") == (
        IPv4Network("10.7.0.0/24"), IPv4Address("10.7.0.254"), IPv4Network("10.7.0.128/25")
    )
    with pytest.raises(NetworkError, match="network 'n': gateway 10.7.0.255 is not a host address"):
        user_subnet("n", "10.7.0.0/24", "10.7.0.255")
    with pytest.raises(NetworkError, match="ip_range 10.8.0.0/25 is not inside subnet 10.7.0.0/24"):
        user_subnet("n", "10.7.0.0/24", None, "10.8.0.0/25")


def test_user_subnet_overlapping_ours_or_the_hosts_names_the_culprit() -> None:
    from network.ipam import check_no_overlap

    subnet = IPv4Network("10.7.0.0/24")
    ours = {"n": subnet, "p_other": IPv4Network("10.7.0.0/16")}
    with pytest.raises(NetworkError, match="overlaps network 'p_other' \\(10.7.0.0/16\\)"):
        check_no_overlap("n", subnet, ours, [])
    with pytest.raises(NetworkError, match="overlaps 10.7.0.128/25, which is routed or assigned"):
        check_no_overlap("n", subnet, {"n": subnet}, [IPv4Network("10.7.0.128/25")])
    check_no_overlap("n", subnet, {"n": subnet}, [IPv4Network("0.0.0.0/0"), IPv4Network("10.8.0.0/24")])


def test_dynamic_addresses_stay_in_ip_range_and_skip_a_custom_gateway() -> None:
    subnet = IPv4Network("10.7.0.0/24")
    rng = IPv4Network("10.7.0.252/30")
    gw = IPv4Address("10.7.0.254")
    got: list[IPv4Address] = []
    for _ in range(2):
        got.append(allocate_address(subnet, got, "n", gw, rng))
    # .252 and .253; .254 is the gateway, .255 the broadcast address: then it is full
    assert got == [IPv4Address("10.7.0.252"), IPv4Address("10.7.0.253")]
    with pytest.raises(PoolExhaustedError, match="ip_range 10.7.0.252/30 of network 'n'"):
        allocate_address(subnet, got, "n", gw, rng)


def test_ip_range_exhaustion_is_clear() -> None:
    subnet = IPv4Network("10.7.0.0/24")
    rng = IPv4Network("10.7.0.0/30")  # .0 network, .1 gateway, .2, .3
    used = [IPv4Address("10.7.0.2"), IPv4Address("10.7.0.3")]
    with pytest.raises(PoolExhaustedError, match="no free address left in ip_range 10.7.0.0/30"):
        allocate_address(subnet, used, "n", IPv4Address("10.7.0.1"), rng)


def test_static_addresses_must_be_hosts_of_the_subnet_and_not_the_gateway() -> None:
    from network.ipam import check_static_address

    subnet, gw = IPv4Network("10.7.0.0/24"), IPv4Address("10.7.0.1")
    assert check_static_address("n", "10.7.0.200", subnet, gw) == IPv4Address("10.7.0.200")
    for bad, why in (("10.7.1.2", "not a host address"), ("10.7.0.255", "not a host address"),
                     ("10.7.0.1", "is the gateway"), ("x", "invalid IPv4")):
        with pytest.raises(NetworkError, match=why):
            check_static_address("n", bad, subnet, gw)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(None, ("10.89.0.0/16", 24)), ("10.50.0.0/16", ("10.50.0.0/16", 24)),
     ("10.50.0.0/16:26", ("10.50.0.0/16", 26)), ("172.30.0.0/15:/20", ("172.30.0.0/15", 20))],
)
def test_pool_setting(setting: str | None, expected: tuple[str, int]) -> None:
    from network.ipam import parse_pool_setting

    assert parse_pool_setting(setting) == expected


@pytest.mark.parametrize("setting", ["10.50.0.0/16:x", "10.50.0.1/16", "10.50.0.0/24:16", "nope"])
def test_bad_pool_settings_are_refused(setting: str) -> None:
    from network.ipam import parse_pool_setting

    with pytest.raises(NetworkError):
        parse_pool_setting(setting)
