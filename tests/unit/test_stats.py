"""`stats` rows: docker stats' columns, units and CPU % from two samples (pure)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from composer.errors import PycomposeError
from composer.stats import TABLE_COLUMNS, bytes_size, cpu_percent, human_size, render, row
from runtime.cgroups.base import CgroupStats
from runtime.state import ContainerState
from runtime.stats import TICK_NS, ContainerStats, host_memory, net_bytes, system_cpu_ns

STATE = ContainerState(
    id="0123456789abcdef" * 4, name="demo-web-1", status="running", pid=1, monitor_pid=2, exit_code=None,
    oom_killed=False, created_at="2026-11-26T12:00:00Z", started_at="2026-11-26T12:00:00Z", finished_at=None,
    labels={},
)
GIB = 1 << 30


def sample(cpu_ns: int, system_ns: int, **cgroup: int | None) -> ContainerStats:
    values = {"memory_usage": 1_183_000, "memory_limit": 500 << 20, "pids": 3, "block_read": 0, "block_write": 0,
              **cgroup}
    return ContainerStats(CgroupStats(cpu_usage_ns=cpu_ns, **values), net_rx=126, net_tx=0,  # type: ignore[arg-type]
                          system_cpu_ns=system_ns, online_cpus=2, host_memory=8 * GIB)


@pytest.mark.parametrize(("size", "binary", "decimal"), [
    (0, "0B", "0B"), (126, "126B", "126B"), (1_183_000, "1.128MiB", "1.18MB"), (500 << 20, "500MiB", "524MB"),
    (2_500_000, "2.384MiB", "2.5MB"), (95_200_000, "90.79MiB", "95.2MB"), (8 * GIB, "8GiB", "8.59GB"),
])
def test_sizes_as_go_units(size: int, binary: str, decimal: str) -> None:
    assert (bytes_size(size), human_size(size)) == (binary, decimal)


def test_cpu_percent_is_the_share_of_host_time_times_cpus() -> None:
    before, after = sample(1_000_000_000, 100_000_000_000), sample(1_500_000_000, 102_000_000_000)
    assert cpu_percent(before, after) == pytest.approx(50.0)  # 0.5 s of 2 s host time (1 s × 2 CPUs) × 2
    assert cpu_percent(after, after) == 0.0


def test_row_matches_docker_stats() -> None:
    r = row(STATE, sample(0, 0), sample(10_000_000, 1_000_000_000, block_read=4096, block_write=8192))
    assert r.table() == ("0123456789ab", "demo-web-1", "2.00%", "1.128MiB / 500MiB", "0.23%", "126B / 0B",
                         "4.1kB / 8.19kB", "3")
    assert r.json() == {"BlockIO": "4.1kB / 8.19kB", "CPUPerc": "2.00%", "Container": STATE.id, "ID": "0123456789ab",
                        "MemPerc": "0.23%", "MemUsage": "1.128MiB / 500MiB", "Name": "demo-web-1", "NetIO": "126B / 0B",
                        "PIDs": "3"}


def test_without_a_memory_limit_the_host_memory_is_the_limit() -> None:
    r = row(STATE, None, sample(0, 0, memory_limit=None))
    assert (r.cpu, r.mem_usage) == ("0.00%", "1.128MiB / 8GiB")


def test_unknown_counters_show_dashes_and_stopped_containers_zeros() -> None:
    unknown = replace(sample(0, 0, memory_usage=None, pids=None, block_read=None), net_rx=None)
    r = row(STATE, None, unknown)
    assert (r.mem_usage, r.mem, r.net_io, r.block_io, r.pids) == ("-- / --", "--", "--", "--", "--")
    stopped = row(replace(STATE, status="exited"), None, None, truncate=False)
    assert stopped.table() == (STATE.id, "demo-web-1", "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0")


def test_render_table_and_json() -> None:
    r = row(STATE, None, sample(0, 0))
    assert render([r], "table").splitlines()[0].split("   ")[0] == TABLE_COLUMNS[0]
    assert render([], "table").startswith("CONTAINER ID   NAME")
    assert render([r, r], "json").count("\n") == 1


def test_proc_parsers() -> None:
    net_dev = ("Inter-|   Receive                            |  Transmit\n"
               " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
               "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n"
               "  eth0:    2500      20    0    0    0     0          0         0      700       7    0    0    0     0       0          0\n")
    assert net_bytes(net_dev) == (2500, 700)
    assert system_cpu_ns("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 1 1 1 1 1 1\n") == 28 * TICK_NS  # 7 fields, as dockerd
    assert host_memory("MemTotal:       16384 kB\nMemFree: 1 kB\n") == 16384 * 1024


class FakeContainers:
    def __init__(self) -> None:
        self.samples = 0

    def list(self) -> list[ContainerState]:
        return [replace(STATE, labels={"com.docker.compose.project": "demo"})]

    def stats(self, container_id: str) -> ContainerStats:
        self.samples += 1
        return sample(self.samples * 100_000_000, self.samples * 1_000_000_000)


class FakeEngine:
    def __init__(self) -> None:
        self.containers = FakeContainers()


class Stop(Exception):
    pass


def test_show_samples_twice_for_no_stream_and_repeats_when_streaming() -> None:
    import io

    from composer.stats import show

    out, engine, naps = io.StringIO(), FakeEngine(), []
    show(engine, "demo", (), stream=False, fmt="json", out=out, sleep=naps.append)  # type: ignore[arg-type]
    assert naps == [1.0] and engine.containers.samples == 2
    assert json.loads(out.getvalue())["CPUPerc"] == "20.00%"  # 0.1 s of 1 s host time, 2 CPUs

    def nap(seconds: float) -> None:
        if len(naps) == 3:
            raise Stop
        naps.append(seconds)

    out = io.StringIO()
    with pytest.raises(Stop):
        show(FakeEngine(), "demo", (), out=out, sleep=nap)  # type: ignore[arg-type]
    assert out.getvalue().count("CONTAINER ID") == 2  # one table per interval, no screen clearing off a TTY
    with pytest.raises(PycomposeError, match="unknown --format"):
        show(FakeEngine(), "demo", (), fmt="yaml", out=out, sleep=nap)  # type: ignore[arg-type]
