"""The cgroup interface shared by the v1 and v2 drivers, and the filesystem seam under both.

Every touch of cgroupfs (and every signal sent) goes through `CgroupFS`, so unit tests can
swap in a fake kernel that records the exact files written, in order, without root.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from runtime.cgroups.joined import parse_pids
from runtime.config import Resources
from runtime.errors import CgroupError

# Lower than this the kernel rejects cpu.cfs_quota_us / cpu.max (1 ms), higher than 1 s too.
MIN_CPU_US = 1_000
MIN_CPU_SHARES, MAX_CPU_SHARES = 2, 262_144  # the kernel's range for cpu.shares
MAX_CPU_PERIOD_US = 1_000_000
T = TypeVar("T")
KILL_TIMEOUT = 10.0  # seconds to wait for a killed cgroup to become empty
FREEZE_TIMEOUT = 10.0  # seconds to wait for the kernel to report a cgroup frozen


class Cgroup(Protocol):
    """One container's cgroup (on v1: the same path in every joined hierarchy)."""

    parent: str
    name: str

    def add_process(self, pid: int) -> None:
        """Move `pid` in (0 = the calling process)."""

    def procs(self) -> list[int]:
        """Pids in this cgroup, sorted, without duplicates."""

    def oom_kill_count(self) -> int:
        """How many processes the kernel OOM-killed here (0 without a memory controller)."""

    def kill_all(self) -> None:
        """SIGKILL every process in this cgroup and its descendants; wait until empty."""

    def remove(self) -> None:
        """kill_all, remove the cgroup, and the parent too if that left it empty. Idempotent."""

    def procs_files(self) -> list[Path]:
        """The cgroup.procs files a process writes "0" into to join (one per v1 hierarchy)."""

    def freeze(self) -> None:
        """Stop every process here (freezer), returning once the kernel reports them frozen."""

    def thaw(self) -> None:
        """Let frozen processes run again."""

    def is_frozen(self) -> bool:
        """Whether the cgroup is frozen (False without a freezer)."""

    def stats(self) -> CgroupStats:
        """Counters for `stats`: CPU time, memory, pids, block I/O."""


@dataclass(frozen=True)
class CgroupStats:
    """One sample of a cgroup's counters; None where the controller is not there."""

    cpu_usage_ns: int | None = None  # total CPU time used, nanoseconds
    memory_usage: int | None = None  # bytes, without the inactive page cache (as docker stats)
    memory_limit: int | None = None  # bytes; None when unlimited
    pids: int | None = None
    block_read: int | None = None  # bytes
    block_write: int | None = None


class CgroupDriver(Protocol):
    version: int

    def create(self, parent: str, name: str, resources: Resources) -> Cgroup:
        """Create `<parent>/<name>` (and the parent if needed) and apply `resources`."""

    def open(self, parent: str, name: str) -> Cgroup | None:
        """The existing cgroup `<parent>/<name>`, or None."""


class CgroupFS:
    """The real kernel: cgroupfs files and signals. Subclassed by the unit tests' fake."""

    def exists(self, path: Path) -> bool:
        return path.exists()

    def read(self, path: Path) -> str:
        try:
            return path.read_text()
        except OSError as e:
            raise CgroupError(f"cannot read {path}: {e.strerror}") from e

    def write(self, path: Path, value: str) -> None:
        """One write(2) of `value`, as cgroupfs requires; never creates the file."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, value.encode())
            finally:
                os.close(fd)
        except OSError as e:
            raise CgroupError(f"cannot write {value!r} to {path}: {_explain(e)}") from e

    def attach_device_filter(self, path: Path, rules: tuple[str, ...]) -> None:
        """cgroup v2's devices controller is an eBPF program (runtime/security/devfilter.py)."""
        from runtime.security.devfilter import attach

        try:
            attach(str(path), rules)
        except (OSError, ValueError) as e:
            raise CgroupError(f"cannot restrict the devices of {path}: {e}") from e

    def mkdir(self, path: Path) -> None:
        try:
            path.mkdir(exist_ok=True)
        except OSError as e:
            raise CgroupError(f"cannot create cgroup {path}: {e.strerror}") from e

    def rmdir(self, path: Path) -> None:
        os.rmdir(path)

    def subdirs(self, path: Path) -> list[Path]:
        try:
            return [p for p in path.iterdir() if p.is_dir()]
        except FileNotFoundError:
            return []

    def kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _explain(e: OSError) -> str:
    if e.errno == errno.EBUSY:
        return f"{e.strerror} (a cgroup with processes in it cannot hand controllers to children)"
    if e.errno == errno.EINVAL:
        return f"{e.strerror} (the kernel rejected the value)"
    return e.strerror or str(e)


