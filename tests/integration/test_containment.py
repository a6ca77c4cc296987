"""Containment: from inside a default container, every way out tried here must fail.

One stack (module-scoped, its own roots) with a service per security setting; each test
runs busybox tools in it through `exec` (which gets the container's confinement, as
runc exec does) or reads PID 1's own /proc status. Where a refusal could have another
cause, a second service with the protection lifted shows the same command succeeding,
so the test fails if the protection is not what refuses it.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.security.caps import CAPABILITIES, DEFAULT_CAPABILITIES, mask
from tests.conftest import Roots
from tests.integration.stackkit import (
    Stack,
    cgroup_dirs,
    host_links,
    links_of,
    mounts_under,
    processes_mentioning,
)
from tests.integration.test_device_filter import openable_block_device

SLEEPER = json.dumps(["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"])
# A custom profile in Docker's format: everything allowed but mkdir/mkdirat.
CUSTOM_PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
}
STACK = f"""
services:
  box: {{image: busybox, command: {SLEEPER}}}
  unconfined: {{image: busybox, command: {SLEEPER}, security_opt: ["seccomp=unconfined"]}}
  nocaps: {{image: busybox, command: {SLEEPER}, cap_drop: [ALL]}}
  admin: {{image: busybox, command: {SLEEPER}, cap_add: [sys_admin]}}
  module: {{image: busybox, command: {SLEEPER}, cap_add: [CAP_SYS_MODULE]}}
  priv: {{image: busybox, command: {SLEEPER}, privileged: true}}
  nnp: {{image: busybox, command: {SLEEPER}, security_opt: ["no-new-privileges:true"]}}
  custom: {{image: busybox, command: {SLEEPER}, security_opt: ["seccomp=profile.json"]}}
  nobody: {{image: busybox, command: {SLEEPER}, user: "65534"}}
"""


@pytest.fixture(scope="module")
def secured(busybox_tar: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("containment")
    roots = Roots(data=tmp / "data", run=tmp / "run", cgroup_parent=f"pycompose-test-{uuid.uuid4().hex[:8]}")
    directory = tmp / "proj"
    directory.mkdir()
    s = Stack(roots, directory, f"t{uuid.uuid4().hex[:8]}")
    s.run("image", "import", str(busybox_tar), "busybox")
    (directory / "profile.json").write_text(json.dumps(CUSTOM_PROFILE))
    s.write(STACK)
    try:
        s.run("up", "-d")
        yield s
    finally:
        made_links = links_of(roots)
        down = s.run("down", "-v", "--remove-orphans", "-t", "1", check=False)
        if down.returncode != 0:
            s.force_cleanup()
        procs = processes_mentioning(str(roots.run)) + processes_mentioning(str(roots.data))
        assert down.returncode == 0, down.stderr
        assert made_links & host_links() == set()
        assert mounts_under(roots.run, roots.data, tmp) == []
        assert procs == [] and cgroup_dirs(roots.cgroup_parent) == []


def sh(s: Stack, service: str, script: str) -> tuple[int, str]:
    """(exit code, stdout + stderr) of `sh -c script` exec'd in the service."""
    result = s.exec(service, "sh", "-c", script, check=False)
    return result.returncode, result.stdout + result.stderr


def status(s: Stack, service: str, pid: str = "1") -> dict[str, str]:
    """The fields of /proc/<pid>/status inside the service (PID 1 by default)."""
    text = s.exec(service, "cat", f"/proc/{pid}/status").stdout
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def host_capabilities() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    raise AssertionError("no CapBnd in /proc/self/status")


# --- breaking out must fail --------------------------------------------------------------------


def test_mount_is_refused_unless_cap_sys_admin_is_added(secured: Stack) -> None:
    code, out = sh(secured, "box", "mkdir -p /mnt/x && mount -t tmpfs none /mnt/x")
    assert code != 0 and "permission denied" in out, out  # busybox's words for EPERM
    code, out = sh(secured, "admin", "mkdir -p /mnt/x && mount -t tmpfs none /mnt/x && grep ' /mnt/x ' /proc/mounts")
    assert code == 0 and "tmpfs" in out, out


def test_proc_sys_and_sysrq_trigger_are_read_only(secured: Stack) -> None:
    before = socket.gethostname()
    code, out = sh(secured, "box", "echo pwned > /proc/sys/kernel/hostname")
    assert code != 0 and "Read-only file system" in out, out
    if Path("/proc/sysrq-trigger").exists():  # CONFIG_MAGIC_SYSRQ
        code, out = sh(secured, "box", "echo h > /proc/sysrq-trigger")
        assert code != 0 and "Read-only file system" in out, out
    code, out = sh(secured, "box", "grep -E ' /proc/(sys|sysrq-trigger|irq|bus|fs) ' /proc/mounts | cut -d' ' -f2,4")
    present = [p for p in ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger") if Path(p).exists()]
    assert sorted(line.split()[0] for line in out.splitlines()) == present, out
    assert all(line.split()[1].startswith("ro,") for line in out.splitlines()), out
    assert socket.gethostname() == before


MASKED_FILES = ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
                "/proc/timer_stats")
