"""Driver detection from /proc/self/mountinfo (fake files; no root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.cgroups import CgroupFS, V1Cgroup, V1Driver, V2Driver, detect
from runtime.cgroups.detection import parse_mountinfo
from runtime.errors import CgroupError

HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime shared:9 - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
50 23 0:40 / /mnt/other/memory rw - cgroup cgroup rw,memory
"""
UNIFIED = "30 23 0:27 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mountinfo"
    path.write_text(text)
    return path


def test_hybrid_is_v1_with_controllers_from_mountinfo(tmp_path: Path) -> None:
    driver = detect(Path("/sys/fs/cgroup"), write(tmp_path, HYBRID))
    assert isinstance(driver, V1Driver) and driver.version == 1
    assert driver.mounts == {
        "cpu": Path("/sys/fs/cgroup/cpu,cpuacct"),
        "cpuacct": Path("/sys/fs/cgroup/cpu,cpuacct"),
        "memory": Path("/sys/fs/cgroup/memory"),
        "pids": Path("/sys/fs/cgroup/pids"),
    }


def test_co_mounted_hierarchies_are_joined_once(tmp_path: Path) -> None:
    driver = detect(Path("/sys/fs/cgroup"), write(tmp_path, HYBRID))
    assert isinstance(driver, V1Driver)
    cg = V1Cgroup(driver.mounts, "p", "c", CgroupFS())
    assert [str(p) for p in cg.procs_files()] == [
        "/sys/fs/cgroup/memory/p/c/cgroup.procs",
        "/sys/fs/cgroup/cpu,cpuacct/p/c/cgroup.procs",
        "/sys/fs/cgroup/pids/p/c/cgroup.procs",
    ]


def test_unified_root_is_v2(tmp_path: Path) -> None:
    driver = detect(Path("/sys/fs/cgroup"), write(tmp_path, UNIFIED))
    assert isinstance(driver, V2Driver) and driver.root == Path("/sys/fs/cgroup")


def test_a_cgroup2_mount_below_the_root_is_v2_when_asked_for(tmp_path: Path) -> None:
    driver = detect(Path("/sys/fs/cgroup/unified"), write(tmp_path, HYBRID))
    assert isinstance(driver, V2Driver) and driver.version == 2


def test_nothing_mounted_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CgroupError, match="no cgroup filesystem is mounted at /nowhere"):
        detect(Path("/nowhere"), write(tmp_path, HYBRID))


def test_mountinfo_escapes_are_decoded() -> None:
    [(point, fstype, options)] = parse_mountinfo(
        r"1 2 0:3 / /mnt/a\040b\134c rw - cgroup cgroup rw,memory"
    )
    assert (point, fstype, options) == (Path("/mnt/a b\\c"), "cgroup", ["rw", "memory"])


def test_no_submodule_shadows_an_exported_name() -> None:
    import pkgutil

    import runtime.cgroups as package

    submodules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert submodules.isdisjoint(package.__all__)