def check_path_parts(parent: str, name: str) -> tuple[str, ...]:
    """Validate `parent` (relative, may be nested "a/b") and `name` (one segment)."""
    parts = tuple(p for p in parent.split("/") if p)
    if not parts or parent.startswith("/"):
        raise CgroupError(
            f"invalid cgroup parent {parent!r}: use a relative path such as 'pycompose'"
        )
    for part in (*parts, name):
        if part in (".", "..") or "/" in part or not part or "\0" in part:
            raise CgroupError(f"invalid cgroup path component {part!r} in {parent!r}/{name!r}")
    return parts


def check_resources(resources: Resources) -> None:
    """Reject values the kernel would reject, with a message naming the setting."""
    if resources.memory_limit is not None and resources.memory_limit <= 0:
        raise CgroupError(
            f"memory limit must be a positive number of bytes, got {resources.memory_limit}"
        )
    if not MIN_CPU_US <= resources.cpu_period <= MAX_CPU_PERIOD_US:
        raise CgroupError(
            f"cpu period must be between {MIN_CPU_US} and {MAX_CPU_PERIOD_US} µs, got {resources.cpu_period}"
        )
    if resources.cpu_quota is not None and resources.cpu_quota < MIN_CPU_US:
        raise CgroupError(f"cpu quota must be at least {MIN_CPU_US} µs, got {resources.cpu_quota}")
    if resources.pids_limit is not None and resources.pids_limit < 1:
        raise CgroupError(f"pids limit must be at least 1, got {resources.pids_limit}")
    _check_memory(resources)
    if resources.cpu_shares is not None and not MIN_CPU_SHARES <= resources.cpu_shares <= MAX_CPU_SHARES:
        raise CgroupError(
            f"cpu shares must be between {MIN_CPU_SHARES} and {MAX_CPU_SHARES}, got {resources.cpu_shares}"
        )
    if resources.cpuset_cpus is not None and not CPUSET.fullmatch(resources.cpuset_cpus):
        raise CgroupError(f"invalid cpuset {resources.cpuset_cpus!r}: use a list of CPUs such as '0-2,4'")


CPUSET = re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*")


def _check_memory(r: Resources) -> None:
    """Docker's rules (daemon verifyPlatformContainerResources): swap needs a memory limit,
    at least as large; a reservation, if both are set, at most the limit."""
    if r.memory_reservation is not None and r.memory_reservation <= 0:
        raise CgroupError(f"memory reservation must be a positive number of bytes, got {r.memory_reservation}")
    if r.memory_swap is not None and r.memory_swap != -1:
        if r.memory_limit is None:
            raise CgroupError("a memory+swap limit needs a memory limit too (set mem_limit)")
        if r.memory_swap < r.memory_limit:
            raise CgroupError(
                f"the memory+swap limit ({r.memory_swap}) must be at least the memory limit ({r.memory_limit})"
            )
    if r.memory_limit is not None and r.memory_reservation is not None and r.memory_reservation > r.memory_limit:
        raise CgroupError(
            f"the memory reservation ({r.memory_reservation}) must not be more than the memory limit ({r.memory_limit})"
        )


def swap_beyond_memory(r: Resources) -> int | None:
    """Bytes of swap allowed on top of memory: 0 by default, None for unlimited (-1)."""
    if r.memory_swap is None:
        return 0
    if r.memory_swap == -1:
        return None
    assert r.memory_limit is not None, "check_resources refuses swap without a memory limit"
    return r.memory_swap - r.memory_limit


def cpu_shares_to_weight(shares: int) -> int:
    """cgroup v1 cpu.shares [2, 262144] → v2 cpu.weight [1, 10000], linearly, as runc does
    (libcontainer/cgroups ConvertCPUSharesToCgroupV2Value) and crun's man page documents it
    ("cgroup v2" section): 1 + ((shares - 2) * 9999) / 262142; 1024 (the v1 default) → 39."""
    return 1 + ((shares - 2) * 9999) // 262142