MASKED_DIRS = ("/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap")


def test_kcore_and_other_kernel_files_are_masked(secured: Stack) -> None:
    files = [p for p in MASKED_FILES if Path(p).exists()]  # this kernel's: the container sees the same procfs
    dirs = [p for p in MASKED_DIRS if Path(p).is_dir()]
    assert files and any(any(Path(d).iterdir()) for d in dirs), "nothing to mask on this host: the test proves nothing"
    code, out = sh(secured, "box", f"stat -c '%F %t:%T' {' '.join(files)}; cat {' '.join(files)} | wc -c")
    assert code == 0, out
    assert out.splitlines() == ["character special file 1:3"] * len(files) + ["0"], out  # /dev/null over each
    code, out = sh(secured, "box", "; ".join(f"ls -A {d} | wc -l" for d in dirs))
    assert out.split() == ["0"] * len(dirs), out  # an empty tmpfs over each directory
    code, out = sh(secured, "box", f"touch {dirs[0]}/x")
    assert code != 0, out


def test_user_namespace_is_refused_by_seccomp(secured: Stack) -> None:
    code, out = sh(secured, "box", "unshare -U true")
    assert code != 0 and "Operation not permitted" in out, out
    # The same command with seccomp off: it was the filter that refused it.
    code, out = sh(secured, "unconfined", "unshare -U true && echo made")
    assert code == 0 and "made" in out, out


def test_a_disk_device_node_can_be_made_but_not_opened(secured: Stack) -> None:
    rdev = openable_block_device().stat().st_rdev
    script = f"mknod /tmp/disk b {os.major(rdev)} {os.minor(rdev)} && echo made; head -c 1 /tmp/disk >/dev/null"
    code, out = sh(secured, "box", script)
    assert "made" in out, out  # CAP_MKNOD is a default capability, as in Docker...
    assert code != 0 and "Operation not permitted" in out, out  # ...the devices cgroup refuses the open
    code, out = sh(secured, "priv", f"mknod /tmp/disk b {os.major(rdev)} {os.minor(rdev)}; head -c 1 /tmp/disk >/dev/null")
    assert code == 0, out


def test_a_kernel_module_cannot_be_loaded(secured: Stack) -> None:
    script = "echo junk > /tmp/m.ko; insmod /tmp/m.ko"
    code, out = sh(secured, "box", script)
    assert code != 0 and "Operation not permitted" in out, out
    # With CAP_SYS_MODULE the kernel itself gets to reject the junk: the call was made.
    code, out = sh(secured, "module", script)
    assert code != 0 and "Operation not permitted" not in out, out


def test_host_processes_are_invisible_and_cannot_be_signalled(secured: Stack) -> None:
    code, out = sh(secured, "box", "ls /proc | grep -c '^[0-9]'; kill -0 1 && echo own-pid1-ok")
    assert code == 0 and "own-pid1-ok" in out
    assert int(out.split()[0]) < 10, out  # only the container's few processes
    me = os.getpid()
    code, out = sh(secured, "box", f"kill -9 {me}")
    assert code != 0, out
    os.kill(me, 0)  # still alive


def test_the_hosts_hostname_cannot_be_changed(secured: Stack) -> None:
    before = socket.gethostname()
    code, out = sh(secured, "box", "hostname pwned")
    assert code != 0 and "Operation not permitted" in out, out
    assert socket.gethostname() == before


def test_kmsg_is_out_of_reach(secured: Stack) -> None:
    code, out = sh(secured, "box", "ls /dev/kmsg")
    assert code != 0, out
    code, out = sh(secured, "box", "dmesg")
    assert code != 0 and "Operation not permitted" in out, out
    code, out = sh(secured, "box", "mknod /tmp/kmsg c 1 11 && echo made; echo pwned > /tmp/kmsg")
    assert "made" in out and code != 0 and "Operation not permitted" in out, out


# --- the settings do what they say -------------------------------------------------------------


def test_default_capabilities_are_dockers_fourteen(secured: Stack) -> None:
    expected = f"{mask(DEFAULT_CAPABILITIES):016x}"
    assert expected == "00000000a80425fb"  # what `docker run` shows as CapBnd
    for fields in (status(secured, "box"), status(secured, "box", "self")):  # PID 1, then an exec'd process
        assert (fields["CapBnd"], fields["CapPrm"], fields["CapEff"]) == (expected,) * 3
        assert (fields["CapInh"], fields["CapAmb"]) == ("0" * 16,) * 2
        assert fields["Seccomp"] == "2" and fields["NoNewPrivs"] == "0"


def test_a_non_root_user_keeps_only_the_bounding_set(secured: Stack) -> None:
    # As with Docker: capabilities do not survive execve for a non-root uid (no ambient set).
    for fields in (status(secured, "nobody"), status(secured, "nobody", "self")):
        assert fields["CapBnd"] == f"{mask(DEFAULT_CAPABILITIES):016x}"
        assert (fields["CapPrm"], fields["CapEff"], fields["CapAmb"]) == ("0" * 16,) * 3
        assert fields["Uid"].split()[0] == "65534" and fields["Seccomp"] == "2"


