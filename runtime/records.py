"""state.json as a plain dict: the file layout, transitions and liveness the monitor needs.

The monitor process must stay lean (no dataclasses/pathlib: ≈40 ms of imports measured
under `python -I -S`), so the state transitions are written once here on dicts of field
changes; state.py applies the same changes to its `StateRecord` dataclass for the CLI.
"""

from __future__ import annotations

import fcntl
import os
import time

from runtime import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Per-container files (see the layout in containers.py).
CONFIG = "config.json"  # data dir
UPPER = "upper"
WORK = "work"
LOG = "container-json.log"
STATE = "state.json"  # run dir
LOCK = "lock"
STOP_REQUEST = "stop.json"
ROOTFS = "rootfs"
PAUSED = "paused"  # present while the container is frozen (ContainerStore.pause)
# Held open for writing by the monitor while PID 1 runs; its last writer closing (after the
# exit is recorded) wakes `ContainerStore.wait` with POLLHUP, without any polling.
EXIT_FIFO = "exit.fifo"
# "PID START\n" (START: /proc/PID/stat field 22) while PID 1 runs: written (renamed into place)
# at each start of PID 1, removed at its exit. What others watch to follow the container's
# runs without reading state.json (the network side releases names and ports by it).
PIDFILE = "pid"

MONITOR_GONE: dict[str, Any] = {"monitor_pid": None, "monitor_start": None}


def running(pid: int, pid_start: int | None, now: str) -> dict[str, Any]:
    return {"status": "running", "pid": pid, "pid_start": pid_start, "started_at": now, "finished_at": None,
            "exit_code": None, "oom_killed": False, "error": None}


def exited(exit_code: int | None, oom_killed: bool, now: str) -> dict[str, Any]:
    return {"status": "exited", "pid": None, "pid_start": None, "exit_code": exit_code,
            "oom_killed": oom_killed, "finished_at": now}


def start_failed(error: str, exit_code: int) -> dict[str, Any]:
    """Like Docker: a container whose start failed stays "created", with the error kept."""
    return {"pid": None, "pid_start": None, **MONITOR_GONE, "error": error, "exit_code": exit_code}


def now_rfc3339() -> str:
    """UTC, second precision plus microseconds: 2024-05-01T12:00:00.123456Z."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


def exit_code_from_status(wait_status: int) -> int:
    """waitpid status → shell-style exit code: the code, or 128+signo when signalled."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


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


def write_pidfile(path: str, pid: int, start: int | None) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{pid} {start or 0}\n")
    os.replace(tmp, path)


def remove_pidfile(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def is_alive(pid: int | None, start: int | None) -> bool:
    return pid is not None and start is not None and process_start_time(pid) == start


class Locked:
    """An exclusive flock on one container's lock file, for read-modify-write of its state
    (a class, not @contextmanager: contextlib costs the monitor ≈3 ms of imports)."""

    __slots__ = ("_path", "_fd")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = path
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self._fd)
            raise

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)


def read_state(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        return jsonio.read_json(path)  # type: ignore[no-any-return]
    except FileNotFoundError:
        return None
