"""cgroup v2 (unified hierarchy) driver."""

from __future__ import annotations

from pathlib import Path

from runtime.cgroups.base import (
    CgroupFS,
    CgroupStats,
    check_path_parts,
    check_resources,
    cpu_shares_to_weight,
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

# Enabled for every container's parent, in this order, when the hierarchy offers them.
CONTROLLERS = ("cpuset", "memory", "cpu", "io", "pids")
NO_SWAP_ACCOUNTING = (
    "your kernel does not support swap limit capabilities (memory.swap.max is missing): "
    "memory limited without swap"
)
NO_OOM_KILL_DISABLE = "oom_kill_disable is not supported on cgroup v2 (no such knob): the OOM killer stays on"


class V2Cgroup:
    def __init__(self, root: Path, parent: str, name: str, fs: CgroupFS) -> None:
        self.parent = parent
        self.name = name
        self._root = root
        self._parts = check_path_parts(parent, name)
        self.path = root.joinpath(*self._parts, name)
        self._fs = fs

    def __repr__(self) -> str:
        return f"V2Cgroup({str(self.path)!r})"

    def add_process(self, pid: int) -> None:
        self._fs.write(self.path / "cgroup.procs", str(pid))

    def procs(self) -> list[int]:
        return sorted(parse_pids(self._fs.read(self.path / "cgroup.procs")))

    def procs_files(self) -> list[Path]:
        return [self.path / "cgroup.procs"]

    def oom_kill_count(self) -> int:
        events = self.path / "memory.events"
        if not self._fs.exists(events):
            return 0  # no memory controller delegated here: nothing can be OOM-killed by us
        return parse_flat_keyed(self._fs.read(events), "oom_kill") or 0

    def kill_all(self) -> None:
        """cgroup.kill (kernel ≥ 5.14) kills the whole subtree at once; else freeze and kill."""
        if not self._fs.exists(self.path):
            return
        procs_files = [p / "cgroup.procs" for p in walk_bottom_up(self._fs, self.path)]
        freeze = self.path / "cgroup.freeze"
        if self._fs.exists(self.path / "cgroup.kill"):
            self._fs.write(self.path / "cgroup.kill", "1")
        elif self._fs.exists(freeze):
            self._fs.write(freeze, "1")  # no forks while we kill; the kill lands on thaw
            for procs in procs_files:
                for pid in parse_pids(self._fs.read(procs)):
                    self._fs.kill(pid)
            self._fs.write(freeze, "0")
        kill_until_empty(self._fs, procs_files, str(self.path))

    def freeze(self) -> None:
        """cgroup.freeze (kernel ≥ 5.2), then wait for "frozen 1" in cgroup.events."""
        freeze = self._freeze_file()
        self._fs.write(freeze, "1")
        try:
            wait_for(self._fs, self.is_frozen, f"freezing {self.path}")
        except CgroupError:
            self._fs.write(freeze, "0")  # never leave it half-frozen
            raise

    def thaw(self) -> None:
        self._fs.write(self._freeze_file(), "0")
        wait_for(self._fs, lambda: not self.is_frozen(), f"thawing {self.path}")

    def is_frozen(self) -> bool:
        events = self.path / "cgroup.events"
        return self._fs.exists(events) and parse_flat_keyed(self._fs.read(events), "frozen") == 1

    def _freeze_file(self) -> Path:
        freeze = self.path / "cgroup.freeze"
        if not self._fs.exists(freeze):
            raise CgroupError(f"cannot freeze {self.path}: no cgroup.freeze (the kernel is older than 5.2)")
        return freeze

    def stats(self) -> CgroupStats:
        usage = limit = None
        if self._fs.exists(self.path / "memory.current"):
            stat = parse_keyed(self._fs.read(self.path / "memory.stat"))
            usage = usage_without_cache(int(self._fs.read(self.path / "memory.current")), stat, "inactive_file")
            text = self._fs.read(self.path / "memory.max").strip()
            limit = None if text == "max" else int(text)
        cpu = parse_keyed(self._fs.read(self.path / "cpu.stat")).get("usage_usec")  # always there
        read = write = None
        if self._fs.exists(self.path / "io.stat"):
            read, write = _io_bytes(self._fs.read(self.path / "io.stat"))
        pids = self.path / "pids.current"
        return CgroupStats(
            cpu_usage_ns=None if cpu is None else cpu * 1000,
            memory_usage=usage,
            memory_limit=limit,
            pids=int(self._fs.read(pids)) if self._fs.exists(pids) else None,
            block_read=read,
            block_write=write,
        )

    def remove(self) -> None:
        self.kill_all()
        rmdir_tree(self._fs, self.path)
        rmdir_parents(self._fs, self._root, self._parts)


class V2Driver:
    version = 2

    def __init__(self, root: Path = Path("/sys/fs/cgroup"), fs: CgroupFS | None = None) -> None:
        self.root = root
        self._fs = fs or CgroupFS()

    def __repr__(self) -> str:
        return f"V2Driver({str(self.root)!r})"

    def available(self) -> list[str]:
        """Controllers the hierarchy offers at its root (cgroup.controllers)."""
        return self._fs.read(self.root / "cgroup.controllers").split()

    def create(self, parent: str, name: str, resources: Resources) -> V2Cgroup:
        parts = check_path_parts(parent, name)
        check_resources(resources)
        available = self.available()
        for controller in requested_controllers(resources):
            if controller not in available:
                raise CgroupError(
                    f"cannot apply the {controller} limit: the {controller!r} controller is not available "
                    f"in the cgroup v2 hierarchy at {self.root} (available: {' '.join(available) or 'none'}); "
                    "enable it there or run without this limit"
                )
        enable = [c for c in CONTROLLERS if c in available]
        cgroup = V2Cgroup(self.root, parent, name, self._fs)
        if self._fs.exists(cgroup.path) and cgroup.procs():
            raise CgroupError(f"cgroup {cgroup.path} already exists and has processes in it")

        def make() -> None:
            level = self.root
            self._enable(level, enable)
            for part in parts:
                level = level / part
                self._fs.mkdir(level)
                self._enable(level, enable)
            self._fs.mkdir(cgroup.path)

        retry_parent_race(make)
        try:
            self._apply(cgroup.path, resources)
        except BaseException:
            rmdir_tree(self._fs, cgroup.path)
            rmdir_parents(self._fs, self.root, parts)
            raise
        return cgroup

    def open(self, parent: str, name: str) -> V2Cgroup | None:
        cgroup = V2Cgroup(self.root, parent, name, self._fs)
        return cgroup if self._fs.exists(cgroup.path) else None

    def _enable(self, level: Path, controllers: list[str]) -> None:
        """Delegate controllers to children of `level`; write only what is missing."""
        current = self._fs.read(level / "cgroup.subtree_control").split()
        missing = [c for c in controllers if c not in current]
        if missing:
            self._fs.write(level / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))

    def _apply(self, path: Path, r: Resources) -> None:
        if r.memory_limit is not None:
            self._fs.write(path / "memory.max", str(r.memory_limit))
            extra = swap_beyond_memory(r)  # memory.swap.max counts swap alone, not memory + swap
            if self._fs.exists(path / "memory.swap.max"):
                self._fs.write(path / "memory.swap.max", "max" if extra is None else str(extra))
            elif r.memory_swap is not None:
                warn(NO_SWAP_ACCOUNTING)
        if r.memory_reservation is not None:
            self._fs.write(path / "memory.low", str(r.memory_reservation))
        if r.oom_kill_disable:
            warn(NO_OOM_KILL_DISABLE)
        if r.cpu_shares is not None:
            self._fs.write(path / "cpu.weight", str(cpu_shares_to_weight(r.cpu_shares)))
        if r.cpu_quota is not None or r.cpu_period != Resources().cpu_period:
            quota = "max" if r.cpu_quota is None else str(r.cpu_quota)
            self._fs.write(path / "cpu.max", f"{quota} {r.cpu_period}")
        if r.cpuset_cpus is not None:
            self._fs.write(path / "cpuset.cpus", r.cpuset_cpus)
        if r.pids_limit is not None:
            self._fs.write(path / "pids.max", str(r.pids_limit))
        self._fs.attach_device_filter(path, r.device_rules)


def _io_bytes(text: str) -> tuple[int, int]:
    """rbytes and wbytes of io.stat ("8:0 rbytes=4096 wbytes=0 rios=1 ..."), over all devices."""
    read = write = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            key, _, value = field.partition("=")
            if key == "rbytes":
                read += int(value)
            elif key == "wbytes":
                write += int(value)
    return read, write
