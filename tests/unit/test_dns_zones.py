"""The embedded DNS server's records on disk."""

from __future__ import annotations

from ipaddress import IPv4Address as IP
from pathlib import Path

import pytest

from network import StateError
from network.dns.control import parse_upstream, resolv_conf_upstreams
from network.dns.zones import ZoneStore


def test_publish_withdraw_and_remove(tmp_path: Path) -> None:
    store = ZoneStore(tmp_path / "zones")
    store.add_zone("p_a", "10.89.0.1", "10.89.0.0/24")
    store.add_zone("p_b", "10.89.1.1", "10.89.1.0/24")
    store.publish("c1", "p_a", "10.89.0.2", ["p-web-1", "web"])
    store.publish("c1", "p_b", "10.89.1.2", ["p-web-1", "web"], ["192.0.2.53"])
    store.add_zone("p_a", "10.89.0.1", "10.89.0.0/24")  # idempotent: keeps the entries
    zones = {z.network: z for z in store.zones()}
    assert [(e.owner, e.address, e.names) for e in zones["p_a"].entries] == [("c1", IP("10.89.0.2"), ("p-web-1", "web"))]
    assert zones["p_b"].entries[0].upstreams == ("192.0.2.53",)
    store.withdraw("c1", "p_a")
    assert [len(z.entries) for z in store.zones()] == [0, 1]
    store.withdraw("c1")
    assert [len(z.entries) for z in store.zones()] == [0, 0]
    assert store.remove_zone("p_a") is False
    assert store.remove_zone("p_b") is True
    assert store.networks() == [] and list((tmp_path / "zones").iterdir()) == []


def test_publishing_on_a_network_without_zone_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no DNS zone"):
        ZoneStore(tmp_path / "zones").publish("c1", "p_x", "10.89.0.2", ["web"])


def test_a_malformed_zone_is_a_state_error(tmp_path: Path) -> None:
    store = ZoneStore(tmp_path / "zones")
    store.add_zone("p_a", "10.89.0.1", "10.89.0.0/24")
    store.path("p_a").write_text('{"network": "p_a", "gateway": "nope", "subnet": "10.89.0.0/24"}')
    with pytest.raises(StateError, match="malformed"):
        store.zones()


def test_upstreams() -> None:
    assert parse_upstream("10.0.0.2") == ("10.0.0.2", 53)
    assert parse_upstream("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_upstream("[fd00::1]:54") == ("fd00::1", 54)
    assert parse_upstream("fd00::1") == ("fd00::1", 53)
    text = "# x\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nsearch a\nnameserver\n"
    assert resolv_conf_upstreams(text) == [("127.0.0.53", 53), ("fe80::1", 53)]