def requested_controllers(resources: Resources) -> list[str]:
    """Controllers the given limits need; cpu also when only the period differs from default."""
    r = resources
    wanted = []
    if r.memory_limit is not None or r.memory_reservation is not None or r.oom_kill_disable:
        wanted.append("memory")
    if r.cpu_quota is not None or r.cpu_period != Resources().cpu_period or r.cpu_shares is not None:
        wanted.append("cpu")
    if r.cpuset_cpus is not None:
        wanted.append("cpuset")
    if r.pids_limit is not None:
        wanted.append("pids")
    return wanted


def wait_for(fs: CgroupFS, done: Callable[[], bool], what: str, timeout: float | None = None) -> None:
    """Poll `done` until true; CgroupError naming `what` after `timeout` (FREEZE_TIMEOUT) seconds."""
    timeout = FREEZE_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not done():
        if time.monotonic() > deadline:
            raise CgroupError(f"{what} did not happen within {timeout:.0f}s")
        fs.sleep(delay)
        delay = min(delay * 2, 0.02)


def warn(message: str) -> None:
    """A setting the kernel cannot honour here: said on stderr, as dockerd's warnings."""
    print(f"WARN: {message}", file=sys.stderr, flush=True)


def parse_keyed(text: str) -> dict[str, int]:
    """"key value" lines (memory.stat, cpu.stat) as a dict; other lines are skipped."""
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("-").isdigit():
            out[fields[0]] = int(fields[1])
    return out


def usage_without_cache(usage: int, stat: dict[str, int], key: str) -> int:
    """docker stats' memory figure: usage less the inactive page cache (CLI calculateMemUsageUnixNoCache)."""
    inactive = stat.get(key)
    return usage - inactive if inactive is not None and inactive < usage else usage


def walk_bottom_up(fs: CgroupFS, top: Path) -> list[Path]:
    """`top` and every descendant cgroup directory, deepest first (rmdir order)."""
    out: list[Path] = []
    for child in fs.subdirs(top):
        out.extend(walk_bottom_up(fs, child))
    out.append(top)
    return out


def kill_until_empty(
    fs: CgroupFS, procs_files: list[Path], what: str, timeout: float | None = None
) -> None:
    """SIGKILL whatever the cgroup.procs files list, again and again, until all are empty.

    Repeating catches children forked between a read and a kill when nothing froze the cgroup;
    killing a pid already dying is harmless. CgroupError after `timeout`.
    """
    timeout = KILL_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        left = set().union(*(parse_pids(fs.read(p)) for p in procs_files if fs.exists(p)))
        if not left:
            return
        if time.monotonic() > deadline:
            raise CgroupError(
                f"processes {sorted(left)} in cgroup {what} did not exit within {timeout:.0f}s of SIGKILL "
                "(stuck in uninterruptible sleep?)"
            )
        for pid in left:
            fs.kill(pid)
        fs.sleep(delay)
        delay = min(delay * 2, 0.05)


def rmdir_tree(fs: CgroupFS, top: Path) -> None:
    """Remove `top` and its descendant cgroups; a missing tree is fine (idempotent)."""
    for path in walk_bottom_up(fs, top):
        for attempt in range(50):
            try:
                fs.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                # A just-killed cgroup can report EBUSY for a moment while tasks finish exiting.
                if e.errno != errno.EBUSY or attempt == 49:
                    raise CgroupError(f"cannot remove cgroup {path}: {e.strerror}") from e
                fs.sleep(0.01)


def rmdir_parents(fs: CgroupFS, root: Path, parts: tuple[str, ...]) -> None:
    """Remove the parent chain below `root`, deepest first, while each is empty."""
    for depth in range(len(parts), 0, -1):
        try:
            fs.rmdir(root.joinpath(*parts[:depth]))
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno in (errno.EBUSY, errno.ENOTEMPTY):
                return  # still in use by a sibling container (or one being created right now)
            raise CgroupError(
                f"cannot remove cgroup {root.joinpath(*parts[:depth])}: {e.strerror}"
            ) from e


def retry_parent_race(make: Callable[[], T], attempts: int = 3) -> T:
    """Run `make` again if the shared parent vanished under it: a sibling container's remove()
    deletes the parent when it looks empty, which can happen between our mkdirs."""
    for attempt in range(attempts):
        try:
            return make()
        except CgroupError as e:
            if attempt == attempts - 1 or not isinstance(e.__cause__, FileNotFoundError):
                raise
    raise AssertionError("unreachable")
