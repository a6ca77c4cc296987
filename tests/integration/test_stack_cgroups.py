"""pause/unpause, kill -s, stats and the cgroup settings of a service, through the real CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

from runtime.cgroups import V1Driver, detect
from tests.integration.stackkit import Stack

COUNTER = ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$$((i+1)); echo $$i > /count; sleep 0.05; done"]


def container_id(stack: Stack, service: str) -> str:
    return str(stack.by_service()[service]["ID"])


def wait_for(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def count(stack: Stack, cid: str) -> int:
    """The counter the container writes to /count, read from its overlay's upper layer."""
    text = (stack.roots.data / "containers" / cid / "upper" / "count").read_text().strip()
    return int(text) if text else 0


def test_pause_stops_progress_unpause_resumes_and_stop_works_while_paused(stack: Stack) -> None:
    stack.write(f"services:\n  counter:\n    image: busybox\n    command: {json.dumps(COUNTER)}\n")
    stack.run("up", "-d")
    cid = container_id(stack, "counter")
    wait_for(lambda: (stack.roots.data / "containers" / cid / "upper" / "count").exists())
    out = stack.run("pause").stderr
    assert f"Container {stack.project}-counter-1  Paused" in out
    row = stack.by_service()["counter"]
    assert row["State"] == "paused" and str(row["Status"]).endswith("(Paused)")
    before = count(stack, cid)
    time.sleep(0.6)
    assert count(stack, cid) == before
    exec_ = stack.exec("counter", "true", check=False)
    assert exec_.returncode != 0 and "is paused" in exec_.stderr
    assert "Unpaused" in stack.run("unpause").stderr
    wait_for(lambda: count(stack, cid) > before)
    assert stack.by_service()["counter"]["State"] == "running"
    stack.run("pause")
    started = time.monotonic()
    stack.run("stop", "-t", "5")  # thawed, then its TERM trap runs: no wait for the SIGKILL
    assert time.monotonic() - started < 5
    row = stack.by_service()["counter"]
    assert (row["State"], row["ExitCode"]) == ("exited", 0)


def test_kill_sends_the_signal_and_defaults_to_sigkill(stack: Stack) -> None:
    stack.write("""
    services:
      app:
        image: busybox
        command: ["sh", "-c", "trap 'echo got USR1' USR1; while true; do sleep 0.05; done"]
    """)
    stack.run("up", "-d")
    wait_for(lambda: stack.by_service()["app"]["State"] == "running")
    time.sleep(0.3)  # the trap is set up
    assert "Killed" in stack.run("kill", "-s", "SIGUSR1", "app").stderr
    wait_for(lambda: "got USR1" in stack.run("logs", "app").stdout)
    assert stack.by_service()["app"]["State"] == "running"
    bad = stack.run("kill", "-s", "SIGNOPE", check=False)
    assert bad.returncode == 1 and "unknown signal" in bad.stderr and "Traceback" not in bad.stderr
    stack.run("kill")
    wait_for(lambda: stack.by_service()["app"]["State"] == "exited")
    assert stack.by_service()["app"]["ExitCode"] == 137
    assert "no container to kill" in stack.run("kill").stderr


def test_stats_reports_a_container_with_a_memory_limit(stack: Stack) -> None:
    stack.write("""
    services:
      hog:
        image: busybox
        command: ["sh", "-c", "x=$$(head -c 10m /dev/zero | tr '\\\\0' a); touch /ready; sleep 3600 & wait"]
        mem_limit: 64m
    """)
    stack.run("up", "-d")
    cid = container_id(stack, "hog")
    wait_for(lambda: (stack.roots.data / "containers" / cid / "upper" / "ready").exists())
    rows = [json.loads(line) for line in stack.run("stats", "--no-stream", "--format", "json").stdout.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"}
    assert (row["Container"], row["ID"], row["Name"]) == (cid, cid[:12], f"{stack.project}-hog-1")
    usage, limit = str(row["MemUsage"]).split(" / ")
    assert limit == "64MiB" and usage.endswith("MiB") and 9 <= float(usage[:-3]) <= 64
    assert 14 <= float(str(row["MemPerc"]).rstrip("%")) <= 100
    assert float(str(row["CPUPerc"]).rstrip("%")) >= 0
    assert row["PIDs"] == "2"  # sh and sleep
    assert str(row["NetIO"]).count(" / ") == 1 and str(row["BlockIO"]).count(" / ") == 1
    table = stack.run("stats", "--no-stream").stdout.splitlines()
    assert table[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT", "MEM", "%",
                                "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert table[1].startswith(cid[:12])


def test_cgroup_settings_of_a_service_reach_the_kernel(stack: Stack) -> None:
    stack.write("""
    services:
      app:
        image: busybox
        command: ["sleep", "3600"]
        mem_limit: 64m
        memswap_limit: 96m
        cpu_shares: 512
        cpuset: "0"
        cpu_period: 50000
        cpu_quota: 25000
        deploy: {resources: {reservations: {memory: 16m}}}
    """)
    stack.run("up", "-d")
    cid = container_id(stack, "app")
    driver = detect()
    files: dict[str, str]
    if isinstance(driver, V1Driver):
        m, c, s = (driver.mounts[k] / stack.roots.cgroup_parent / cid for k in ("memory", "cpu", "cpuset"))
        files = {f"{m}/memory.limit_in_bytes": str(64 << 20), f"{m}/memory.soft_limit_in_bytes": str(16 << 20),
                 f"{c}/cpu.shares": "512", f"{c}/cpu.cfs_period_us": "50000", f"{c}/cpu.cfs_quota_us": "25000",
                 f"{s}/cpuset.cpus": "0"}
        if Path(f"{m}/memory.memsw.limit_in_bytes").exists():
            files[f"{m}/memory.memsw.limit_in_bytes"] = str(96 << 20)
    else:
        p = driver.root / stack.roots.cgroup_parent / cid  # type: ignore[attr-defined]
        files = {f"{p}/memory.max": str(64 << 20), f"{p}/memory.low": str(16 << 20), f"{p}/cpu.weight": "20",
                 f"{p}/cpu.max": "25000 50000", f"{p}/cpuset.cpus": "0"}
    assert {path: Path(path).read_text().strip() for path in files} == files