def test_a_privileged_exec_gets_every_capability_but_keeps_seccomp(
        secured: Stack, capfd: pytest.CaptureFixture[str]) -> None:
    from runtime.containers import ContainerStore

    store = ContainerStore(secured.roots.data, secured.roots.run, secured.roots.cgroup_parent)
    cid = str(secured.by_service()["box"]["ID"])
    capfd.readouterr()
    assert store.exec(cid, ["grep", "-E", "^(CapEff|CapBnd|Seccomp):", "/proc/self/status"], privileged=True) == 0
    fields = dict(line.split(":\t") for line in capfd.readouterr().out.splitlines())
    assert int(fields["CapEff"], 16) == int(fields["CapBnd"], 16) == mask(CAPABILITIES) & host_capabilities()
    assert fields["Seccomp"] == "2"  # runc exec applies the container's filter, privileged or not


def test_cap_drop_all_drops_everything(secured: Stack) -> None:
    for fields in (status(secured, "nocaps"), status(secured, "nocaps", "self")):
        assert (fields["CapBnd"], fields["CapPrm"], fields["CapEff"]) == ("0" * 16,) * 3
    code, out = sh(secured, "nocaps", "touch /tmp/f && chown 1 /tmp/f")
    assert code != 0 and "Operation not permitted" in out, out


def test_privileged_gets_host_devices_all_capabilities_and_no_filters(secured: Stack) -> None:
    fields = status(secured, "priv")
    all_we_have = mask(CAPABILITIES) & host_capabilities()
    assert int(fields["CapEff"], 16) == int(fields["CapBnd"], 16) == all_we_have
    assert fields["Seccomp"] == "0"
    st_dev = os.stat("/").st_dev
    host_disk = next(p for p in Path("/dev").iterdir() if p.is_block_device() and p.stat().st_rdev == st_dev)
    code, out = sh(secured, "priv", f"stat -c '%t:%T' /dev/{host_disk.name}")
    assert code == 0 and out.strip() == f"{os.major(st_dev):x}:{os.minor(st_dev):x}", out
    code, out = sh(secured, "priv", "stat -c %s /proc/kcore; grep ' /sys ' /proc/mounts")
    assert code == 0 and out.split()[0] != "0" and " rw," in out, out  # nothing masked, /sys writable
    code, out = sh(secured, "box", f"ls /dev/{host_disk.name}")
    assert code != 0, out


def test_no_new_privileges_is_set_for_pid1_and_exec(secured: Stack) -> None:
    assert status(secured, "nnp")["NoNewPrivs"] == "1"
    assert status(secured, "nnp", "self")["NoNewPrivs"] == "1"
    assert status(secured, "nnp")["Seccomp"] == "2"


def test_a_custom_profile_denies_what_it_lists_with_eperm(secured: Stack) -> None:
    code, out = sh(secured, "custom", "mkdir /tmp/newdir")
    assert code != 0 and "Operation not permitted" in out, out
    code, out = sh(secured, "custom", "unshare -U true && echo made")  # allowed by this profile
    assert code == 0 and "made" in out, out
    code, out = sh(secured, "box", "mkdir /tmp/newdir && echo made")
    assert code == 0 and "made" in out, out


# --- bad or inert settings -----------------------------------------------------------------------


def test_a_missing_profile_fails_up_naming_the_service_before_anything_is_made(stack: Stack) -> None:
    stack.write(f"""
    services:
      web: {{image: busybox, command: {SLEEPER}, security_opt: ["seccomp=nowhere.json"]}}
    """)
    result = stack.run("up", "-d", check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "services.web.security_opt: cannot read seccomp profile" in lines[0], result.stderr
    assert "nowhere.json" in lines[0] and "Traceback" not in result.stderr
    assert stack.ps() == [] and links_of(stack.roots) == set()


def test_lsm_options_are_warned_about_and_the_container_runs(stack: Stack) -> None:
    stack.write(f"""
    services:
      web: {{image: busybox, command: {SLEEPER}, security_opt: ["apparmor=unconfined", "no-new-privileges"]}}
    """)
    result = stack.run("up", "-d")
    assert 'services.web.security_opt: apparmor ("apparmor=unconfined") is not supported' in result.stderr
    assert status(stack, "web")["NoNewPrivs"] == "1"


def test_a_services_device_is_allowed_with_its_permissions_only(stack: Stack) -> None:
    disk = openable_block_device()
    stack.write(f"""
    services:
      web: {{image: busybox, command: {SLEEPER}, devices: ["{disk}:/dev/granted:r"]}}
    """)
    stack.run("up", "-d")
    code, out = sh(stack, "web", "head -c 1 /dev/granted >/dev/null && echo read-ok")
    assert code == 0 and "read-ok" in out, out
    code, out = sh(stack, "web", "echo x > /dev/granted")  # no "w" in its permissions
    assert code != 0 and "Operation not permitted" in out, out
