"""cgroup v1 driver: one directory per controller hierarchy, all at the same relative path."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from runtime.cgroups.base import (
    CgroupFS,
    CgroupStats,
    check_path_parts,
    check_resources,
    kill_until_empty,
    parse_keyed,
    requested_controllers,
    retry_parent_race,
    rmdir_parents,
    rmdir_tree,
    swap_beyond_memory,
    usage_without_cache,
    wait_for,
    walk_bottom_up,
    warn,
)
from runtime.cgroups.joined import parse_flat_keyed, parse_pids
from runtime.config import Resources
from runtime.errors import CgroupError

# Hierarchies a container joins, when mounted. A new cpuset cgroup is unusable until
# cpuset.cpus/mems are copied in from its parent (as runc does), which create() does.
# devices holds Docker's allow list (see runtime/security).
JOINED = ("memory", "cpu", "cpuacct", "pids", "freezer", "cpuset", "blkio", "devices")
FREEZE_WAIT = 1.0  # seconds; freezing only stops fork races, so we go on killing after this
UNLIMITED = 1 << 62  # memory.limit_in_bytes reads back 9223372036854771712 when unlimited
NO_SWAP_ACCOUNTING = (
    "your kernel does not support swap limit capabilities or the cgroup is not mounted "
    "(memory.memsw.limit_in_bytes is missing): memory limited without swap"
)


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

    def freeze(self) -> None:
        state = self._freezer_state()
        self._fs.write(state, "FROZEN")
        try:
            wait_for(self._fs, lambda: self._fs.read(state).strip() == "FROZEN", f"freezing {self!r}")
        except CgroupError:
            self._fs.write(state, "THAWED")  # never leave it half-frozen
            raise

    def thaw(self) -> None:
        self._fs.write(self._freezer_state(), "THAWED")

    def is_frozen(self) -> bool:
        freezer = self.controller_dir("freezer")
        state = None if freezer is None else freezer / "freezer.state"
        return state is not None and self._fs.exists(state) and self._fs.read(state).strip() == "FROZEN"

    def _freezer_state(self) -> Path:
        freezer = self.controller_dir("freezer")
        if freezer is None or not self._fs.exists(freezer / "freezer.state"):
            raise CgroupError(f"cannot freeze {self!r}: the freezer cgroup v1 controller is not mounted")
        return freezer / "freezer.state"

    def stats(self) -> CgroupStats:
        memory, cpuacct, pids, blkio = (self._existing(c) for c in ("memory", "cpuacct", "pids", "blkio"))
        usage = limit = None
        if memory is not None:
            raw = int(self._fs.read(memory / "memory.usage_in_bytes"))
            stat = parse_keyed(self._fs.read(memory / "memory.stat"))
            usage = usage_without_cache(raw, stat, "total_inactive_file")
            limit = int(self._fs.read(memory / "memory.limit_in_bytes"))
        read = write = None
        io_bytes = None if blkio is None else blkio / "blkio.throttle.io_service_bytes_recursive"
        if io_bytes is not None and self._fs.exists(io_bytes):  # the _recursive files came in 4.17
            read, write = _blkio_bytes(self._fs.read(io_bytes))
        return CgroupStats(
            cpu_usage_ns=None if cpuacct is None else int(self._fs.read(cpuacct / "cpuacct.usage")),
            memory_usage=usage,
            memory_limit=None if limit is None or limit >= UNLIMITED else limit,
            pids=None if pids is None else int(self._fs.read(pids / "pids.current")),
            block_read=read,
            block_write=write,
        )

    def _existing(self, controller: str) -> Path | None:
        path = self.controller_dir(controller)
        return path if path is not None and self._fs.exists(path) else None

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
                    if mount == self.mounts.get("cpuset"):
                        self._copy_cpuset(level)

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

    def _copy_cpuset(self, level: Path) -> None:
        """A new cpuset cgroup starts with empty cpus and mems (no task may join it): inherit
        the parent's, as runc's cpusetCopyIfNeeded does."""
        for name in ("cpuset.cpus", "cpuset.mems"):
            if not self._fs.read(level / name).strip():
                self._fs.write(level / name, self._fs.read(level.parent / name).strip())

    def _apply(self, cgroup: V1Cgroup, r: Resources) -> None:
        wanted = requested_controllers(r)
        if "memory" in wanted:
            self._apply_memory(_dir(cgroup, "memory"), r)
        if "cpu" in wanted:
            cpu = _dir(cgroup, "cpu")
            if r.cpu_shares is not None:
                self._fs.write(cpu / "cpu.shares", str(r.cpu_shares))
            self._fs.write(cpu / "cpu.cfs_period_us", str(r.cpu_period))
            if r.cpu_quota is not None:
                self._fs.write(cpu / "cpu.cfs_quota_us", str(r.cpu_quota))
        if r.cpuset_cpus is not None:
            self._fs.write(_dir(cgroup, "cpuset") / "cpuset.cpus", r.cpuset_cpus)
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

    def _apply_memory(self, memory: Path, r: Resources) -> None:
        if r.memory_limit is not None:
            self._set_memory(memory, r)
        if r.memory_reservation is not None:
            self._fs.write(memory / "memory.soft_limit_in_bytes", str(r.memory_reservation))
        if r.oom_kill_disable:
            self._fs.write(memory / "memory.oom_control", "1")

    def _set_memory(self, memory: Path, r: Resources) -> None:
        """memory.limit_in_bytes and memory.memsw.limit_in_bytes (memory + swap; the same
        value forbids swap, -1 leaves it unlimited).

        The kernel requires limit ≤ memsw at every step: memsw goes first when the new memsw
        is at least the current limit (always true for a new cgroup's unlimited values).
        """
        assert r.memory_limit is not None
        limit_file = memory / "memory.limit_in_bytes"
        memsw_file = memory / "memory.memsw.limit_in_bytes"
        if not self._fs.exists(memsw_file):  # no swap accounting (swapaccount=0)
            if r.memory_swap is not None:
                warn(NO_SWAP_ACCOUNTING)
            self._fs.write(limit_file, str(r.memory_limit))
            return
        extra = swap_beyond_memory(r)
        memsw = -1 if extra is None else r.memory_limit + extra
        current_limit = int(self._fs.read(limit_file).strip())
        if memsw == -1 or memsw >= current_limit:
            order = ((memsw_file, memsw), (limit_file, r.memory_limit))
        else:
            order = ((limit_file, r.memory_limit), (memsw_file, memsw))
        for path, value in order:
            self._fs.write(path, str(value))


def _blkio_bytes(text: str) -> tuple[int, int]:
    """Read and Write totals of blkio.throttle.io_service_bytes_recursive ("8:0 Read 4096")."""
    totals = {"Read": 0, "Write": 0}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in totals:
            totals[fields[1]] += int(fields[2])
    return totals["Read"], totals["Write"]


def _dir(cgroup: V1Cgroup, controller: str) -> Path:
    path = cgroup.controller_dir(controller)
    assert path is not None, "create() checked the controller is mounted"
    return path
