"""cgroup v1 driver: one directory per controller hierarchy, all at the same relative path."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from runtime.cgroups.base import (
    CgroupFS,
    check_path_parts,
    check_resources,
    kill_until_empty,
    requested_controllers,
    retry_parent_race,
    rmdir_parents,
    rmdir_tree,
    walk_bottom_up,
)
from runtime.cgroups.joined import parse_flat_keyed, parse_pids
from runtime.config import Resources
from runtime.errors import CgroupError

# Hierarchies a container joins, when mounted. cpuset is left out on purpose: a new cpuset
# cgroup is unusable until cpuset.cpus/mems are copied in, and we set no cpuset limits.
JOINED = ("memory", "cpu", "cpuacct", "pids", "freezer", "devices")
FREEZE_WAIT = 1.0  # seconds; freezing only stops fork races, so we go on killing after this


class V1Cgroup:
    def __init__(self, mounts: Mapping[str, Path], parent: str, name: str, fs: CgroupFS) -> None:
        self.parent = parent
        self.name = name
        self._parts = check_path_parts(parent, name)
        self._mounts = dict(mounts)
        self._fs = fs

    def __repr__(self) -> str:
        return f"V1Cgroup({'/'.join((*self._parts, self.name))!r})"

    def hierarchies(self) -> list[Path]:
        """Mount points of the joined hierarchies, once each (co-mounted cpu,cpuacct count once)."""
        return list(dict.fromkeys(self._mounts[c] for c in JOINED if c in self._mounts))

    def dirs(self) -> list[Path]:
        return [m.joinpath(*self._parts, self.name) for m in self.hierarchies()]

    def controller_dir(self, controller: str) -> Path | None:
        mount = self._mounts.get(controller)
        return None if mount is None else mount.joinpath(*self._parts, self.name)

    def add_process(self, pid: int) -> None:
        for procs in self.procs_files():
            self._fs.write(procs, str(pid))

    def procs(self) -> list[int]:
        files = [p for p in self.procs_files() if self._fs.exists(p)]  # a half-created leftover
        return sorted(set().union(*(parse_pids(self._fs.read(p)) for p in files)))

    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs()]

    def oom_kill_count(self) -> int:
        memory = self.controller_dir("memory")
        if memory is None or not self._fs.exists(memory):
            return 0
        count = parse_flat_keyed(self._fs.read(memory / "memory.oom_control"), "oom_kill")
        if count is None:  # kernels before 4.13 do not report oom_kill
            return int(self._fs.read(memory / "memory.failcnt").strip() or 0)
        return count

    def kill_all(self) -> None:
        """Freeze (if the freezer is joined), SIGKILL everything, thaw, wait until empty."""
        procs_files = [
            p / "cgroup.procs"
            for d in self.dirs()
            if self._fs.exists(d)
            for p in walk_bottom_up(self._fs, d)
        ]
        if not procs_files:
            return
        freezer = self.controller_dir("freezer")
        state = None if freezer is None else freezer / "freezer.state"
        if state is not None and self._fs.exists(state):
            self._freeze(state)
            for procs in procs_files:
                for pid in parse_pids(self._fs.read(procs)):
                    self._fs.kill(pid)
            self._fs.write(state, "THAWED")
        kill_until_empty(self._fs, procs_files, repr(self))

    def _freeze(self, state: Path) -> None:
        self._fs.write(state, "FROZEN")
        deadline = time.monotonic() + FREEZE_WAIT
        while self._fs.read(state).strip() != "FROZEN" and time.monotonic() < deadline:
            self._fs.sleep(0.005)

    def remove(self) -> None:
        self.kill_all()
        for mount in self.hierarchies():
            rmdir_tree(self._fs, mount.joinpath(*self._parts, self.name))
        for mount in self.hierarchies():
            rmdir_parents(self._fs, mount, self._parts)


class V1Driver:
    version = 1

    def __init__(self, mounts: Mapping[str, Path], fs: CgroupFS | None = None) -> None:
        """`mounts` maps each v1 controller name to its hierarchy's mount point."""
        self.mounts = dict(mounts)
        self._fs = fs or CgroupFS()

    def __repr__(self) -> str:
        return f"V1Driver({ {c: str(p) for c, p in self.mounts.items()} })"

    def create(self, parent: str, name: str, resources: Resources) -> V1Cgroup:
        parts = check_path_parts(parent, name)
        check_resources(resources)
        for controller in requested_controllers(resources):
            if controller not in self.mounts:
                raise CgroupError(
                    f"cannot apply the {controller} limit: the {controller!r} cgroup v1 controller is not "
                    f"mounted (mounted: {' '.join(sorted(self.mounts)) or 'none'}); "
                    "mount it or run without this limit"
                )
        cgroup = V1Cgroup(self.mounts, parent, name, self._fs)
        if not cgroup.hierarchies():
            raise CgroupError(f"none of the cgroup v1 controllers {', '.join(JOINED)} is mounted")
        if self.open(parent, name) is not None and cgroup.procs():
            raise CgroupError(f"cgroup {cgroup!r} already exists and has processes in it")

        def make() -> None:
            for mount in cgroup.hierarchies():
                level = mount
                for part in (*parts, name):
                    level = level / part
                    self._fs.mkdir(level)

        try:
            retry_parent_race(make)
            self._apply(cgroup, resources)
        except BaseException:
            for mount in cgroup.hierarchies():
                rmdir_tree(self._fs, mount.joinpath(*parts, name))
                rmdir_parents(self._fs, mount, parts)
            raise
        return cgroup

    def open(self, parent: str, name: str) -> V1Cgroup | None:
        cgroup = V1Cgroup(self.mounts, parent, name, self._fs)
        return cgroup if any(self._fs.exists(d) for d in cgroup.dirs()) else None

    def _apply(self, cgroup: V1Cgroup, r: Resources) -> None:
        wanted = requested_controllers(r)
        if r.memory_limit is not None:
            self._set_memory(_dir(cgroup, "memory"), r.memory_limit)
        if "cpu" in wanted:
            cpu = _dir(cgroup, "cpu")
            self._fs.write(cpu / "cpu.cfs_period_us", str(r.cpu_period))
            if r.cpu_quota is not None:
                self._fs.write(cpu / "cpu.cfs_quota_us", str(r.cpu_quota))
        if r.pids_limit is not None:
            self._fs.write(_dir(cgroup, "pids") / "pids.max", str(r.pids_limit))
        self._set_devices(cgroup, r.device_rules)

    def _set_devices(self, cgroup: V1Cgroup, rules: tuple[str, ...]) -> None:
        """Deny every device, then allow `rules` (runtime/security/devices.py)."""
        devices = cgroup.controller_dir("devices")
        if devices is None:
            return
        self._fs.write(devices / "devices.deny", "a")
        for rule in rules:
            self._fs.write(devices / "devices.allow", rule)

    def _set_memory(self, memory: Path, limit: int) -> None:
        """memory.limit_in_bytes and, to forbid swap, memory.memsw.limit_in_bytes to the same value.

        The kernel requires limit ≤ memsw at every step: raise memsw first when growing past it.
        """
        limit_file = memory / "memory.limit_in_bytes"
        memsw_file = memory / "memory.memsw.limit_in_bytes"
        if not self._fs.exists(memsw_file):  # no swap accounting (swapaccount=0)
            self._fs.write(limit_file, str(limit))
            return
        if limit > int(self._fs.read(memsw_file).strip()):
            order = (memsw_file, limit_file)
        else:
            order = (limit_file, memsw_file)
        for path in order:
            self._fs.write(path, str(limit))


def _dir(cgroup: V1Cgroup, controller: str) -> Path:
    path = cgroup.controller_dir(controller)
    assert path is not None, "create() checked the controller is mounted"
    return path
