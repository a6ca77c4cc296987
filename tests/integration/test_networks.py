"""Networks end to end through the CLI: several networks, isolation, internal networks, IPAM,
static addresses, MTU, external networks, network_mode, and a changed network recreated.

Traffic goes only to addresses inside the containers these tests create (and loopback);
the `stack` fixture (conftest.py) proves `down` leaves no link, mount, process, cgroup
or netns file behind, and each test here also checks the nftables tables and routes.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from network import NetworkManager
from network.isolation import table_name
from tests.integration import test_stack
from tests.integration.stackkit import Stack, host_links

SLEEPER = test_stack.SLEEPER

REPO = Path(__file__).resolve().parents[2]
CMD = json.dumps(SLEEPER)
# Other checkouts run these tests on the same host at the same time, and subnets are
# host-wide: each run takes its own four /24s, 10.214.B.0/24 to 10.214.B+3.0/24.
B = 4 * (4 + uuid.uuid4().int % 56)
INNER, SHARED, POOL, CONCURRENT_POOL = (f"10.214.{B + i}" for i in range(4))


def address(stack: Stack, service: str, interface: str = "eth0") -> str:
    out = stack.exec(service, "ip", "-4", "-o", "addr", "show", interface).stdout
    return out.split()[3].split("/")[0]


def interfaces(stack: Stack, service: str) -> list[str]:
    out = stack.exec(service, "ip", "-o", "link").stdout
    return [line.split(": ")[1].split("@")[0] for line in out.splitlines()]


def ping(stack: Stack, service: str, target: str) -> bool:
    return stack.exec(service, "ping", "-c1", "-W1", target, check=False).returncode == 0


def nft_tables() -> set[str]:
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines()}


def our_traces(stack: Stack) -> dict[str, set[str]]:
    """The bridges, veths, routes and filter tables these roots' networks have on the host."""
    mgr = NetworkManager(stack.roots.data, stack.roots.run)
    bridges = {n.bridge for n in mgr.list_networks()}
    veths = {a.host_interface for s in mgr.list_sandboxes() for a in s.attachments}
    routes = subprocess.run(["ip", "route"], capture_output=True, text=True, check=True).stdout
    return {
        "links": (bridges | veths) & host_links(),
        "routes": {line for line in routes.splitlines() if any(f"dev {b} " in line for b in bridges)},
        "tables": {table_name(b) for b in bridges} & nft_tables(),
    }


def test_containers_reach_each_other_only_over_shared_networks(stack: Stack) -> None:
    stack.write(f"""
    services:
      a: {{image: busybox, command: {CMD}, networks: [front]}}
      b:
        image: busybox
        command: {CMD}
        networks:
          front: {{}}
          back: {{priority: 5}}
      c: {{image: busybox, command: {CMD}, networks: [back]}}
    networks:
      front: {{}}
      back: {{}}
    """)
    stack.run("up", "-d")
    traces = our_traces(stack)
    assert len(traces["links"]) == 2 + 4 and len(traces["routes"]) == 2 and len(traces["tables"]) == 2
    # b: eth0 on back (priority 5), eth1 on front; its default route is back's gateway.
    assert interfaces(stack, "b") == ["lo", "eth0", "eth1"]
    mgr = NetworkManager(stack.roots.data, stack.roots.run)
    back = mgr.get_network(f"{stack.project}_back")
    front = mgr.get_network(f"{stack.project}_front")
    assert back is not None and front is not None
    assert f"default via {back.gateway} dev eth0" in stack.exec("b", "ip", "route").stdout
    b_back, b_front = address(stack, "b", "eth0"), address(stack, "b", "eth1")
    assert ipaddress.ip_address(b_back) in ipaddress.ip_network(back.subnet)
    assert ipaddress.ip_address(b_front) in ipaddress.ip_network(front.subnet)
    a, c = address(stack, "a"), address(stack, "c")
    assert ping(stack, "a", b_front) and ping(stack, "c", b_back) and ping(stack, "b", a)
    # a and c share no network: the host routes between the bridges, the filter drops it.
    assert not ping(stack, "a", c) and not ping(stack, "c", a)
    assert not ping(stack, "a", b_back)

    stack.run("down", "-t", "1")
    assert our_traces(stack) == {"links": set(), "routes": set(), "tables": set()}


