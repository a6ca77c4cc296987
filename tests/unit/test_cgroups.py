"""v1 and v2 drivers against a fake kernel: the exact cgroupfs writes, their order, the errors."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from runtime.cgroups import CgroupFS, V1Driver, V2Driver
from runtime.config import Resources
from runtime.errors import CgroupError
from runtime.security.devices import DEFAULT_DEVICE_RULES

UNLIMITED = "9223372036854771712"
V1_FILES = {
    "memory": {
        "memory.limit_in_bytes": UNLIMITED,
        "memory.memsw.limit_in_bytes": UNLIMITED,
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
        "memory.failcnt": "0",
        "memory.soft_limit_in_bytes": UNLIMITED,
        "memory.usage_in_bytes": "0",
        "memory.stat": "cache 0\ntotal_inactive_file 0\n",
    },
    "cpu": {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1", "cpu.shares": "1024"},
    "cpuacct": {"cpuacct.usage": "0"},
    "pids": {"pids.max": "max", "pids.current": "0"},
    "freezer": {"freezer.state": "THAWED"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "blkio": {"blkio.throttle.io_service_bytes_recursive": "Total 0\n"},
}
V1_HOST_CPUSET = {"cpuset.cpus": "0-1", "cpuset.mems": "0"}
V2_FILES = {
    "cgroup.procs": "",
    "cgroup.controllers": "",
    "cgroup.subtree_control": "",
    "cgroup.kill": "",
    "cgroup.freeze": "0",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "memory.max": "max",
    "memory.low": "0",
    "memory.current": "0",
    "memory.stat": "anon 0\ninactive_file 0\n",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
    "cpu.weight": "100",
    "cpuset.cpus": "",
    "io.stat": "",
    "pids.current": "0",
    "memory.swap.max": "max",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
    "cpu.max": "max 100000",
    "pids.max": "max",
}


class FakeKernel(CgroupFS):
    """cgroupfs in a temp dir: mkdir populates control files, writes are recorded."""

    def __init__(self, base: Path, files_for: dict[Path, dict[str, str]]) -> None:
        self.base = base
        self.files_for = files_for  # hierarchy mount point -> control files of a new cgroup
        self.writes: list[tuple[str, str]] = []
        self.killed: list[int] = []
        self.next_pid = 1000
        self.device_filters: list[tuple[str, tuple[str, ...]]] = []

    def attach_device_filter(self, path: Path, rules: tuple[str, ...]) -> None:
        self.device_filters.append((self.rel(path), rules))

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.base))

    def mkdir(self, path: Path) -> None:
        if path.exists():
            return
        path.mkdir()
        mount = next(m for m in self.files_for if m in path.parents)
        for name, content in {"cgroup.procs": "", **self.files_for[mount]}.items():
            (path / name).write_text(content)

    def write(self, path: Path, value: str) -> None:
        if not path.exists():
            raise CgroupError(f"cannot write {value!r} to {path}: No such file or directory")
        self.writes.append((self.rel(path), value))
        if path.name == "cgroup.procs":
            pid = int(value) or self.next_pid
            path.write_text(path.read_text() + f"{pid}\n")
        elif path.name == "cgroup.kill":
            for procs in path.parent.rglob("cgroup.procs"):
                procs.write_text("")
        elif path.name == "cgroup.freeze":
            path.write_text(value)
            events = path.parent / "cgroup.events"
            events.write_text(f"populated 0\nfrozen {value}\n")
        elif path.name == "cgroup.subtree_control":
            current = path.read_text().split()
            path.write_text(" ".join(current + [v.lstrip("+") for v in value.split()]))
        else:
            path.write_text(value)

    def rmdir(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        if (path / "cgroup.procs").read_text().strip() or any(p.is_dir() for p in path.iterdir()):
            raise OSError(errno.EBUSY, "Device or resource busy", str(path))
        self.writes.append((self.rel(path), "<rmdir>"))
        shutil.rmtree(path)

    def kill(self, pid: int) -> None:
        self.killed.append(pid)
        for procs in self.base.rglob("cgroup.procs"):
            procs.write_text("".join(f"{p}\n" for p in procs.read_text().split() if int(p) != pid))

    def sleep(self, seconds: float) -> None:
        pass


@pytest.fixture
def v1(tmp_path: Path) -> tuple[V1Driver, FakeKernel]:
    mounts = {c: tmp_path / c for c in V1_FILES}
    for mount in mounts.values():
        mount.mkdir()
        (mount / "cgroup.procs").write_text("1\n")
    for name, value in V1_HOST_CPUSET.items():
        (mounts["cpuset"] / name).write_text(value)
    kernel = FakeKernel(tmp_path, {mounts[c]: dict(files) for c, files in V1_FILES.items()})
    return V1Driver(mounts, kernel), kernel


@pytest.fixture
def v2(tmp_path: Path) -> tuple[V2Driver, FakeKernel]:
    root = tmp_path / "unified"
    root.mkdir()
    for name, content in V2_FILES.items():
        (root / name).write_text(content)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("cpu")
    return V2Driver(root, kernel := FakeKernel(tmp_path, {root: dict(V2_FILES)})), kernel


LIMITS = Resources(memory_limit=64 << 20, cpu_quota=50_000, cpu_period=100_000, pids_limit=100)


def limit_writes(kernel: FakeKernel) -> list[tuple[str, str]]:
    """The writes without v1's copying of the parent's cpuset into each new cpuset cgroup."""
    return [w for w in kernel.writes if not (w[0].startswith("cpuset/") and (w[0].rsplit("/", 1)[1], w[1]) in V1_HOST_CPUSET.items())]


# ---- v1 ----


def test_v1_create_writes_limits_in_order_and_joins_every_hierarchy(v1) -> None:
    driver, kernel = v1
    cg = driver.create("pyc", "c1", LIMITS)
    assert kernel.writes == [
        # a new cpuset cgroup inherits its parent's cpus and mems, level by level
        ("cpuset/pyc/cpuset.cpus", "0-1"),
        ("cpuset/pyc/cpuset.mems", "0"),
        ("cpuset/pyc/c1/cpuset.cpus", "0-1"),
        ("cpuset/pyc/c1/cpuset.mems", "0"),
        ("memory/pyc/c1/memory.limit_in_bytes", str(64 << 20)),  # memsw ≥ limit at every step
        ("memory/pyc/c1/memory.memsw.limit_in_bytes", str(64 << 20)),
        ("cpu/pyc/c1/cpu.cfs_period_us", "100000"),
        ("cpu/pyc/c1/cpu.cfs_quota_us", "50000"),
        ("pids/pyc/c1/pids.max", "100"),
    ]
    assert [kernel.rel(p) for p in cg.procs_files()] == [
        f"{c}/pyc/c1/cgroup.procs" for c in ("memory", "cpu", "cpuacct", "pids", "freezer", "cpuset", "blkio")
    ]


def test_v1_memsw_is_raised_first_when_growing_past_it(v1) -> None:
    driver, kernel = v1
    driver.create("pyc", "c1", Resources(memory_limit=32 << 20))
    kernel.writes.clear()
    driver.create("pyc", "c1", Resources(memory_limit=128 << 20))
    assert [w[0].rsplit("/", 1)[1] for w in limit_writes(kernel)] == [
        "memory.memsw.limit_in_bytes",
        "memory.limit_in_bytes",
    ]


def test_v1_limit_goes_first_when_shrinking_below_the_current_limit(v1) -> None:
    driver, kernel = v1
    driver.create("pyc", "c1", Resources(memory_limit=128 << 20))
    kernel.writes.clear()
    driver.create("pyc", "c1", Resources(memory_limit=32 << 20, memory_swap=64 << 20))
    assert limit_writes(kernel) == [
        ("memory/pyc/c1/memory.limit_in_bytes", str(32 << 20)),
        ("memory/pyc/c1/memory.memsw.limit_in_bytes", str(64 << 20)),
    ]


def test_v1_swap_reservation_shares_cpuset_and_oom_kill_disable(v1) -> None:
    driver, kernel = v1
    driver.create("pyc", "c1", Resources(
        memory_limit=32 << 20, memory_swap=-1, memory_reservation=16 << 20, oom_kill_disable=True,
        cpu_shares=512, cpuset_cpus="1",
    ))
    assert limit_writes(kernel) == [
        ("memory/pyc/c1/memory.memsw.limit_in_bytes", "-1"),
        ("memory/pyc/c1/memory.limit_in_bytes", str(32 << 20)),
        ("memory/pyc/c1/memory.soft_limit_in_bytes", str(16 << 20)),
        ("memory/pyc/c1/memory.oom_control", "1"),
        ("cpu/pyc/c1/cpu.shares", "512"),
        ("cpu/pyc/c1/cpu.cfs_period_us", "100000"),
        ("cpuset/pyc/c1/cpuset.cpus", "1"),
    ]


def test_v1_swap_without_swap_accounting_is_a_warning(v1, capsys: pytest.CaptureFixture[str]) -> None:
    driver, kernel = v1
    del kernel.files_for[driver.mounts["memory"]]["memory.memsw.limit_in_bytes"]
    driver.create("pyc", "c1", Resources(memory_limit=32 << 20, memory_swap=64 << 20))
    assert limit_writes(kernel) == [("memory/pyc/c1/memory.limit_in_bytes", str(32 << 20))]
    assert "does not support swap limit" in capsys.readouterr().err


def test_v1_without_swap_accounting_sets_only_the_memory_limit(v1) -> None:
    driver, kernel = v1
    del kernel.files_for[driver.mounts["memory"]]["memory.memsw.limit_in_bytes"]
    driver.create("pyc", "c1", Resources(memory_limit=32 << 20))
    assert limit_writes(kernel) == [("memory/pyc/c1/memory.limit_in_bytes", str(32 << 20))]


def test_v1_no_limits_writes_nothing_and_period_alone_sets_period(v1) -> None:
    driver, kernel = v1
    driver.create("pyc", "c1", Resources())
    assert limit_writes(kernel) == []
    driver.create("pyc", "c2", Resources(cpu_period=50_000))
    assert limit_writes(kernel) == [("cpu/pyc/c2/cpu.cfs_period_us", "50000")]


def test_v1_limit_without_its_controller_is_a_clear_error_and_creates_nothing(v1) -> None:
    driver, kernel = v1
    del driver.mounts["pids"]
    with pytest.raises(CgroupError, match=r"the 'pids' cgroup v1 controller is not mounted"):
        driver.create("pyc", "c1", Resources(pids_limit=5))
    assert not any((kernel.base / c / "pyc").exists() for c in V1_FILES)


def test_v1_a_rejected_value_names_the_file_and_rolls_back(v1) -> None:
    driver, kernel = v1
    del kernel.files_for[driver.mounts["pids"]]["pids.max"]
    with pytest.raises(CgroupError, match=r"cannot write '7' to .*/pids/pyc/c1/pids\.max"):
        driver.create("pyc", "c1", Resources(pids_limit=7))
    assert not any((kernel.base / c / "pyc").exists() for c in V1_FILES)


def test_v1_add_process_procs_oom_and_open(v1) -> None:
    driver, kernel = v1
    cg = driver.create("pyc", "c1", Resources())
    cg.add_process(4242)
    cg.add_process(0)
    assert cg.procs() == [1000, 4242]
    assert driver.open("pyc", "c1") is not None and driver.open("pyc", "nope") is None
    oom = kernel.base / "memory/pyc/c1/memory.oom_control"
    oom.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert cg.oom_kill_count() == 3
    oom.write_text("oom_kill_disable 0\nunder_oom 0\n")
    (kernel.base / "memory/pyc/c1/memory.failcnt").write_text("5\n")
    assert cg.oom_kill_count() == 5


def test_v1_kill_all_freezes_kills_thaws(v1) -> None:
    driver, kernel = v1
    cg = driver.create("pyc", "c1", Resources())
    cg.add_process(11)
    cg.add_process(12)
    kernel.writes.clear()
    cg.kill_all()
    assert kernel.writes == [
        ("freezer/pyc/c1/freezer.state", "FROZEN"),
        ("freezer/pyc/c1/freezer.state", "THAWED"),
    ]
    assert sorted(kernel.killed) == [11, 12]
    assert cg.procs() == []


def test_v1_remove_kills_removes_nested_and_empty_parent_and_is_idempotent(v1) -> None:
    driver, kernel = v1
    cg = driver.create("pyc", "c1", Resources())
    other = driver.create("pyc", "c2", Resources())
    cg.add_process(11)
    kernel.mkdir(kernel.base / "memory/pyc/c1/nested")
    (kernel.base / "memory/pyc/c1/nested/cgroup.procs").write_text("12\n")
    cg.remove()
    assert sorted(set(kernel.killed)) == [11, 12]
    assert not any((kernel.base / c / "pyc/c1").exists() for c in V1_FILES)
    assert (kernel.base / "memory/pyc").exists()  # c2 still lives there
    other.remove()
    other.remove()
    assert not any((kernel.base / c / "pyc").exists() for c in V1_FILES)


def test_create_refuses_a_cgroup_that_already_has_processes(v1) -> None:
    driver, _ = v1
    driver.create("pyc", "c1", Resources()).add_process(11)
    with pytest.raises(CgroupError, match="already exists and has processes"):
        driver.create("pyc", "c1", Resources())


# ---- v2 ----


def test_v2_create_delegates_controllers_then_writes_limits(v2) -> None:
    driver, kernel = v2
    cg = driver.create("pyc/sub", "c1", LIMITS)
    assert kernel.writes == [
        ("unified/cgroup.subtree_control", "+cpuset +memory +io +pids"),  # cpu was already enabled
        ("unified/pyc/cgroup.subtree_control", "+cpuset +memory +cpu +io +pids"),
        ("unified/pyc/sub/cgroup.subtree_control", "+cpuset +memory +cpu +io +pids"),
        ("unified/pyc/sub/c1/memory.max", str(64 << 20)),
        ("unified/pyc/sub/c1/memory.swap.max", "0"),
        ("unified/pyc/sub/c1/cpu.max", "50000 100000"),
        ("unified/pyc/sub/c1/pids.max", "100"),
    ]
    assert cg.procs_files() == [kernel.base / "unified/pyc/sub/c1/cgroup.procs"]
    kernel.writes.clear()
    driver.create("pyc/sub", "c2", Resources(cpu_period=20_000))
    assert kernel.writes == [("unified/pyc/sub/c2/cpu.max", "max 20000")]
    # The devices controller of v2 is a BPF program, with the same allow list as v1.
    assert kernel.device_filters == [("unified/pyc/sub/c1", DEFAULT_DEVICE_RULES),
                                     ("unified/pyc/sub/c2", DEFAULT_DEVICE_RULES)]


def test_v2_missing_controller_is_a_clear_error_and_creates_nothing(v2) -> None:
    driver, kernel = v2
    (driver.root / "cgroup.controllers").write_text("hugetlb\n")
    with pytest.raises(CgroupError) as exc:
        driver.create("pyc", "c1", Resources(memory_limit=1 << 20))
    assert str(exc.value) == (
        f"cannot apply the memory limit: the 'memory' controller is not available in the cgroup v2 "
        f"hierarchy at {driver.root} (available: hugetlb); enable it there or run without this limit"
    )
    assert kernel.writes == [] and not (driver.root / "pyc").exists()


def test_v2_without_controllers_creates_plain_cgroups(v2) -> None:
    driver, kernel = v2
    (driver.root / "cgroup.controllers").write_text("")
    cg = driver.create("pyc", "c1", Resources())
    assert kernel.writes == [] and cg.path.is_dir()


def test_v2_kill_all_uses_cgroup_kill_and_remove_cleans_up(v2) -> None:
    driver, kernel = v2
    cg = driver.create("pyc", "c1", Resources())
    cg.add_process(21)
    kernel.writes.clear()
    cg.remove()
    assert kernel.writes == [
        ("unified/pyc/c1/cgroup.kill", "1"),
        ("unified/pyc/c1", "<rmdir>"),
        ("unified/pyc", "<rmdir>"),
    ]
    cg.remove()  # idempotent


def test_v2_kill_all_without_cgroup_kill_freezes_and_signals(v2) -> None:
    driver, kernel = v2
    del kernel.files_for[driver.root]["cgroup.kill"]
    cg = driver.create("pyc", "c1", Resources())
    cg.add_process(21)
    kernel.writes.clear()
    cg.kill_all()
    assert kernel.writes == [
        ("unified/pyc/c1/cgroup.freeze", "1"),
        ("unified/pyc/c1/cgroup.freeze", "0"),
    ]
    assert kernel.killed == [21] and cg.procs() == []


def test_v2_oom_kill_count(v2) -> None:
    driver, kernel = v2
    cg = driver.create("pyc", "c1", Resources())
    (cg.path / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n")
    assert cg.oom_kill_count() == 2
    (cg.path / "memory.events").unlink()
    assert cg.oom_kill_count() == 0


def test_kill_all_gives_up_with_the_stuck_pids(v2, monkeypatch: pytest.MonkeyPatch) -> None:
    driver, kernel = v2
    monkeypatch.setattr("runtime.cgroups.base.KILL_TIMEOUT", 0.0)
    monkeypatch.setattr(kernel, "kill", lambda pid: None)  # an unkillable process
    del kernel.files_for[driver.root]["cgroup.kill"]
    cg = driver.create("pyc", "c1", Resources())
    cg.add_process(31)
    with pytest.raises(CgroupError, match=r"processes \[31\] in cgroup .* did not exit"):
        cg.kill_all()


# ---- validation shared by both ----


@pytest.mark.parametrize(
    ("parent", "name"),
    [("", "c"), ("/abs", "c"), ("a/../b", "c"), ("p", "a/b"), ("p", ".."), ("p", "")],
)
def test_bad_paths_are_rejected(v1, parent: str, name: str) -> None:
    with pytest.raises(CgroupError, match="invalid cgroup"):
        v1[0].create(parent, name, Resources())


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (Resources(memory_limit=0), "memory limit must be a positive"),
        (Resources(cpu_quota=10), "cpu quota must be at least 1000"),
        (Resources(cpu_period=5_000_000), "cpu period must be between"),
        (Resources(pids_limit=0), "pids limit must be at least 1"),
    ],
)
def test_bad_limits_are_rejected_before_anything_is_created(
    v2, resources: Resources, message: str
) -> None:
    driver, kernel = v2
    with pytest.raises(CgroupError, match=message):
        driver.create("pyc", "c1", resources)
    assert not (driver.root / "pyc").exists()


def test_create_retries_when_a_sibling_removed_the_parent_meanwhile(v2) -> None:
    driver, kernel = v2
    real_mkdir, raced = kernel.mkdir, []

    def mkdir(path: Path) -> None:
        real_mkdir(path)
        if path.name == "c1" and not raced:  # the sibling's remove() wins the race once
            raced.append(path)
            kernel.rmdir(path)
            kernel.rmdir(path.parent)
            raise CgroupError("cannot create cgroup") from FileNotFoundError(errno.ENOENT, "gone")

    kernel.mkdir = mkdir  # type: ignore[method-assign]
    cg = driver.create("pyc", "c1", Resources())
    assert raced and cg.path.is_dir()


# ---- settings beyond the limits, freezing, stats ----


def test_v2_swap_reservation_shares_cpuset(v2) -> None:
    driver, kernel = v2
    driver.create("pyc", "c1", Resources(memory_limit=32 << 20, memory_swap=96 << 20, memory_reservation=8 << 20,
                                         cpu_shares=512, cpuset_cpus="0-1"))
    assert kernel.writes[-5:] == [
        ("unified/pyc/c1/memory.max", str(32 << 20)),
        ("unified/pyc/c1/memory.swap.max", str(64 << 20)),  # v2 counts swap alone: memswap - memory
        ("unified/pyc/c1/memory.low", str(8 << 20)),
        ("unified/pyc/c1/cpu.weight", "20"),
        ("unified/pyc/c1/cpuset.cpus", "0-1"),
    ]
    kernel.writes.clear()
    driver.create("pyc", "c2", Resources(memory_limit=32 << 20, memory_swap=-1))
    assert kernel.writes == [("unified/pyc/c2/memory.max", str(32 << 20)), ("unified/pyc/c2/memory.swap.max", "max")]


def test_v2_warns_for_what_it_cannot_do(v2, capsys: pytest.CaptureFixture[str]) -> None:
    driver, kernel = v2
    del kernel.files_for[driver.root]["memory.swap.max"]
    driver.create("pyc", "c1", Resources(memory_limit=32 << 20, memory_swap=64 << 20, oom_kill_disable=True))
    err = capsys.readouterr().err
    assert "does not support swap limit" in err and "oom_kill_disable is not supported on cgroup v2" in err
    assert kernel.writes[-1] == ("unified/pyc/c1/memory.max", str(32 << 20))


@pytest.mark.parametrize(("shares", "weight"), [(2, 1), (1024, 39), (262144, 10000), (512, 20)])
def test_cpu_shares_to_weight_as_runc(shares: int, weight: int) -> None:
    from runtime.cgroups.base import cpu_shares_to_weight

    assert cpu_shares_to_weight(shares) == weight


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (Resources(memory_swap=64 << 20), "needs a memory limit"),
        (Resources(memory_limit=64 << 20, memory_swap=32 << 20), "must be at least the memory limit"),
        (Resources(memory_limit=16 << 20, memory_reservation=32 << 20), "must not be more than the memory limit"),
        (Resources(cpu_shares=1), "cpu shares must be between 2 and 262144"),
        (Resources(cpuset_cpus="0-a"), "invalid cpuset"),
    ],
)
def test_bad_new_settings_are_rejected_before_anything_is_created(v1, resources: Resources, message: str) -> None:
    driver, kernel = v1
    with pytest.raises(CgroupError, match=message):
        driver.create("pyc", "c1", resources)
    assert kernel.writes == []


def test_v1_freeze_and_thaw(v1) -> None:
    driver, kernel = v1
    cg = driver.create("pyc", "c1", Resources())
    kernel.writes.clear()
    assert not cg.is_frozen()
    cg.freeze()
    assert cg.is_frozen()
    cg.thaw()
    assert not cg.is_frozen()
    assert kernel.writes == [("freezer/pyc/c1/freezer.state", "FROZEN"), ("freezer/pyc/c1/freezer.state", "THAWED")]


def test_freeze_that_never_completes_is_undone(v1, monkeypatch: pytest.MonkeyPatch) -> None:
    driver, kernel = v1
    monkeypatch.setattr("runtime.cgroups.base.FREEZE_TIMEOUT", 0.0)
    cg = driver.create("pyc", "c1", Resources())
    real_write = kernel.write

    def stuck(path: Path, value: str) -> None:
        real_write(path, "FREEZING" if value == "FROZEN" else value)

    kernel.write = stuck  # type: ignore[method-assign]
    with pytest.raises(CgroupError, match="did not happen"):
        cg.freeze()
    assert (kernel.base / "freezer/pyc/c1/freezer.state").read_text() == "THAWED"


def test_v1_freeze_needs_the_freezer(v1) -> None:
    driver, _ = v1
    del driver.mounts["freezer"]
    with pytest.raises(CgroupError, match="freezer cgroup v1 controller is not mounted"):
        driver.create("pyc", "c1", Resources()).freeze()


def test_v2_freeze_waits_for_frozen_in_cgroup_events(v2) -> None:
    driver, kernel = v2
    cg = driver.create("pyc", "c1", Resources())
    kernel.writes.clear()
    cg.freeze()
    assert cg.is_frozen() and (cg.path / "cgroup.events").read_text().endswith("frozen 1\n")
    cg.thaw()
    assert not cg.is_frozen()
    assert kernel.writes == [("unified/pyc/c1/cgroup.freeze", "1"), ("unified/pyc/c1/cgroup.freeze", "0")]


def test_v1_stats(v1) -> None:
    driver, kernel = v1
    cg = driver.create("pyc", "c1", Resources(memory_limit=64 << 20))
    base = kernel.base
    (base / "memory/pyc/c1/memory.usage_in_bytes").write_text("10000000\n")
    (base / "memory/pyc/c1/memory.stat").write_text("cache 5\ntotal_inactive_file 1000000\n")
    (base / "cpuacct/pyc/c1/cpuacct.usage").write_text("123456789\n")
    (base / "pids/pyc/c1/pids.current").write_text("3\n")
    (base / "blkio/pyc/c1/blkio.throttle.io_service_bytes_recursive").write_text(
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\n8:16 Read 4\nTotal 12292\n")
    s = cg.stats()
    assert (s.cpu_usage_ns, s.memory_usage, s.memory_limit, s.pids, s.block_read, s.block_write) == (
        123456789, 9000000, 64 << 20, 3, 4100, 8192)
    assert driver.create("pyc", "c2", Resources()).stats().memory_limit is None  # unlimited


def test_v2_stats(v2) -> None:
    driver, kernel = v2
    cg = driver.create("pyc", "c1", Resources())
    (cg.path / "memory.current").write_text("5000\n")
    (cg.path / "memory.stat").write_text("anon 3000\ninactive_file 1000\n")
    (cg.path / "cpu.stat").write_text("usage_usec 250\nuser_usec 200\n")
    (cg.path / "pids.current").write_text("2\n")
    (cg.path / "io.stat").write_text("8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n")
    s = cg.stats()
    assert (s.cpu_usage_ns, s.memory_usage, s.memory_limit, s.pids, s.block_read, s.block_write) == (
        250_000, 4000, None, 2, 101, 202)
    (cg.path / "memory.max").write_text("1048576\n")
    assert cg.stats().memory_limit == 1 << 20


def test_v1_devices_deny_everything_then_allow_the_rules(tmp_path: Path) -> None:
    mount = tmp_path / "devices"
    mount.mkdir()
    (mount / "cgroup.procs").write_text("1\n")
    kernel = FakeKernel(tmp_path, {mount: {"devices.allow": "", "devices.deny": ""}})
    cg = V1Driver({"devices": mount}, kernel).create("pyc", "c1", Resources(device_rules=("c 1:3 rwm", "b *:* m")))
    assert kernel.writes == [("devices/pyc/c1/devices.deny", "a"), ("devices/pyc/c1/devices.allow", "c 1:3 rwm"),
                             ("devices/pyc/c1/devices.allow", "b *:* m")]
    assert [kernel.rel(p) for p in cg.procs_files()] == ["devices/pyc/c1/cgroup.procs"]
