"""Network settings of a stack file: validation with positions, attach order, hashes (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.desired import (
    network_hash,
    network_keys,
    network_spec,
    service_networks,
    static_addresses,
)
from composer.errors import PycomposeError
from composer.graph import start_order
from composer.spec import load_project


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    return load_project([path], env={}, project_name="demo")


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(PycomposeError) as info:
        load(tmp_path, text)
    return str(info.value).replace(str(tmp_path) + "/", "")


SUBNET = "networks:\n  back:\n    ipam: {config: [{subnet: 10.7.0.0/24, ip_range: 10.7.0.128/25}]}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "services:\n  a: {image: x, network_mode: host, networks: [back]}\n" + SUBNET,
            "stack.yaml:2:3: services.a: service a declares mutually exclusive `network_mode` and "
            "`networks` (keep one of them)",
        ),
        (
            "services:\n  a: {image: x, network_mode: bridge}\n",
            'stack.yaml:2:31: services.a.network_mode: unsupported network_mode "bridge" '
            "(use none, host, service:NAME or container:NAME (or `networks:`))",
        ),
        (
            "services:\n  a: {image: x, network_mode: 'service:nope'}\n",
            'stack.yaml:2:31: services.a.network_mode: undefined service "nope"',
        ),
        (
            "services:\n  a: {image: x, network_mode: 'container:'}\n",
            'stack.yaml:2:31: services.a.network_mode: network_mode "container:" names no container',
        ),
        (
            "services:\n  a: {image: x}\n  b: {image: x, network_mode: 'service:a', hostname: h}\n",
            "stack.yaml:3:54: services.b.hostname: conflicting options: hostname and the network mode "
            "(a container with network_mode service:a has that container's hostname)",
        ),
        (
            "services:\n  a: {image: x, network_mode: 'service:b'}\n  b: {image: x, depends_on: [a]}\n",
            "stack.yaml:2:17: dependency cycle: a -> b -> a",
        ),
        (
            "services:\n  a: {image: x, networks: {back: {ipv4_address: 10.7.1.5}}}\n" + SUBNET,
            "stack.yaml:2:49: services.a.networks.back.ipv4_address: address 10.7.1.5 is not a host "
            "address of subnet 10.7.0.0/24",
        ),
        (
            "services:\n  a: {image: x, networks: {back: {ipv4_address: 10.7.0.1}}}\n" + SUBNET,
            "stack.yaml:2:49: services.a.networks.back.ipv4_address: address 10.7.0.1 is the gateway "
            "of the network",
        ),
        (
            "services:\n  a: {image: x, networks: {back: {ipv4_address: 10.7.0.5}}}\n"
            "  b: {image: x, networks: {back: {ipv4_address: 10.7.0.5}}}\n" + SUBNET,
            'stack.yaml:3:49: services.b.networks.back.ipv4_address: address 10.7.0.5 is also the '
            'ipv4_address of service "a"',
        ),
        (
            "services:\n  a: {image: x, networks: {back: {ipv4_address: 10.7.0.5}}}\nnetworks:\n  back:\n",
            "stack.yaml:2:49: services.a.networks.back.ipv4_address: user specified IP address is "
            "supported only when connecting to networks with user configured subnets "
            "(set ipam.config.subnet on the network)",
        ),
        (
            "services:\n  a: {image: x, networks: [n]}\nnetworks:\n  n: {driver: macvlan}\n",
            'stack.yaml:4:15: networks.n.driver: network driver "macvlan" is not supported '
            "(pycompose makes bridge networks only: remove `driver` or set it to bridge)",
        ),
        (
            "services:\n  a: {image: x, networks: [n]}\nnetworks:\n  n:\n    ipam:\n      config:\n"
            "        - {subnet: 10.7.0.0/24, gateway: 10.8.0.1}\n",
            "stack.yaml:7:42: networks.n.ipam.config[0].gateway: gateway 10.8.0.1 is not a host "
            "address of subnet 10.7.0.0/24",
        ),
        (
            "services:\n  a: {image: x, networks: [n]}\nnetworks:\n  n:\n    ipam:\n      config:\n"
            "        - {subnet: 10.7.0.0/24, ip_range: 10.7.0.0/16}\n",
            "stack.yaml:7:43: networks.n.ipam.config[0].ip_range: ip_range 10.7.0.0/16 is not inside "
            "subnet 10.7.0.0/24",
        ),
        (
            "services:\n  a: {image: x, networks: [n]}\nnetworks:\n  n:\n    ipam:\n      config:\n"
            "        - {subnet: 10.7.0.0/24}\n        - {subnet: 10.9.0.0/24}\n",
            "stack.yaml:8:11: networks.n.ipam.config[1]: only one IPv4 ipam config per network is supported",
        ),
        (
            "services:\n  a: {image: x, networks: [n]}\nnetworks:\n  n:\n    ipam:\n      config:\n"
            "        - {subnet: 'fd00::/64'}\n",
            "stack.yaml:7:9: networks.n.ipam.config: IPv6 subnets are not supported yet",
        ),
        (
            "services:\n  a: {image: x, networks: [n]}\nnetworks:\n  n:\n"
            "    driver_opts: {com.docker.network.driver.mtu: big}\n",
            'stack.yaml:5:50: networks.n.driver_opts.com.docker.network.driver.mtu: invalid MTU "big" '
            "(give a number of bytes between 68 and 65535)",
        ),
    ],
)
def test_bad_network_settings_are_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text) == message


def test_network_mode_joins_no_network_and_depends_on_its_owner(tmp_path: Path) -> None:
    project = load(tmp_path, """
