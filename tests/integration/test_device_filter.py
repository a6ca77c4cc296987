"""The cgroup v2 device filter (eBPF), attached to a real cgroup v2 directory.

This host is cgroup v1 for the controllers, but its cgroup2 hierarchy (hybrid mode,
/sys/fs/cgroup/unified) takes device programs all the same: the kernel asks both.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.security.devfilter import attach
from runtime.security.devices import ALLOW_ALL, DEFAULT_DEVICE_RULES


def cgroup2_root() -> Path | None:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[2] == "cgroup2":
            return Path(fields[1])
    return None


@pytest.fixture
def cgroup() -> Iterator[Path]:
    root = cgroup2_root()
    if root is None:
        pytest.skip("no cgroup2 hierarchy mounted")
    path = root / f"pycompose-test-devices-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    try:
        yield path
    finally:
        path.rmdir()  # the test's processes have exited: the cgroup is empty


def openable_block_device() -> Path:
    for path in sorted(Path("/dev").iterdir()):
        if path.is_block_device():
            try:
                os.close(os.open(path, os.O_RDONLY))
            except OSError:
                continue
            return path
    pytest.skip("no block device the host itself may open")


def run_in(cgroup: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", f"echo $$ > {cgroup}/cgroup.procs && {script}"],
                          capture_output=True, text=True, timeout=30)


def test_the_default_rules_deny_disks_and_allow_the_pseudo_devices(cgroup: Path, tmp_path: Path) -> None:
    disk = openable_block_device()
    attach(str(cgroup), DEFAULT_DEVICE_RULES)
    node = tmp_path / "disk"
    result = run_in(cgroup, f"head -c1 /dev/null && head -c1 /dev/zero >/dev/null && echo pseudo-ok; "
                            f"mknod {node} b {os.major(disk.stat().st_rdev)} {os.minor(disk.stat().st_rdev)} "
                            f"&& echo mknod-ok; head -c1 {disk} >/dev/null || echo denied")
    assert result.stdout.split() == ["pseudo-ok", "mknod-ok", "denied"], result.stderr
    assert "Operation not permitted" in result.stderr


def test_allow_all_allows_the_disk(cgroup: Path) -> None:
    disk = openable_block_device()
    attach(str(cgroup), ALLOW_ALL)
    assert run_in(cgroup, f"head -c1 {disk} >/dev/null && echo opened").stdout == "opened\n"
