"""The nftables filter of one bridge (pure text; applied in tests/integration/test_networks.py)."""

from __future__ import annotations

from network.isolation import ruleset, table_name


def test_a_bridge_drops_what_it_would_route_to_another_bridge() -> None:
    text = ruleset("pc-0123456789", internal=False)
    assert table_name("pc-0123456789") == "pycompose_0123456789"
    assert text.splitlines()[:2] == [
        "table inet pycompose_0123456789",  # made if absent, so the delete never fails
        "delete table inet pycompose_0123456789",
    ]
    assert "type filter hook forward priority filter; policy accept;" in text
    rules = [line.strip() for line in text.splitlines() if line.strip().endswith("drop")]
    assert rules == ['iifname "pc-0123456789" oifname != "pc-0123456789" oifname "pc-*" drop']


def test_an_internal_bridge_forwards_nothing_in_or_out() -> None:
    rules = [line.strip() for line in ruleset("pc-ab", internal=True).splitlines() if "drop" in line]
    assert rules[1:] == [
        'iifname "pc-ab" oifname != "pc-ab" drop',
        'oifname "pc-ab" iifname != "pc-ab" drop',
    ]
