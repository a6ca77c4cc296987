"""NetworkManager against the real kernel: bridges, namespaces, veths, addresses.

Every test snapshots the host's links, addresses, routes and namespace mounts before
and after (fixture `host_unchanged`) and fails if anything it created is left behind.
Traffic goes only between namespaces these tests create.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from network import (
    NetworkInUseError,
    NetworkManager,
    NetworkNotFoundError,
    NetworkSpec,
    PoolExhaustedError,
    SandboxNotFoundError,
)

REPO = Path(__file__).resolve().parents[2]
# A pool of our own, so these tests do not depend on what else uses 10.89/16.
POOL = "10.213.0.0/22"


def _ip(*args: str, netns: str | None = None) -> str:
    cmd = ["ip", *args] if netns is None else ["nsenter", f"--net={netns}", "ip", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _host_snapshot(tmp_path: Path) -> dict[str, list[str]]:
    """What tests must leave as found; fields that change on their own (carrier, link
    statistics, address lifetimes) are left out."""
    links = [line.split(":")[1].strip() for line in _ip("-o", "link", "show").splitlines()]
    addresses = [" ".join(line.split()[1:4]) for line in _ip("-o", "addr", "show").splitlines()]
    routes = [
        line.replace(" linkdown", "") for line in _ip("route", "show", "table", "all").splitlines()
    ]
    mounts = [
        line.split(" - ")[0].split(" ", 4)[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if str(tmp_path) in line or " - nsfs " in line
    ]
    netns_dir = tmp_path / "run" / "netns"
    return {
        "links": sorted(links),
        "addresses": sorted(addresses),
        "routes": sorted(routes),
        "mounts": sorted(mounts),
        "netns files": sorted(os.listdir(netns_dir)) if netns_dir.exists() else [],
    }


@pytest.fixture
def host_unchanged(tmp_path: Path) -> Iterator[None]:
    before = _host_snapshot(tmp_path)
    yield
    after = _host_snapshot(tmp_path)
    for key in before:
        assert after[key] == before[key], f"host {key} changed"


@pytest.fixture
def manager(roots, host_unchanged) -> Iterator[NetworkManager]:  # type: ignore[no-untyped-def]
    """A manager on private roots; whatever a test leaves is removed, then compared."""
    mgr = NetworkManager(roots.data, roots.run, subnet_pool=POOL)
    yield mgr
    _teardown(mgr)


def _teardown(mgr: NetworkManager) -> None:
    for sandbox in mgr.list_sandboxes():
        mgr.remove_sandbox(sandbox.id)
    for net in mgr.list_networks():
        mgr.remove_network(net.name)


def _ping(netns_path: str, address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net={netns_path}", "busybox", "ping", "-c1", "-W1", address],
        capture_output=True,
        text=True,
        timeout=10,
    )


def _links_inside(netns_path: str) -> set[str]:
    return {
        line.split(":")[1].strip().split("@")[0]
        for line in _ip("-o", "link", "show", netns=netns_path).splitlines()
    }


def test_two_sandboxes_on_one_network_ping_each_other(manager: NetworkManager) -> None:
    net = manager.ensure_network(NetworkSpec("t_default", labels={"project": "t"}))
    subnet = ipaddress.ip_network(net.subnet)
    assert subnet.subnet_of(ipaddress.ip_network(POOL)) and subnet.prefixlen == 24
    assert f"inet {net.gateway}/24" in _ip("-o", "addr", "show", "dev", net.bridge)

    boxes = [manager.create_sandbox(name) for name in ("t-a-1", "t-b-1")]
    legs = [manager.attach(box.id, "t_default") for box in boxes]

    addresses = {leg.address for leg in legs}
    assert len(addresses) == 2 and net.gateway not in addresses
    for box, leg in zip(boxes, legs, strict=True):
        assert Path(box.netns_path) == manager._netns_dir / box.id  # run_root/netns/<id>
        assert ipaddress.ip_address(leg.address) in subnet
        assert (leg.interface, leg.prefixlen, leg.gateway) == ("eth0", 24, net.gateway)
        assert _links_inside(box.netns_path) == {"lo", "eth0"}
        inside = _ip("-o", "addr", "show", "dev", "eth0", netns=box.netns_path)
        assert f"inet {leg.address}/24" in inside
        assert leg.mac in _ip("link", "show", "eth0", netns=box.netns_path)
        assert f"default via {net.gateway} dev eth0" in _ip("route", netns=box.netns_path)
        assert f"master {net.bridge}" in _ip("-o", "link", "show", leg.host_interface)
    assert manager.get_sandbox("t-a-1") == manager.create_sandbox("t-a-1")  # idempotent

    for src, dst in ((boxes[0], legs[1]), (boxes[1], legs[0])):
        result = _ping(src.netns_path, dst.address)
        assert result.returncode == 0, result.stdout + result.stderr
    assert _ping(boxes[0].netns_path, net.gateway).returncode == 0

    with pytest.raises(NetworkInUseError, match="t-a-1, t-b-1"):
        manager.remove_network("t_default")
    for box in boxes:
        manager.remove_sandbox(box.id)
        manager.remove_sandbox(box.id)  # idempotent
    manager.remove_network("t_default")
    manager.remove_network("t_default")  # idempotent
    assert manager.list_sandboxes() == [] and manager.list_networks() == []


def test_networks_get_distinct_subnets_even_across_data_roots(
    manager: NetworkManager, tmp_path: Path
) -> None:
    a = manager.ensure_network(NetworkSpec("t_front"))
    b = manager.ensure_network(NetworkSpec("t_back"))
    other = NetworkManager(tmp_path / "other-data", tmp_path / "other-run", subnet_pool=POOL)
    try:
        c = other.ensure_network(NetworkSpec("t_front"))  # same name, other root
        subnets = [ipaddress.ip_network(n.subnet) for n in (a, b, c)]
        assert not any(x.overlaps(y) for i, x in enumerate(subnets) for y in subnets[i + 1 :])
        assert len({a.bridge, b.bridge, c.bridge}) == 3
        assert manager.ensure_network(NetworkSpec("t_front")) == a  # idempotent, persisted
        assert (
            NetworkManager(
                manager._store._networks.parents[1], tmp_path / "run", subnet_pool=POOL
            ).get_network("t_front")
            == a
        )
    finally:
        _teardown(other)


def test_subnet_routed_on_the_host_is_skipped(manager: NetworkManager) -> None:
    # A blackhole route carries no traffic anywhere; it only occupies the prefix.
    subprocess.run(["ip", "route", "add", "blackhole", "10.213.0.0/24"], check=True)
    try:
        net = manager.ensure_network(NetworkSpec("t_default"))
        assert net.subnet != "10.213.0.0/24"
    finally:
        subprocess.run(["ip", "route", "del", "blackhole", "10.213.0.0/24"], check=True)


def test_pool_exhaustion_is_a_clear_error(roots, host_unchanged) -> None:  # type: ignore[no-untyped-def]
    mgr = NetworkManager(roots.data, roots.run, subnet_pool="10.213.0.0/24", subnet_prefix=25)
    try:
        mgr.ensure_network(NetworkSpec("t_one"))
        mgr.ensure_network(NetworkSpec("t_two"))
        with pytest.raises(
            PoolExhaustedError, match="no free /25 subnet left in pool 10.213.0.0/24"
        ):
            mgr.ensure_network(NetworkSpec("t_three"))
        assert mgr.get_network("t_three") is None
    finally:
        _teardown(mgr)


def test_concurrent_attaches_get_distinct_addresses(manager: NetworkManager) -> None:
    net = manager.ensure_network(NetworkSpec("t_default"))
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def start(sandbox_id: str) -> None:
        try:
            manager.create_sandbox(sandbox_id)
            results[sandbox_id] = manager.attach(sandbox_id, "t_default").address
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(f"t-svc-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results.values())) == 8
    for sandbox_id, address in results.items():
        path = str(manager._netns_dir / sandbox_id)
        assert f"inet {address}/24" in _ip("-o", "addr", "show", "dev", "eth0", netns=path)
    assert net.gateway not in results.values()


def test_no_fork_happens_in_the_calling_process(manager: NetworkManager) -> None:
    forks: list[int] = []
    os.register_at_fork(before=lambda: forks.append(threading.get_ident()))
    manager.ensure_network(NetworkSpec("t_default"))
    manager.create_sandbox("t-a-1")
    manager.attach("t-a-1", "t_default")
    manager.detach("t-a-1", "t_default")
    manager.remove_sandbox("t-a-1")
    manager.remove_network("t_default")
    assert forks == []


def test_second_network_and_detach_release_addresses(manager: NetworkManager) -> None:
    manager.ensure_network(NetworkSpec("t_front"))
    manager.ensure_network(NetworkSpec("t_back"))
    box = manager.create_sandbox("t-a-1")
    front = manager.attach(box.id, "t_front")
    back = manager.attach(box.id, "t_back")
    assert (front.interface, back.interface) == ("eth0", "eth1")
    assert manager.attach(box.id, "t_back") == back  # idempotent
    assert _links_inside(box.netns_path) == {"lo", "eth0", "eth1"}
    routes = _ip("route", netns=box.netns_path)
    assert routes.count("default") == 1 and f"default via {front.gateway} dev eth0" in routes

    manager.detach(box.id, "t_back")
    manager.detach(box.id, "t_back")  # idempotent
    assert _links_inside(box.netns_path) == {"lo", "eth0"}
    assert back.host_interface not in _ip("-o", "link", "show")
    other = manager.create_sandbox("t-b-1")
    assert manager.attach(other.id, "t_back").address == back.address  # released, reused


def test_errors_name_what_is_missing(manager: NetworkManager) -> None:
    with pytest.raises(SandboxNotFoundError, match="create_sandbox"):
        manager.attach("t-nope", "t_default")
    manager.create_sandbox("t-a-1")
    with pytest.raises(NetworkNotFoundError, match="'t_nope' does not exist"):
        manager.attach("t-a-1", "t_nope")
    assert manager.get_sandbox("t-a-1") is not None
    assert manager.get_sandbox("t-a-1").attachments == ()  # type: ignore[union-attr]


_CRASHER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    import network.attach, network.bridge, network.netlink
    from network import NetworkManager, NetworkSpec

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    point = sys.argv[1]
    mgr = NetworkManager(Path({data!r}), Path({run!r}), subnet_pool={pool!r})
    if point == "bridge":
        network.bridge.ensure_bridge = die          # recorded, bridge never made
    mgr.ensure_network(NetworkSpec("t_default"))
    if point == "netns":
        network.attach.bring_up_loopback = die      # namespace mounted, loopback down
    mgr.create_sandbox("t-a-1")
    if point == "veth":
        network.netlink.Netlink.add_address = die   # veth made, no address yet
    mgr.attach("t-a-1", "t_default")
    die()
    """
)


