"""Container state: the public `ContainerState`, its on-disk record, and liveness.

run_root/containers/<id>/state.json holds a `StateRecord`, written atomically
(temp file + os.replace) under an flock on run_root/containers/<id>/lock, by the
CLI (create, stop fallback) and by the monitor (running, exited).

Pids are stored with their start time (field 22 of /proc/<pid>/stat) so a pid the
kernel has reused for another process is never mistaken for ours.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runtime import records
from runtime.jsonio import write_json_atomic
from runtime.records import Locked as locked
from runtime.records import exit_code_from_status, is_alive, now_rfc3339, process_start_time

__all__ = [
    "ContainerPaths", "ContainerState", "StateRecord", "exit_code_from_status", "is_alive", "locked",
    "mark_exited", "mark_running", "mark_start_failed", "now_rfc3339", "process_start_time",
    "read_record", "reconcile", "write_json_atomic", "write_record",
]

Status = Literal["created", "running", "exited"]


@dataclass(frozen=True)
class HealthResult:
    """One healthcheck probe (Docker's HealthcheckResult)."""

    start: str  # RFC 3339 UTC
    end: str
    exit_code: int  # -1 when the probe exceeded its timeout
    output: str  # at most 4 KB, then "..."


@dataclass(frozen=True)
class Health:
    status: str  # "starting", "healthy" or "unhealthy"
    failing_streak: int
    log: tuple[HealthResult, ...]  # the last 5 probes, oldest first

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Health:
        return cls(d.get("status", "starting"), int(d.get("failing_streak", 0)),
                   tuple(HealthResult(**entry) for entry in d.get("log", ())))


@dataclass(frozen=True)
class ContainerState:
    id: str
    name: str
    status: Status
    pid: int | None  # host pid of the container's PID 1 while running
    monitor_pid: int | None
    exit_code: int | None  # 128+signo when killed by a signal (137 for SIGKILL / OOM)
    oom_killed: bool
    created_at: str  # RFC 3339 UTC
    started_at: str | None
    finished_at: str | None
    labels: dict[str, str]
    paused: bool = False  # running, with every process frozen (pause); status stays "running"
    health: Health | None = None  # only for a container with a healthcheck, once started
    restart_count: int = 0  # restarts by the restart policy (Docker's RestartCount)
    error: str | None = None  # why the last start failed


@dataclass(frozen=True)
class StateRecord:
    """What state.json holds: the public state plus what liveness checks need."""

    id: str
    name: str
    created_at: str
    labels: dict[str, str] = field(default_factory=dict)
    status: Status = "created"
    pid: int | None = None
    pid_start: int | None = None
    monitor_pid: int | None = None
    monitor_start: int | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None  # why the last start failed
    restart_count: int = 0
    health: dict[str, Any] | None = None  # written by the monitor (runtime/health.py)

    def public(self) -> ContainerState:
        return ContainerState(
            id=self.id, name=self.name, status=self.status, pid=self.pid,
            monitor_pid=self.monitor_pid, exit_code=self.exit_code, oom_killed=self.oom_killed,
            created_at=self.created_at, started_at=self.started_at, finished_at=self.finished_at,
            labels=dict(self.labels),
            health=Health.from_dict(self.health) if self.health is not None else None,
            restart_count=self.restart_count, error=self.error,
        )


@dataclass(frozen=True)
class ContainerPaths:
    """Where one container's files live (see the layout in containers.py)."""

    data_dir: Path  # data_root/containers/<id>
    run_dir: Path  # run_root/containers/<id>

    @classmethod
    def of(cls, data_root: Path, run_root: Path, container_id: str) -> ContainerPaths:
        return cls(data_root / "containers" / container_id, run_root / "containers" / container_id)

    @property
    def config(self) -> Path:
        return self.data_dir / records.CONFIG

    @property
    def upper(self) -> Path:
        return self.data_dir / records.UPPER

    @property
    def work(self) -> Path:
        return self.data_dir / records.WORK

    @property
    def log(self) -> Path:
        return self.data_dir / records.LOG

    @property
    def state(self) -> Path:
        return self.run_dir / records.STATE

    @property
    def lock(self) -> Path:
        return self.run_dir / records.LOCK

    @property
    def stop_request(self) -> Path:
        """Present while an explicit stop/kill is in force: the monitor never restarts then."""
        return self.run_dir / records.STOP_REQUEST

    @property
    def paused(self) -> Path:
        """Present while the container is paused (frozen); removed on unpause, stop and start."""
        return self.run_dir / records.PAUSED

    @property
    def exit_fifo(self) -> Path:
        return self.run_dir / records.EXIT_FIFO

    @property
    def pidfile(self) -> Path:
        return self.run_dir / records.PIDFILE

    @property
    def rootfs(self) -> Path:
        return self.run_dir / records.ROOTFS


# --- pure state transitions -------------------------------------------------------


def mark_running(rec: StateRecord, pid: int, pid_start: int | None, now: str) -> StateRecord:
    return dataclasses.replace(rec, **records.running(pid, pid_start, now))


def mark_exited(rec: StateRecord, exit_code: int | None, oom_killed: bool, now: str) -> StateRecord:
    return dataclasses.replace(rec, **records.exited(exit_code, oom_killed, now))


def mark_start_failed(rec: StateRecord, error: str, exit_code: int) -> StateRecord:
    """Like Docker: a container whose start failed stays "created", with the error kept."""
    return dataclasses.replace(rec, **records.start_failed(error, exit_code))


def reconcile(rec: StateRecord, monitor_alive: bool, pid_alive: bool, now: str) -> StateRecord:
    """What is really true when the record says "running" but processes may have died.

    PID 1 alive: still running (even with a dead monitor; `stop` then kills it itself).
    PID 1 dead and the monitor dead too: exited, exit code unknown (nobody could wait for it).
    PID 1 dead but the monitor alive: the monitor is about to record the exit; keep it.
    """
    if rec.status != "running" or pid_alive or monitor_alive:
        return rec
    return dataclasses.replace(mark_exited(rec, None, False, now), **records.MONITOR_GONE)


# --- files ------------------------------------------------------------------------------


def read_record(path: Path) -> StateRecord | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    known = {f.name for f in dataclasses.fields(StateRecord)}
    return StateRecord(**{k: v for k, v in data.items() if k in known})


def write_record(path: Path, rec: StateRecord) -> None:
    write_json_atomic(path, dataclasses.asdict(rec))