def test_internal_network_custom_ipam_static_address_and_mtu(stack: Stack) -> None:
    stack.write(f"""
    services:
      a:
        image: busybox
        command: {CMD}
        networks:
          inner: {{ipv4_address: {INNER}.16}}
      b: {{image: busybox, command: {CMD}, networks: [inner]}}
      c: {{image: busybox, command: {CMD}}}
    networks:
      inner:
        internal: true
        labels: {{team: core}}
        driver_opts: {{com.docker.network.driver.mtu: "1280"}}
        ipam:
          config:
            - {{subnet: {INNER}.0/24, gateway: {INNER}.254, ip_range: {INNER}.16/28}}
    """)
    stack.run("up", "-d")
    inner = NetworkManager(stack.roots.data, stack.roots.run).get_network(f"{stack.project}_inner")
    assert inner is not None
    assert (inner.subnet, inner.gateway, inner.ip_range, inner.internal, inner.mtu) == (
        f"{INNER}.0/24", f"{INNER}.254", f"{INNER}.16/28", True, 1280
    )
    assert inner.labels["team"] == "core"
    # a's address is the first of ip_range: b, created at the same time, never takes it.
    assert (address(stack, "a"), address(stack, "b")) == (f"{INNER}.16", f"{INNER}.17")
    for service in ("a", "b"):
        assert "default" not in stack.exec(service, "ip", "route").stdout
        assert stack.exec(service, "cat", "/sys/class/net/eth0/mtu").stdout.strip() == "1280"
    assert ping(stack, "b", f"{INNER}.16") and ping(stack, "a", f"{INNER}.17")
    assert not ping(stack, "a", address(stack, "c"))  # no route out of an internal network
    # The default MTU is that of the host's default-route interface (as netavark).
    route = subprocess.run(["ip", "route", "show", "default"], capture_output=True, text=True).stdout.split()
    host_mtu = Path(f"/sys/class/net/{route[route.index('dev') + 1]}/mtu").read_text().strip() if route else "1500"
    assert stack.exec("c", "cat", "/sys/class/net/eth0/mtu").stdout.strip() == host_mtu

    stack.run("down", "-t", "1")
    assert our_traces(stack) == {"links": set(), "routes": set(), "tables": set()}


def test_external_network_static_address_conflicts_and_overlaps_are_clear(stack: Stack) -> None:
    other = Stack(stack.roots, stack.directory / "other", f"{stack.project}o")
    other.directory.mkdir()
    other.write(f"""
    services:
      a:
        image: busybox
        command: {CMD}
        networks: {{net: {{ipv4_address: {SHARED}.10}}}}
    networks:
      net: {{ipam: {{config: [{{subnet: {SHARED}.0/24}}]}}}}
    """)
    try:
        missing = stack.write(f"""
        services:
          b: {{image: busybox, command: {CMD}, networks: [shared]}}
        networks:
          shared: {{external: true, name: {other.project}_net}}
        """)
        result = stack.run("up", "-d", check=False)
        assert result.returncode == 1 and stack.ps() == []
        assert result.stderr.strip().splitlines()[-1].startswith(
            f"error: network {other.project}_net declared as external, but could not be found")
        other.run("up", "-d")
        stack.run("up", "-d")  # joined across projects
        assert ipaddress.ip_address(address(stack, "b")) in ipaddress.ip_network(f"{SHARED}.0/24")
        assert ping(stack, "b", f"{SHARED}.10")
        # Its owner cannot recreate it while another project's container is on it.
        other_file = other.directory / "stack.yaml"
        other_file.write_text(other_file.read_text().replace("net: {ipam", "net: {labels: {v: '2'}, ipam"))
        result = other.run("up", "-d", check=False)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f'error: network "{other.project}_net" has changed and must be recreated, but it is still in use '
            f"by {stack.project}-b-1 (remove those containers first)")
        stack.run("down", "-t", "1")
        other.run("up", "-d")
        assert other.exec("a", "true").returncode == 0  # recreated, once nothing else is on it

        missing.write_text(missing.read_text().replace("networks: [shared]", f"networks: {{shared: {{ipv4_address: {SHARED}.10}}}}"))
        result = stack.run("up", "-d", check=False)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f'error: service "b": ipv4_address {SHARED}.10 on network "{other.project}_net" is already in use '
            f"by container {other.project}-a-1 (choose another address)")
        assert stack.ps() == [] and len(list((stack.roots.run / "netns").glob("*"))) == 1  # other's a

        stack.write(f"""
        services:
          b: {{image: busybox, command: {CMD}, networks: [mine]}}
        networks:
          mine: {{ipam: {{config: [{{subnet: {SHARED}.128/25}}]}}}}
        """)
        result = stack.run("up", "-d", check=False)
        assert result.returncode == 1 and stack.ps() == []
        assert result.stderr.strip().splitlines()[-1] == (
            f"error: network '{stack.project}_mine': subnet {SHARED}.128/25 overlaps network "
            f"'{other.project}_net' ({SHARED}.0/24) (choose another subnet, or remove that network)")
        assert NetworkManager(stack.roots.data, stack.roots.run).get_network(f"{stack.project}_mine") is None
    finally:
        other.run("down", "-t", "1", check=False)


