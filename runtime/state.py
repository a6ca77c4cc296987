"""Container state: the public `ContainerState`, its on-disk record, and liveness.

run_root/containers/<id>/state.json holds a `StateRecord`, written atomically
(temp file + os.replace) under an flock on run_root/containers/<id>/lock, by the
CLI (create, stop fallback) and by the monitor (running, exited).

Pids are stored with their start time (field 22 of /proc/<pid>/stat) so a pid the
kernel has reused for another process is never mistaken for ours.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["created", "running", "exited"]


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

    def public(self) -> ContainerState:
        return ContainerState(
            id=self.id, name=self.name, status=self.status, pid=self.pid,
            monitor_pid=self.monitor_pid, exit_code=self.exit_code, oom_killed=self.oom_killed,
            created_at=self.created_at, started_at=self.started_at, finished_at=self.finished_at,
            labels=dict(self.labels),
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
        return self.data_dir / "config.json"

    @property
    def upper(self) -> Path:
        return self.data_dir / "upper"

    @property
    def work(self) -> Path:
        return self.data_dir / "work"

    @property
    def log(self) -> Path:
        return self.data_dir / "container-json.log"

    @property
    def state(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def lock(self) -> Path:
        return self.run_dir / "lock"

    @property
    def stop_request(self) -> Path:
        """Present while an explicit stop/kill is in force: the monitor never restarts then."""
        return self.run_dir / "stop.json"

    @property
    def rootfs(self) -> Path:
        return self.run_dir / "rootfs"


def now_rfc3339() -> str:
    """UTC, second precision plus microseconds: 2024-05-01T12:00:00.123456Z."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


# --- pure state transitions -------------------------------------------------------


def mark_running(rec: StateRecord, pid: int, pid_start: int | None, now: str) -> StateRecord:
    return dataclasses.replace(
        rec, status="running", pid=pid, pid_start=pid_start, started_at=now, finished_at=None,
        exit_code=None, oom_killed=False, error=None,
    )


def mark_exited(rec: StateRecord, exit_code: int | None, oom_killed: bool, now: str) -> StateRecord:
    return dataclasses.replace(
        rec, status="exited", pid=None, pid_start=None, exit_code=exit_code,
        oom_killed=oom_killed, finished_at=now,
    )


def mark_start_failed(rec: StateRecord, error: str, exit_code: int) -> StateRecord:
    """Like Docker: a container whose start failed stays "created", with the error kept."""
    return dataclasses.replace(rec, pid=None, pid_start=None, monitor_pid=None, monitor_start=None, error=error, exit_code=exit_code)


def reconcile(rec: StateRecord, monitor_alive: bool, pid_alive: bool, now: str) -> StateRecord:
    """What is really true when the record says "running" but processes may have died.

    PID 1 alive: still running (even with a dead monitor; `stop` then kills it itself).
    PID 1 dead and the monitor dead too: exited, exit code unknown (nobody could wait for it).
    PID 1 dead but the monitor alive: the monitor is about to record the exit; keep it.
    """
    if rec.status != "running" or pid_alive or monitor_alive:
        return rec
    return dataclasses.replace(mark_exited(rec, None, False, now), monitor_pid=None, monitor_start=None)


def exit_code_from_status(wait_status: int) -> int:
    """waitpid status → shell-style exit code: the code, or 128+signo when signalled."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


# --- liveness ------------------------------------------------------------------------


def process_start_time(pid: int) -> int | None:
    """Start time (clock ticks since boot) of a live, non-zombie process; None otherwise."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(b")") + 2:].split()  # the command name may contain spaces
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def is_alive(pid: int | None, start: int | None) -> bool:
    return pid is not None and start is not None and process_start_time(pid) == start


# --- files ------------------------------------------------------------------------------


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_record(path: Path) -> StateRecord | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    known = {f.name for f in dataclasses.fields(StateRecord)}
    return StateRecord(**{k: v for k, v in data.items() if k in known})


def write_record(path: Path, rec: StateRecord) -> None:
    write_json_atomic(path, dataclasses.asdict(rec))


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """An exclusive flock for read-modify-write of one container's state."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
