"""A container's cgroup as its monitor sees it: created by the caller, handed over as paths.

`ContainerStore.start` creates the cgroup with the full driver (`detect()` runs once per
store, in the long-lived caller) while the monitor's interpreter boots, then hands the
monitor `describe(cgroup)` on a pipe. The monitor needs only the cgroup.procs files its
child joins, the OOM kill count, and, once PID 1 has exited, to make sure nothing is left.
Importing the drivers (pathlib, re, dataclasses via runtime.config) would cost the monitor
≈40 ms and ≈2 MB, so this module works on plain string paths with os only. The one rare
case needing more (processes left after PID 1's exit: a container without a pid namespace,
or an exec'd command) imports the full driver lazily for its freeze-and-kill.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.cgroups.base import Cgroup


def parse_pids(text: str) -> set[int]:
    return {int(line) for line in text.split() if line.strip()}


def parse_flat_keyed(text: str, key: str) -> int | None:
    """The value of `key` in a "key value" per line file (memory.events, memory.oom_control)."""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == key:
            return int(fields[1])
    return None


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


class JoinedCgroup:
    """`dirs`: the cgroup's directory in each joined hierarchy (one on v2).
    `oom_file`: memory.oom_control (v1) or memory.events (v2); None without memory controller."""

    __slots__ = ("parent", "name", "dirs", "oom_file", "failcnt_file", "version")

    def __init__(self, parent: str, name: str, dirs: list[str], oom_file: str | None,
                 failcnt_file: str | None = None, version: int = 2) -> None:
        self.parent = parent
        self.name = name
        self.dirs = dirs
        self.oom_file = oom_file
        self.failcnt_file = failcnt_file  # v1 kernels before 4.13 report no oom_kill
        self.version = version

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "name": self.name, "dirs": self.dirs,
                "oom_file": self.oom_file, "failcnt_file": self.failcnt_file, "version": self.version}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JoinedCgroup:
        return cls(d["parent"], d["name"], list(d["dirs"]), d.get("oom_file"), d.get("failcnt_file"),
                   int(d.get("version", 2)))

    def procs_files(self) -> list[str]:
        return [os.path.join(d, "cgroup.procs") for d in self.dirs]

    def self_join_files(self) -> list[str]:
        """The files a single-threaded process writes "0" into to move itself in cheaply:
        on v1 the `tasks` files. Moving one's own single thread skips the kernel's global
        threadgroup lock, whose first writer waits for an RCU grace period (5-20 ms; see
        cgroup_procs_write_start). [] on v2, where cgroup.threads cannot leave a domain."""
        return [os.path.join(d, "tasks") for d in self.dirs] if self.version == 1 else []

    def join_files(self) -> list[str]:
        """What a single-threaded process (an exec helper, a probe) writes "0" into to join:
        the cheap `tasks` files on v1, cgroup.procs on v2."""
        return self.self_join_files() or self.procs_files()

    def add_process(self, pid: int) -> None:
        """Move `pid` into this cgroup (every hierarchy). Raises OSError."""
        for path in self.procs_files():
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, str(pid).encode())
            finally:
                os.close(fd)

    def oom_kill_count(self) -> int:
        text = None if self.oom_file is None else _read(self.oom_file)
        if text is None:
            return 0
        count = parse_flat_keyed(text, "oom_kill")
        if count is None and self.failcnt_file is not None:
            return int((_read(self.failcnt_file) or "0").strip() or 0)
        return count or 0

    def is_empty(self) -> bool:
        """No process in the cgroup or any descendant (a missing directory counts as empty)."""
        stack = list(self.dirs)
        while stack:
            d = stack.pop()
            if parse_pids(_read(os.path.join(d, "cgroup.procs")) or ""):
                return False
            try:
                stack.extend(e.path for e in os.scandir(d) if e.is_dir(follow_symlinks=False))
            except FileNotFoundError:
                continue
        return True

    def kill_all(self) -> None:
        """SIGKILL whatever is left and wait until empty; a read or two when already empty."""
        if self.is_empty():
            return
        from runtime.cgroups import detect  # rare: only when something outlived PID 1

        cgroup = detect().open(self.parent, self.name)
        if cgroup is not None:
            cgroup.kill_all()


def describe(cgroup: Cgroup) -> JoinedCgroup:
    """Caller side: the hand-over for a cgroup a driver created."""
    from runtime.cgroups.v1 import V1Cgroup
    from runtime.cgroups.v2 import V2Cgroup

    if isinstance(cgroup, V1Cgroup):
        memory = cgroup.controller_dir("memory")
        return JoinedCgroup(cgroup.parent, cgroup.name, [str(d) for d in cgroup.dirs()],
                            None if memory is None else str(memory / "memory.oom_control"),
                            None if memory is None else str(memory / "memory.failcnt"), version=1)
    if isinstance(cgroup, V2Cgroup):
        return JoinedCgroup(cgroup.parent, cgroup.name, [str(cgroup.path)], str(cgroup.path / "memory.events"))
    raise TypeError(f"unknown cgroup type {type(cgroup).__name__}")
