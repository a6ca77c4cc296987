"""One sample of a running container's resource use, for `stats` (docker stats' inputs).

CPU % needs two samples: the container's CPU time and the host's total CPU time, both
read together, as dockerd does (its system_cpu_usage is /proc/stat's first line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from runtime.cgroups.base import CgroupStats

# /proc/stat counts in clock ticks (USER_HZ).
TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ContainerStats:
    cgroup: CgroupStats
    net_rx: int | None  # bytes over the container's interfaces but lo; None without a netns view
    net_tx: int | None
    system_cpu_ns: int  # the host's total CPU time (all CPUs) at the time of the sample
    online_cpus: int
    host_memory: int  # bytes: the limit docker stats shows for a container without one


def system_cpu_ns(proc_stat: str) -> int:
    """Sum of the first seven fields of the "cpu" line (user … softirq), in ns, as dockerd."""
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            return sum(int(v) for v in fields[1:8]) * TICK_NS
    raise ValueError("no cpu line in /proc/stat")


def net_bytes(net_dev: str) -> tuple[int, int]:
    """(received, sent) bytes of every interface but lo, from a /proc/<pid>/net/dev text."""
    rx = tx = 0
    for line in net_dev.splitlines()[2:]:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() == "lo" or len(fields) < 9:
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


def host_memory(meminfo: str) -> int:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise ValueError("no MemTotal in /proc/meminfo")


def sample(cgroup: CgroupStats, pid: int | None) -> ContainerStats:
    """Complete a cgroup sample with the host's counters and PID 1's network namespace view."""
    rx = tx = None
    if pid is not None:
        try:
            with open(f"/proc/{pid}/net/dev") as f:
                rx, tx = net_bytes(f.read())
        except OSError:
            pass  # PID 1 just exited
    with open("/proc/stat") as f:
        system = system_cpu_ns(f.read())
    with open("/proc/meminfo") as f:
        memory = host_memory(f.read())
    return ContainerStats(cgroup, rx, tx, system, os.cpu_count() or 1, memory)
