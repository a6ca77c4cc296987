"""Per-network endpoint settings on real containers: interface_name, mac_address (service
level and per network) and gw_priority choosing the network of the default route.

Nothing is sent anywhere: the tests only look at the containers' links and routes.
"""

from __future__ import annotations

import json
import re

from tests.integration.stackkit import Stack
from tests.integration.test_networks import interfaces

SLEEPER = json.dumps(["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"])


def macs(stack: Stack, service: str) -> dict[str, str]:
    """interface -> MAC inside the service's container."""
    out = stack.exec(service, "ip", "-o", "link").stdout
    found = {}
    for line in out.splitlines():
        name = line.split(": ")[1].split("@")[0]
        words = line.split()
        found[name] = words[words.index("link/ether") + 1] if "link/ether" in words else ""
    return found


def default_route(stack: Stack, service: str) -> tuple[str, str]:
    """(gateway, interface) of the container's default route."""
    line = next(r for r in stack.exec(service, "ip", "route").stdout.splitlines() if r.startswith("default"))
    words = line.split()
    return words[words.index("via") + 1], words[words.index("dev") + 1]


def gateway_of(stack: Stack, service: str, interface: str) -> str:
    out = stack.exec(service, "ip", "-4", "-o", "addr", "show", interface).stdout
    address = out.split()[3].split("/")[0]
    return address.rsplit(".", 1)[0] + ".1"  # pool subnets are /24s with the gateway at .1


def test_interface_names_macs_and_the_gateway_network(stack: Stack) -> None:
    stack.write(f"""
    services:
      s:
        image: busybox
        command: {SLEEPER}
        mac_address: 02:42:AC:11:00:99
        networks:
          a: {{gw_priority: 5, interface_name: lan}}
          b: {{priority: 10}}
          c: {{mac_address: "02:00:00:00:00:0c"}}
      plain:
        image: busybox
        command: {SLEEPER}
        networks: [a, b]
    networks: {{a: {{}}, b: {{}}, c: {{}}}}
    """)
    stack.run("up", "-d")
    assert interfaces(stack, "s") == ["lo", "eth0", "lan", "eth1"]  # b (priority 10), a, c
    found = macs(stack, "s")
    assert found["eth0"] == "02:42:ac:11:00:99"  # the service's MAC: its first network
    assert found["eth1"] == "02:00:00:00:00:0c"
    assert found["lan"] not in ("02:42:ac:11:00:99", "02:00:00:00:00:0c") and found["lan"].startswith("02:")
    # gw_priority 5 beats the first network: the default route goes out on `lan` (network a)
    assert default_route(stack, "s") == (gateway_of(stack, "s", "lan"), "lan")
    # without gw_priority, the first network attached (a: keys in order) has it
    assert default_route(stack, "plain") == (gateway_of(stack, "plain", "eth0"), "eth0")

    # A changed gw_priority recreates the container, with the route on the other network.
    before = stack.by_service()["s"]["ID"]
    text = (stack.directory / "stack.yaml").read_text().replace("gw_priority: 5, ", "")
    stack.write(text.replace("b: {priority: 10}", "b: {priority: 10, gw_priority: 1}"))
    stack.run("up", "-d")
    assert stack.by_service()["s"]["ID"] != before
    assert default_route(stack, "s") == (gateway_of(stack, "s", "eth0"), "eth0")
    assert interfaces(stack, "s") == ["lo", "eth0", "lan", "eth1"]


def test_a_mac_taken_on_the_network_is_a_clear_error(stack: Stack) -> None:
    stack.write(f"""
    services:
      one: {{image: busybox, command: {SLEEPER}, mac_address: "02:00:00:00:00:01"}}
      two: {{image: busybox, command: {SLEEPER}, mac_address: "02:00:00:00:00:01", depends_on: [one]}}
    """)
    result = stack.run("up", "-d", check=False)
    assert result.returncode != 0
    # Containers are created in parallel: either one may find the other's MAC taken.
    pattern = (rf'service "(one|two)": mac_address 02:00:00:00:00:01 on network "{stack.project}_default" is '
               r"already in use by container \S+ \(choose another MAC\)")
    assert re.search(pattern, result.stderr), result.stderr
    assert len(stack.by_service()) == 1