def test_network_mode_none_host_and_service(stack: Stack) -> None:
    stack.write(f"""
    services:
      owner:
        image: busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:8080 -h /etc & wait"]
        environment: {{V: "1"}}
      joined:
        image: busybox
        command: {CMD}
        network_mode: "service:owner"
      lone: {{image: busybox, command: {CMD}, network_mode: none}}
      hosted: {{image: busybox, command: {CMD}, network_mode: host}}
    """)
    stack.run("up", "-d")
    assert interfaces(stack, "lone") == ["lo"]
    assert stack.exec("lone", "ip", "route").stdout.strip() == ""
    # host: the host's interfaces and hostname (looked at only: no traffic is sent).
    seen = set(interfaces(stack, "hosted"))
    assert {"lo", "eth0"} <= seen and len(seen & host_links()) >= len(seen) - 5
    assert stack.exec("hosted", "hostname").stdout.strip() == socket.gethostname()
    # service:owner: the owner's interfaces, address, loopback and hostname.
    assert interfaces(stack, "joined") == interfaces(stack, "owner") == ["lo", "eth0"]
    assert address(stack, "joined") == address(stack, "owner")
    assert stack.exec("joined", "hostname").stdout == stack.exec("owner", "hostname").stdout
    page = stack.exec("joined", "sh", "-c", "timeout 5 wget -qO- http://127.0.0.1:8080/hostname").stdout
    assert page == stack.exec("owner", "hostname").stdout

    before = {name: row["ID"] for name, row in stack.by_service().items()}
    stack.write((stack.directory / "stack.yaml").read_text().replace('V: "1"', 'V: "2"'))
    result = stack.run("up", "-d")
    after = {name: row["ID"] for name, row in stack.by_service().items()}
    assert after["owner"] != before["owner"] and after["joined"] != before["joined"]
    assert after["lone"] == before["lone"] and after["hosted"] == before["hosted"]
    assert address(stack, "joined") == address(stack, "owner"), result.stderr
    assert {row["State"] for row in stack.ps()} == {"running"}


def test_a_changed_network_is_recreated_with_its_containers(stack: Stack) -> None:
    stack.write(f"""
    services:
      a: {{image: busybox, command: {CMD}, networks: [n]}}
      b: {{image: busybox, command: {CMD}, networks: [m]}}
    networks:
      n: {{labels: {{v: "1"}}}}
      m: {{}}
    """)
    stack.run("up", "-d")
    before = {name: row["ID"] for name, row in stack.by_service().items()}
    text = (stack.directory / "stack.yaml").read_text()
    stack.write(text.replace('labels: {v: "1"}', 'labels: {v: "2"}, driver_opts: {com.docker.network.driver.mtu: "1300"}'))
    result = stack.run("up", "-d")
    assert f" Network {stack.project}_n  Recreated" in result.stderr.splitlines()
    after = {name: row["ID"] for name, row in stack.by_service().items()}
    assert after["a"] != before["a"] and after["b"] == before["b"]
    n = NetworkManager(stack.roots.data, stack.roots.run).get_network(f"{stack.project}_n")
    assert n is not None and n.labels["v"] == "2" and n.mtu == 1300
    assert stack.exec("a", "cat", "/sys/class/net/eth0/mtu").stdout.strip() == "1300"
    assert not stack.run("up", "-d").stderr.count("Recreate")  # and then it is stable


def test_subnet_pool_setting_and_its_exhaustion(stack: Stack) -> None:
    env = {"PYCOMPOSE_SUBNET_POOL": f"{POOL}.0/25:26"}  # two /26s
    stack.write(f"""
    services:
      a: {{image: busybox, command: {CMD}, networks: [x, y]}}
    networks: {{x: {{}}, y: {{}}}}
    """)
    stack.run("up", "-d", env=env)
    subnets = sorted(n.subnet for n in NetworkManager(stack.roots.data, stack.roots.run).list_networks())
    assert subnets == [f"{POOL}.0/26", f"{POOL}.64/26"]
    stack.write(f"""
    services:
      a: {{image: busybox, command: {CMD}, networks: [x, y, z]}}
    networks: {{x: {{}}, y: {{}}, z: {{}}}}
    """)
    result = stack.run("up", "-d", env=env, check=False)
    assert result.returncode == 1
    assert f"no free /26 subnet left in pool {POOL}.0/25" in result.stderr.strip().splitlines()[-1]


CONCURRENT = textwrap.dedent("""
    import sys
    from network import NetworkManager, NetworkSpec
    mgr = NetworkManager(sys.argv[1], sys.argv[2], subnet_pool=sys.argv[4], subnet_prefix=27)
    sys.stdin.readline()  # start together
    for i in range(3):
        print(mgr.ensure_network(NetworkSpec(f"c{sys.argv[3]}_{i}")).subnet, flush=True)
""")


@pytest.mark.parametrize("shared_root", [True, False], ids=["one data root", "two data roots"])
def test_concurrent_allocations_never_share_a_subnet(tmp_path: Path, shared_root: bool) -> None:
    roots = [(tmp_path / ("d" if shared_root else f"d{i}"), tmp_path / f"r{i}") for i in range(2)]
    procs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT, str(data), str(run), str(i), f"{CONCURRENT_POOL}.0/24"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(REPO)})
        for i, (data, run) in enumerate(roots)
    ]
    try:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=60)[0].split() for proc in procs]
        assert all(proc.returncode == 0 for proc in procs)
        subnets = [ipaddress.ip_network(s) for out in outputs for s in out]
        assert len(subnets) == 6
        assert not any(x.overlaps(y) for i, x in enumerate(subnets) for y in subnets[i + 1:])
    finally:
        for data, run in roots:
            mgr = NetworkManager(data, run)
            for net in mgr.list_networks():
                mgr.remove_network(net.name)
