"""Per-network endpoint settings: gw_priority, interface_name, mac_address (pure).

Validated with the position of the offending key; passed on to the network layer in
attach order, a service-level mac_address landing on the first network.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.desired import Wiring, service_networks
from composer.support import unsupported_settings
from network import Endpoint, InvalidNameError
from network.names import validate_interface, validate_mac
from tests.unit.test_netrules import error, load

NETS = "networks:\n  a: {}\n  b: {}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "services:\n  s: {image: x, networks: {a: {mac_address: '01:00:5e:00:00:01'}}}\n" + NETS,
            'stack.yaml:2:45: services.s.networks.a.mac_address: MAC address "01:00:5e:00:00:01" is not a '
            "unicast address (the first byte must be even)",
        ),
        (
            "services:\n  s: {image: x, mac_address: '02:42:ac:11:00'}\n",
            'stack.yaml:2:30: services.s.mac_address: invalid MAC address "02:42:ac:11:00" '
            "(use six hex bytes such as 02:42:ac:11:00:02)",
        ),
        (
            "services:\n  s: {image: x, networks: {a: {interface_name: 'a-name-longer-than-15'}}}\n" + NETS,
            'stack.yaml:2:48: services.s.networks.a.interface_name: invalid interface name '
            "\"a-name-longer-than-15\" (use 1-15 bytes without '/', ':' or spaces)",
        ),
        (
            "services:\n  s: {image: x, networks: {a: {interface_name: 'x/y'}}}\n" + NETS,
            'stack.yaml:2:48: services.s.networks.a.interface_name: invalid interface name "x/y" '
            "(use 1-15 bytes without '/', ':' or spaces)",
        ),
        (
            "services:\n  s: {image: x, networks: {a: {interface_name: lan}, b: {interface_name: lan}}}\n" + NETS,
            'stack.yaml:2:74: services.s.networks.b.interface_name: interface name "lan" is also the '
            'interface of network "a"',
        ),
        (   # a gets eth0 (attached first), so b may not name itself eth0
            "services:\n  s: {image: x, networks: {a: {}, b: {interface_name: eth0}}}\n" + NETS,
            'stack.yaml:2:55: services.s.networks.b.interface_name: interface name "eth0" is also the '
            'interface of network "a"',
        ),
        (
            "services:\n  s: {image: x, mac_address: '02:00:00:00:00:01', networks: {b: {}, a: {mac_address: "
            "'02:00:00:00:00:02'}}}\n" + NETS,
            "stack.yaml:2:86: services.s.networks.a.mac_address: mac_address is set both on the service "
            "and on its first network (keep one of them: the service's applies to that network)",
        ),
        (
            "services:\n  s: {image: x, network_mode: host, mac_address: '02:00:00:00:00:01'}\n",
            "stack.yaml:2:50: services.s.mac_address: conflicting options: mac_address and the network "
            "mode (a container with network_mode host has no interface of its own)",
        ),
    ],
)
def test_bad_endpoint_settings_are_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text) == message


def test_endpoints_follow_the_attach_order_and_the_service_mac_goes_first(tmp_path: Path) -> None:
    project = load(tmp_path, """
services:
  s:
    image: x
    mac_address: 02-42-AC-11-00-02
    networks:
      a: {gw_priority: 5, interface_name: lan}
      b: {priority: 10}
      c: {mac_address: "02:00:00:00:00:0C"}
networks: {a: {}, b: {}, c: {}}
""")
    assert service_networks(project, "s") == [
        Wiring("demo_b", None, Endpoint(None, "02:42:ac:11:00:02", 0)),
        Wiring("demo_a", None, Endpoint("lan", None, 5)),
        Wiring("demo_c", None, Endpoint(None, "02:00:00:00:00:0c", 0)),
    ]
    assert unsupported_settings(project) == []  # none of them is warned as ignored any more


def test_a_plain_network_gets_the_defaults(tmp_path: Path) -> None:
    project = load(tmp_path, "services:\n  s: {image: x}\n")
    assert service_networks(project, "s") == [Wiring("demo_default", None, Endpoint())]


def test_the_network_layer_checks_names_and_macs_itself() -> None:
    assert validate_interface("lan0") == "lan0"
    assert validate_mac("02-AA-bb-00-00-01") == "02:aa:bb:00:00:01"
    for bad in ("", "x" * 16, "a b", "a:b", ".."):
        with pytest.raises(InvalidNameError):
            validate_interface(bad)
    for bad in ("03:00:00:00:00:01", "00:00:00:00:00:00", "02:00:00:00:00", "zz:00:00:00:00:01"):
        with pytest.raises(InvalidNameError):
            validate_mac(bad)
