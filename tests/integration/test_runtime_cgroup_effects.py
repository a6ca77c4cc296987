"""What a container's cgroup does to it, on whichever cgroup version the host runs: the CPU
quota throttles, the devices filter refuses, the freezer pauses, and stats read its counters.

tests/vm/run-cgroup2.sh runs this file on a real cgroup v2 kernel as well.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from runtime.cgroups import V1Driver, detect
from runtime.config import Resources
from runtime.security.devices import ALLOW_ALL
from tests.integration import test_runtime_lifecycle as lifecycle
from tests.integration.test_device_filter import openable_block_device
from tests.integration.test_runtime_lifecycle import Kit

busybox_layer = lifecycle.busybox_layer  # fixtures shared by the runtime integration tests
kit = lifecycle.kit
COUNTER = "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo $i > /count; sleep 0.05; done"


def wait_for(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def cgroup_file(kit: Kit, cid: str, controller: str, name: str) -> Path:
    """A file of the container's cgroup: in the controller's hierarchy on v1, the one on v2."""
    driver = detect()
    if isinstance(driver, V1Driver):
        return driver.mounts[controller] / kit.roots.cgroup_parent / cid / name
    return Path(driver.root, kit.roots.cgroup_parent, cid, name)  # type: ignore[attr-defined]


def keyed(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines())}


def test_cpu_quota_throttles_a_busy_loop(kit: Kit) -> None:
    state = kit.start("sh", "-c", "while :; do :; done", resources=Resources(cpu_quota=10_000, cpu_period=100_000))
    cgroup = detect().open(kit.roots.cgroup_parent, state.id)
    assert cgroup is not None
    first, t0 = cgroup.stats().cpu_usage_ns, time.monotonic_ns()
    time.sleep(2)
    last, t1 = cgroup.stats().cpu_usage_ns, time.monotonic_ns()
    assert first is not None and last is not None
    # 10% of one CPU, and a period's worth of slack; unthrottled, the loop would use a whole CPU.
    assert last - first <= (t1 - t0) // 10 + 100_000_000
    assert keyed(cgroup_file(kit, state.id, "cpu", "cpu.stat"))["nr_throttled"] > 0
    kit.store.stop(state.id, timeout=0)


def test_a_disk_node_can_be_made_but_the_devices_cgroup_refuses_to_open_it(kit: Kit) -> None:
    rdev = openable_block_device().stat().st_rdev
    script = f"mknod /disk b {os.major(rdev)} {os.minor(rdev)} && echo made; head -c 1 /disk >/dev/null || echo refused"
    final, out, err = kit.run("sh", "-c", script)  # the default rules: no disks
    assert out == "made\nrefused\n" and "Operation not permitted" in err, (out, err)
    final, out, err = kit.run("sh", "-c", script, resources=Resources(device_rules=ALLOW_ALL))
    assert (final.exit_code, out) == (0, "made\n"), err  # the filter, not something else, refused


def test_pause_freezes_the_container_and_unpause_resumes_it(kit: Kit) -> None:
    state = kit.start("sh", "-c", COUNTER)
    counter = kit.roots.data / "containers" / state.id / "upper" / "count"

    def count() -> int:
        text = counter.read_text().strip() if counter.exists() else ""
        return int(text) if text else 0

    wait_for(lambda: count() > 0)
    kit.store.pause(state.id)
    assert kit.store.state(state.id).paused
    before = count()
    time.sleep(0.6)
    assert count() == before
    kit.store.unpause(state.id)
    assert not kit.store.state(state.id).paused
    wait_for(lambda: count() > before)
    kit.store.pause(state.id)
    kit.store.stop(state.id, timeout=30)  # thawed first, so the TERM trap runs: exit 0, not a SIGKILL
    final = kit.wait(state.id)
    assert (final.status, final.exit_code, final.paused) == ("exited", 0, False)


def test_stats_read_the_containers_cgroup(kit: Kit) -> None:
    script = "x=$(head -c 10m /dev/zero | tr '\\0' a); touch /ready; sleep 1000 & wait"
    state = kit.start("sh", "-c", script, resources=Resources(memory_limit=64 << 20, pids_limit=10))
    wait_for(lambda: (kit.roots.data / "containers" / state.id / "upper" / "ready").exists())
    s = kit.store.stats(state.id)
    assert s.cgroup.memory_limit == 64 << 20
    assert s.cgroup.memory_usage is not None and 9 << 20 <= s.cgroup.memory_usage <= 64 << 20
    assert s.cgroup.pids == 2  # sh and sleep
    assert s.cgroup.cpu_usage_ns is not None and s.cgroup.cpu_usage_ns > 0
    assert (s.net_rx, s.net_tx) == (0, 0)  # its own network namespace: only lo
    kit.store.stop(state.id, timeout=0)
