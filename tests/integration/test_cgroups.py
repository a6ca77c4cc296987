"""Real cgroups, as root: the host's driver (v1 on the dev VM, v2 on most machines) and a
cgroup2 hierarchy without controllers (the dev VM's /sys/fs/cgroup/unified)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.cgroups import CgroupDriver, V1Driver, V2Driver, detect
from runtime.cgroups.joined import JoinedCgroup, describe, parse_pids
from runtime.config import Resources
from runtime.errors import CgroupError

CGROUP_ROOT = Path("/sys/fs/cgroup")
UNIFIED = CGROUP_ROOT / "unified"
JOIN_THEN = "import sys\nfor p in sys.argv[1:]: open(p, 'w').write('0')\n"


def base_dirs(driver: CgroupDriver) -> list[Path]:
    if isinstance(driver, V1Driver):
        return sorted(set(driver.mounts.values()))
    assert isinstance(driver, V2Driver)
    return [driver.root]


def scrub(top: Path) -> None:
    """Independent of the code under test: kill and rmdir whatever a test left under `top`."""
    if not top.exists():
        return
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
        for _ in range(200):
            pids = (Path(dirpath) / "cgroup.procs").read_text().split()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            freezer = Path(dirpath) / "freezer.state"
            if freezer.exists():
                freezer.write_text("THAWED")
            time.sleep(0.01)
        os.rmdir(dirpath)


@pytest.fixture
def parent(roots) -> Iterator[str]:
    yield roots.cgroup_parent
    for driver in (detect(), *([V2Driver(UNIFIED)] if is_cgroup2(UNIFIED) else [])):
        for base in base_dirs(driver):
            scrub(base / roots.cgroup_parent)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def is_cgroup2(path: Path) -> bool:
    return any(
        line.split(" - ")[1].startswith("cgroup2 ") and line.split()[4] == str(path)
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
    )


def leftovers(driver: CgroupDriver, parent: str) -> list[Path]:
    return [base / parent for base in base_dirs(driver) if (base / parent).exists()]


def test_host_driver_is_detected() -> None:
    driver = detect()
    assert driver.version == (2 if is_cgroup2(CGROUP_ROOT) else 1)


def test_limits_reach_the_kernel(parent: str) -> None:
    driver = detect()
    cg = driver.create(
        parent, "c1", Resources(memory_limit=64 << 20, cpu_quota=50_000, pids_limit=50)
    )
    if isinstance(driver, V1Driver):
        memory = driver.mounts["memory"] / parent / "c1"
        assert (memory / "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
        memsw = memory / "memory.memsw.limit_in_bytes"
        assert not memsw.exists() or memsw.read_text().strip() == str(64 << 20)
        cpu = driver.mounts["cpu"] / parent / "c1"
        assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (cpu / "cpu.cfs_period_us").read_text().strip() == "100000"
        assert (driver.mounts["pids"] / parent / "c1" / "pids.max").read_text().strip() == "50"
    else:
        path = CGROUP_ROOT / parent / "c1"
        assert (path / "memory.max").read_text().strip() == str(64 << 20)
        assert (path / "cpu.max").read_text().strip() == "50000 100000"
        assert (path / "pids.max").read_text().strip() == "50"
    cg.remove()
    assert leftovers(driver, parent) == []


def test_processes_join_are_listed_killed_and_removed(parent: str, children: list) -> None:
    driver = detect()
    cg = driver.create(parent, "c1", Resources(pids_limit=20))
    outsider = subprocess.Popen(["sleep", "1000"])
    children.append(outsider)
    cg.add_process(outsider.pid)
    # A process joins itself by writing "0", then forks a grandchild that is in the cgroup too.
    script = (
        JOIN_THEN
        + "import subprocess, time\nsubprocess.Popen(['sleep', '1000'])\ntime.sleep(1000)\n"
    )
    joiner = subprocess.Popen([sys.executable, "-c", script, *map(str, cg.procs_files())])
    children.append(joiner)
    deadline = time.monotonic() + 60  # generous: under emulation (tests/vm) Python starts slowly
    while len(cg.procs()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    procs = cg.procs()
    assert len(procs) == 3 and {outsider.pid, joiner.pid} < set(procs)
    cg.kill_all()
    assert cg.procs() == []
    assert outsider.wait(5) == -signal.SIGKILL and joiner.wait(5) == -signal.SIGKILL
    cg.remove()
    cg.remove()
    assert driver.open(parent, "c1") is None
    assert leftovers(driver, parent) == []


def test_a_single_threaded_process_moves_itself_in_cheaply_on_v1(parent: str, children: list) -> None:
    driver = detect()
    cg = driver.create(parent, "c1", Resources(pids_limit=20))
    joined = JoinedCgroup.from_dict(describe(cg).to_dict())  # as the monitor receives it
    files = joined.self_join_files()
    if isinstance(driver, V2Driver):
        assert files == []  # cgroup.threads cannot leave a domain: the monitor moves PID 1 in
    else:
        assert [Path(f).name for f in files] == ["tasks"] * len(joined.dirs) and files
        child = subprocess.Popen([sys.executable, "-c", JOIN_THEN + "import time\ntime.sleep(1000)\n", *files])
        children.append(child)
        deadline = time.monotonic() + 30
        while child.pid not in cg.procs() and time.monotonic() < deadline:
            time.sleep(0.02)
        for d in joined.dirs:  # the whole process, in every hierarchy
            assert child.pid in parse_pids((Path(d) / "cgroup.procs").read_text())
        cg.kill_all()
    cg.remove()
    assert leftovers(driver, parent) == []


def test_a_second_container_keeps_the_parent(parent: str) -> None:
    driver = detect()
    first = driver.create(parent, "c1", Resources())
    second = driver.create(parent, "c2", Resources())
    first.remove()
    assert leftovers(driver, parent) != [] and driver.open(parent, "c2") is not None
    second.remove()
    assert leftovers(driver, parent) == []


def test_oom_kill_is_counted(parent: str, children: list) -> None:
    driver = detect()
    cg = driver.create(parent, "c1", Resources(memory_limit=32 << 20))
    assert cg.oom_kill_count() == 0
    hog = JOIN_THEN + "chunks = [b'x' * (1 << 20) for _ in range(256)]\n"
    child = subprocess.Popen([sys.executable, "-c", hog, *map(str, cg.procs_files())])
    children.append(child)
    assert child.wait(30) == -signal.SIGKILL
    assert cg.oom_kill_count() >= 1
    joined = describe(cg)  # what the monitor reads to record OOMKilled
    assert joined.oom_kill_count() >= 1 and joined.is_empty()
    cg.remove()


# ---- a cgroup2 hierarchy without controllers: the dev VM's hybrid /sys/fs/cgroup/unified, or,
# on a cgroup v2 host, a subtree whose parent delegates none (as a container manager may be given)


@pytest.fixture
def controllerless(parent: str) -> V2Driver:
    """A V2Driver rooted where no controller is available; the `parent` fixture scrubs it."""
    if is_cgroup2(UNIFIED) and V2Driver(UNIFIED).available() == []:
        return V2Driver(UNIFIED)
    if not is_cgroup2(CGROUP_ROOT):
        pytest.skip(f"no cgroup2 hierarchy without controllers (neither {UNIFIED} nor {CGROUP_ROOT})")
    outer = CGROUP_ROOT / parent  # its cgroup.subtree_control stays empty: nothing reaches inner
    outer.mkdir()
    (outer / "inner").mkdir()
    driver = V2Driver(outer / "inner")
    assert driver.available() == []
    return driver


def test_v2_lifecycle_on_a_controllerless_hierarchy(
    controllerless: V2Driver, parent: str, children: list
) -> None:
    driver = controllerless
    cg = driver.create(parent, "c1", Resources())
    child = subprocess.Popen(["sh", "-c", "sleep 1000 & sleep 1000"])
    children.append(child)
    cg.add_process(child.pid)
    assert cg.procs() == [child.pid]
    assert cg.oom_kill_count() == 0
    assert (cg.path / "cgroup.kill").exists()
    cg.kill_all()
    assert cg.procs() == [] and child.wait(5) == -signal.SIGKILL
    cg.remove()
    cg.remove()
    assert driver.open(parent, "c1") is None and not (driver.root / parent).exists()


def test_v2_limit_without_controller_is_refused(controllerless: V2Driver, parent: str) -> None:
    with pytest.raises(
        CgroupError, match=r"the 'memory' controller is not available in the cgroup v2 hierarchy"
    ):
        controllerless.create(parent, "c1", Resources(memory_limit=32 << 20))
    assert not (controllerless.root / parent).exists()


def test_removing_a_busy_cgroup_by_hand_fails_as_expected(parent: str) -> None:
    """Guards the assumption behind remove(): the kernel refuses rmdir while processes remain."""
    driver = detect()
    cg = driver.create(parent, "c1", Resources())
    sleeper = subprocess.Popen(["sleep", "1000"])
    try:
        cg.add_process(sleeper.pid)
        with pytest.raises(OSError) as exc:
            os.rmdir(cg.procs_files()[0].parent)
        assert exc.value.errno == errno.EBUSY
    finally:
        sleeper.kill()
        sleeper.wait()
    cg.remove()
    assert leftovers(driver, parent) == []


# ---- settings beyond the limits, freezing and stats, on whichever version the host runs ----
# tests/vm/run-cgroup2.sh runs this file on a cgroup v2 kernel with PYCOMPOSE_EXPECT_CGROUP2=1.


def test_the_expected_cgroup_version_is_exercised() -> None:
    expected = 2 if os.environ.get("PYCOMPOSE_EXPECT_CGROUP2") else (2 if is_cgroup2(CGROUP_ROOT) else 1)
    assert detect().version == expected


def read(path: Path) -> str:
    return path.read_text().strip()


def test_more_settings_reach_the_kernel(parent: str) -> None:
    driver = detect()
    cg = driver.create(parent, "c1", Resources(
        memory_limit=64 << 20, memory_swap=96 << 20, memory_reservation=32 << 20, cpu_shares=512, cpuset_cpus="0",
    ))
    if isinstance(driver, V1Driver):
        memory = driver.mounts["memory"] / parent / "c1"
        assert read(memory / "memory.soft_limit_in_bytes") == str(32 << 20)
        memsw = memory / "memory.memsw.limit_in_bytes"
        assert not memsw.exists() or read(memsw) == str(96 << 20)
        assert read(driver.mounts["cpu"] / parent / "c1" / "cpu.shares") == "512"
        assert read(driver.mounts["cpuset"] / parent / "c1" / "cpuset.cpus") == "0"
        assert read(driver.mounts["cpuset"] / parent / "c1" / "cpuset.mems") != ""  # copied from the parent
    else:
        path = CGROUP_ROOT / parent / "c1"
        assert read(path / "memory.low") == str(32 << 20)
        swap = path / "memory.swap.max"
        assert not swap.exists() or read(swap) == str(32 << 20)
        assert read(path / "cpu.weight") == "20"
        assert read(path / "cpuset.cpus") == "0"
    cg.remove()
    assert leftovers(driver, parent) == []


COUNTER = JOIN_THEN + "import time\nn = 0\nwhile True:\n    n += 1\n    print(n, flush=True)\n    time.sleep(0.01)\n"


def last_count(stream: object, seconds: float) -> int:
    """The last number the counter printed within `seconds` (0 if none)."""
    import select

    fd = stream.fileno()  # type: ignore[attr-defined]
    last, buffer, deadline = 0, b"", time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            if lines:
                last = int(lines[-1])
    return last


def test_freeze_stops_a_counter_and_thaw_resumes_it(parent: str, children: list) -> None:
    driver = detect()
    cg = driver.create(parent, "c1", Resources())
    counter = subprocess.Popen([sys.executable, "-c", COUNTER, *map(str, cg.procs_files())], stdout=subprocess.PIPE)
    children.append(counter)
    deadline = time.monotonic() + 60
    while last_count(counter.stdout, 0.2) == 0 and time.monotonic() < deadline:
        pass
    cg.freeze()
    assert cg.is_frozen()
    last_count(counter.stdout, 0.2)  # drain what was printed before the freeze
    assert last_count(counter.stdout, 1.0) == 0  # nothing printed while frozen
    cg.thaw()
    assert not cg.is_frozen()
    assert last_count(counter.stdout, 10.0) > 0
    cg.freeze()  # a frozen cgroup is still killed and removed completely
    cg.remove()
    assert counter.wait(10) == -signal.SIGKILL
    assert leftovers(driver, parent) == []


def test_stats_of_a_process_using_memory(parent: str, children: list) -> None:
    driver = detect()
    cg = driver.create(parent, "c1", Resources(memory_limit=128 << 20, pids_limit=10))
    user = JOIN_THEN + "import time\nkeep = bytearray(20 << 20)\nfor i in range(0, len(keep), 4096): keep[i] = 1\n" \
        "print('ready', flush=True)\ntime.sleep(1000)\n"
    child = subprocess.Popen([sys.executable, "-c", user, *map(str, cg.procs_files())], stdout=subprocess.PIPE)
    children.append(child)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    s = cg.stats()
    assert s.memory_limit == 128 << 20
    assert s.memory_usage is not None and 20 << 20 <= s.memory_usage <= 128 << 20
    assert s.pids == 1
    assert s.cpu_usage_ns is not None and s.cpu_usage_ns > 0
    assert s.block_read is not None and s.block_write is not None
    cg.remove()
