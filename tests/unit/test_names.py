"""Interface names derived from user names: short, stable, scoped."""

from __future__ import annotations

import pytest

from network import InvalidNameError
from network.names import (
    bridge_name,
    container_interface,
    mac_address,
    validate_id,
    veth_host_name,
)


def test_bridge_names_are_short_stable_and_scoped() -> None:
    a = bridge_name("/var/lib/pycompose", "myproject_a_very_long_network_name_indeed")
    assert a == bridge_name("/var/lib/pycompose", "myproject_a_very_long_network_name_indeed")
    assert a.startswith("pc-") and len(a.encode()) <= 15
    assert a != bridge_name("/tmp/other-root", "myproject_a_very_long_network_name_indeed")
    assert a != bridge_name("/var/lib/pycompose", "myproject_other")


def test_veth_names_fill_at_most_15_bytes_and_differ_per_pair() -> None:
    names = {
        veth_host_name("/root", sandbox, network)
        for sandbox in ("web-1", "web-2", "db-1")
        for network in ("p_front", "p_back")
    }
    assert len(names) == 6
    assert all(n.startswith("vp-") and len(n.encode()) == 15 for n in names)


def test_container_interfaces_count_from_eth0() -> None:
    assert [container_interface(i) for i in range(3)] == ["eth0", "eth1", "eth2"]


def test_mac_is_stable_locally_administered_unicast() -> None:
    mac = mac_address("veth", "/root", "web-1", "p_front")
    assert mac == mac_address("veth", "/root", "web-1", "p_front")
    assert mac != mac_address("veth", "/root", "web-2", "p_front")
    first = int(mac.split(":")[0], 16)
    assert first & 0x02 and not first & 0x01
    assert len(mac.split(":")) == 6


@pytest.mark.parametrize("good", ["web", "myproj-web-1", "a_b.c", "0abc", "x" * 128])
def test_valid_ids(good: str) -> None:
    assert validate_id("sandbox id", good) == good


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "-x", "_x", "a b", "x" * 129, "é"])
def test_ids_that_would_be_unsafe_file_names_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid sandbox id"):
        validate_id("sandbox id", bad)