services:
  app: {image: x, network_mode: "service:db"}
  db: {image: x}
  lone: {image: x, network_mode: none}
  hosted: {image: x, network_mode: host}
""")
    assert project.services["app"].networks == {} and project.services["lone"].networks == {}
    assert start_order(project).index("db") < start_order(project).index("app")
    assert "default" not in project.networks or project.services["db"].networks


def test_networks_attach_by_priority_then_key(tmp_path: Path) -> None:
    project = load(tmp_path, """
services:
  a:
    image: x
    networks:
      zeta: {priority: 10}
      alpha: {}
      beta: {ipv4_address: 10.7.0.9}
networks:
  alpha: {}
  beta: {ipam: {config: [{subnet: 10.7.0.0/24}]}}
  zeta: {}
""")
    assert network_keys(project, "a") == ["zeta", "alpha", "beta"]
    assert static_addresses(project) == {"demo_beta": ("10.7.0.9",)}
    assert [(w.network, w.address) for w in service_networks(project, "a")] == [
        ("demo_zeta", None), ("demo_alpha", None), ("demo_beta", "10.7.0.9")
    ]


def test_network_spec_and_hash_follow_the_file(tmp_path: Path) -> None:
    text = """
services:
  a: {image: x, networks: [n]}
networks:
  n:
    internal: true
    labels: {team: core}
    driver_opts: {com.docker.network.driver.mtu: "1280"}
    ipam: {config: [{subnet: 10.7.0.0/24, gateway: 10.7.0.254, ip_range: 10.7.0.64/26}]}
"""
    project = load(tmp_path, text)
    spec = network_spec(project, "n")
    assert (spec.name, spec.internal, spec.subnet, spec.gateway, spec.ip_range, spec.mtu) == (
        "demo_n", True, "10.7.0.0/24", "10.7.0.254", "10.7.0.64/26", 1280
    )
    assert spec.labels["team"] == "core" and spec.labels["com.docker.compose.network"] == "n"
    before = network_hash(project.networks["n"])
    assert spec.labels["com.docker.compose.config-hash"] == before
    assert network_hash(load(tmp_path, text).networks["n"]) == before  # stable
    changed = load(tmp_path, text.replace('"1280"', '"1400"'))
    assert network_hash(changed.networks["n"]) != before
    default = load(tmp_path, "services:\n  a: {image: x}\n")
    assert network_spec(default, "default").mtu is None and network_spec(default, "default").subnet is None


def test_config_output_keeps_the_network_settings(tmp_path: Path) -> None:
    import yaml

    from composer.spec.output import project_to_dict

    project = load(tmp_path, """
services:
  a: {image: x, network_mode: "service:b"}
  b: {image: x, networks: {n: {priority: 3, ipv4_address: 10.9.0.5}}}
networks:
  n: {enable_ipv6: true, ipam: {config: [{subnet: 10.9.0.0/24}]}}
""")
    out = project_to_dict(project)
    assert out["services"]["a"]["network_mode"] == "service:b"
    assert out["services"]["b"]["networks"]["n"] == {"ipv4_address": "10.9.0.5", "priority": 3}
    assert out["networks"]["n"]["enable_ipv6"] is True
    again = tmp_path / "again"
    again.mkdir()
    assert load(again, yaml.safe_dump(out)).services == project.services
