"""`stats`: docker stats' columns and JSON keys, computed as the docker CLI does.

CPU % is the container's share of the host's CPU time between two samples, times the
number of CPUs (docker/cli calculateCPUPercentUnix); memory is usage less inactive page
cache, against the limit or, without one, the host's memory; sizes are go-units'
BytesSize (binary, 4 digits) for memory and HumanSizeWithPrecision (decimal, 3 digits)
for network and block I/O.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from composer.engine import Engine
from composer.errors import PycomposeError
from composer.observe import project_containers
from runtime.errors import ContainerError
from runtime.state import ContainerState
from runtime.stats import ContainerStats

TABLE_COLUMNS = ("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS")
INTERVAL = 1.0  # seconds between samples, as dockerd's stats collector
CLEAR = "\033[2J\033[H"
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def _scaled(size: float, base: float, units: tuple[str, ...], digits: int) -> str:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return f"{size:.{digits}g}{units[i]}"


def bytes_size(size: float) -> str:
    """go-units BytesSize: "1.129MiB"."""
    return _scaled(size, 1024.0, _BINARY, 4)


def human_size(size: float) -> str:
    """go-units HumanSizeWithPrecision(size, 3): "2.5MB"."""
    return _scaled(size, 1000.0, _DECIMAL, 3)


def cpu_percent(previous: ContainerStats, current: ContainerStats) -> float:
    before, now = previous.cgroup.cpu_usage_ns, current.cgroup.cpu_usage_ns
    if before is None or now is None:
        return 0.0
    cpu_delta = now - before
    system_delta = current.system_cpu_ns - previous.system_cpu_ns
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * current.online_cpus * 100.0


@dataclass(frozen=True)
class Row:
    """One container's line: docker stats' fields, already formatted."""

    container: str  # the full id
    id: str
    name: str
    cpu: str
    mem_usage: str
    mem: str
    net_io: str
    block_io: str
    pids: str

    def table(self) -> tuple[str, ...]:
        return (self.id, self.name, self.cpu, self.mem_usage, self.mem, self.net_io, self.block_io, self.pids)

    def json(self) -> dict[str, str]:
        return {"BlockIO": self.block_io, "CPUPerc": self.cpu, "Container": self.container, "ID": self.id,
                "MemPerc": self.mem, "MemUsage": self.mem_usage, "Name": self.name, "NetIO": self.net_io,
                "PIDs": self.pids}


def row(state: ContainerState, previous: ContainerStats | None, current: ContainerStats | None,
        truncate: bool = True) -> Row:
    """A stopped container (no sample) shows zeros, as docker stats -a does."""
    short = state.id[:12] if truncate else state.id
    if current is None:
        return Row(state.id, short, state.name, "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0")
    cg = current.cgroup
    usage = cg.memory_usage or 0
    limit = min(cg.memory_limit, current.host_memory) if cg.memory_limit is not None else current.host_memory
    cpu = cpu_percent(previous, current) if previous is not None else 0.0
    net = "--" if current.net_rx is None else f"{human_size(current.net_rx)} / {human_size(current.net_tx or 0)}"
    block = "--" if cg.block_read is None else f"{human_size(cg.block_read)} / {human_size(cg.block_write or 0)}"
    return Row(
        container=state.id, id=short, name=state.name,
        cpu=f"{cpu:.2f}%",
        mem_usage="-- / --" if cg.memory_usage is None else f"{bytes_size(usage)} / {bytes_size(limit)}",
        mem="--" if cg.memory_usage is None or not limit else f"{usage / limit * 100:.2f}%",
        net_io=net, block_io=block,
        pids="--" if cg.pids is None else str(cg.pids),
    )


def render(rows: Sequence[Row], fmt: str) -> str:
    if fmt == "json":
        return "\n".join(json.dumps(r.json()) for r in rows)
    from composer.ps import render_table

    return render_table(TABLE_COLUMNS, [r.table() for r in rows])


def _sample(engine: Engine, states: Sequence[ContainerState]) -> dict[str, ContainerStats]:
    """A sample of each running container; one that stopped meanwhile is left out."""
    out = {}
    for state in states:
        if state.status == "running":
            try:
                out[state.id] = engine.containers.stats(state.id)
            except ContainerError:
                continue
    return out


def show(engine: Engine, project: str, services: Sequence[str], *, all_: bool = False, stream: bool = True,
         fmt: str = "table", truncate: bool = True, out: TextIO | None = None,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """Print the project's stats once (`stream=False`, after two samples) or every second."""
    if fmt not in ("table", "json"):
        raise PycomposeError(f'unknown --format "{fmt}"', hint="use table or json")
    out = out or sys.stdout
    clear = stream and fmt == "table" and out.isatty()
    states = _states(engine, project, services, all_)
    previous = _sample(engine, states)
    while True:
        sleep(INTERVAL)
        states = _states(engine, project, services, all_)
        current = _sample(engine, states)
        shown = [s for s in states if s.id in current or all_]
        text = render([row(s, previous.get(s.id), current.get(s.id), truncate) for s in shown], fmt)
        out.write((CLEAR if clear else "") + text + ("\n" if text else ""))
        out.flush()
        if not stream:
            return
        previous = current


def _states(engine: Engine, project: str, services: Sequence[str], all_: bool) -> list[ContainerState]:
    return [s for s in project_containers(engine, project, services) if all_ or s.status == "running"]