@pytest.mark.parametrize("point", ["bridge", "netns", "veth", "after"])
def test_kill_9_mid_way_leaves_only_what_a_later_call_finishes_or_removes(
    roots,
    host_unchanged,
    point: str,  # type: ignore[no-untyped-def]
) -> None:
    script = _CRASHER.format(repo=str(REPO), data=str(roots.data), run=str(roots.run), pool=POOL)
    mgr = NetworkManager(roots.data, roots.run, subnet_pool=POOL)
    try:
        proc = subprocess.run([sys.executable, "-c", script, point], capture_output=True, text=True)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        state = json.loads((roots.data / "network" / "networks.json").read_text())
        assert "t_default" in state["networks"]  # recorded before created

        # A later run finishes the job: everything is idempotent.
        net = mgr.ensure_network(NetworkSpec("t_default"))
        box = mgr.create_sandbox("t-a-1")
        leg = mgr.attach("t-a-1", "t_default")
        assert _links_inside(box.netns_path) == {"lo", "eth0"}
        assert f"default via {net.gateway}" in _ip("route", netns=box.netns_path)
        assert _ping(box.netns_path, net.gateway).returncode == 0
        assert mgr.attach("t-a-1", "t_default") == leg
    finally:
        _teardown(mgr)


@pytest.mark.parametrize("point", ["netns", "veth", "after"])
def test_kill_9_then_remove_cleans_everything(roots, host_unchanged, point: str) -> None:  # type: ignore[no-untyped-def]
    script = _CRASHER.format(repo=str(REPO), data=str(roots.data), run=str(roots.run), pool=POOL)
    proc = subprocess.run([sys.executable, "-c", script, point], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    mgr = NetworkManager(roots.data, roots.run, subnet_pool=POOL)
    assert [s.id for s in mgr.list_sandboxes()] == ["t-a-1"]
    mgr.remove_sandbox("t-a-1")
    mgr.remove_network("t_default")
    assert mgr.list_sandboxes() == [] and mgr.list_networks() == []
