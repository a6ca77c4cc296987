"""Process settings end to end in real containers: read_only, tmpfs, shm_size, user and
group_add, ulimits, sysctls, init, devices, and the bad-input faults around them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.integration.stackkit import Stack

SLEEP = json.dumps(["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"])


def write_one(stack: Stack, settings: str, command: str = SLEEP, top: str = "") -> None:
    stack.write(f"services:\n  app:\n    image: busybox\n    command: {command}\n"
                + "".join(f"    {line}\n" for line in settings.strip().splitlines()) + top)


def up_one(stack: Stack, settings: str, command: str = SLEEP, top: str = "") -> None:
    write_one(stack, settings, command, top)
    stack.run("up", "-d")


def sh(stack: Stack, script: str, check: bool = True) -> str:
    return stack.exec("app", "sh", "-c", script, check=check).stdout


def failed_up(stack: Stack, settings: str, command: str = SLEEP) -> str:
    """`up` must fail with one line; the last line of stderr."""
    write_one(stack, settings, command)
    result = stack.run("up", "-d", check=False)
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_read_only_root_keeps_volumes_tmpfs_dev_and_shm_writable(stack: Stack) -> None:
    up_one(stack, "read_only: true\ntmpfs: /run\nvolumes: ['data:/data']\nworking_dir: /new/dir\n",
           top="volumes:\n  data: {}\n")
    assert sh(stack, "pwd").strip() == "/new/dir"  # made before the root turned read-only, as runc does
    assert "Read-only file system" in stack.exec("app", "touch", "/x", check=False).stderr
    assert stack.exec("app", "touch", "/etc/hosts", check=False).returncode != 0  # ro like Docker's
    sh(stack, "touch /run/a /data/b /dev/shm/c /dev/d /tmp/e 2>&1 | grep -v /tmp/e || true")
    assert sh(stack, "ls /run /data /dev/shm /dev/d").split() == ["/dev/d", "/data:", "b", "/dev/shm:", "c", "/run:", "a"]


def test_tmpfs_options_and_defaults(stack: Stack) -> None:
    up_one(stack, "tmpfs: ['/run', '/big:size=2m,mode=1770,uid=33,gid=33,exec']")
    mounts = {line.split()[1]: line.split()[3].split(",") for line in sh(stack, "cat /proc/mounts").splitlines()}
    assert {"noexec", "nosuid", "nodev"} <= set(mounts["/run"])
    assert "noexec" not in mounts["/big"] and {"nosuid", "nodev", "size=2048k", "mode=1770", "uid=33", "gid=33"} <= set(mounts["/big"])
    assert sh(stack, "stat -c '%a %u' /big").split() == ["1770", "33"]


def test_shm_size_sizes_dev_shm(stack: Stack) -> None:
    up_one(stack, "shm_size: 16m")
    assert sh(stack, "df -k /dev/shm | tail -1").split()[1] == str(16 * 1024)
    assert "shm /dev/shm tmpfs rw,nosuid,nodev,noexec" in sh(stack, "cat /proc/mounts")


def test_default_shm_is_64m(stack: Stack) -> None:
    up_one(stack, "user: nobody")
    assert sh(stack, "df -k /dev/shm | tail -1").split()[1] == str(64 * 1024)


def test_user_names_and_groups(stack: Stack) -> None:
    up_one(stack, "user: 'nobody:nogroup'\ngroup_add: [www-data, 4242]")
    assert sh(stack, "id -un; id -gn").split() == ["nobody", "nogroup"]
    assert sorted(sh(stack, "id -G").split()) == ["33", "4242", "65534"]
    assert sh(stack, "grep Groups /proc/1/status").split()[1:] == ["33", "4242", "65534"]  # PID 1 too
    assert sh(stack, "echo $HOME").strip() == "/home"


def test_unknown_user_is_one_line_and_leaves_nothing_running(stack: Stack) -> None:
    line = failed_up(stack, "user: nosuch")
    assert line == (f"error: cannot start container {stack.project}-app-1: resolving the user: "
                    "unable to find user nosuch: no matching entries in passwd file")
    assert stack.by_service()["app"]["State"] == "created"


def test_unknown_group_add_is_one_line(stack: Stack) -> None:
    line = failed_up(stack, "group_add: [nosuchgroup]")
    assert line.endswith("unable to find group nosuchgroup: no matching entries in group file")


def test_ulimits_are_set(stack: Stack) -> None:
    up_one(stack, "ulimits: {nofile: {soft: 512, hard: 1024}, nproc: 300}")
    assert sh(stack, "ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu").split() == ["512", "1024", "300", "300"]
    limits = sh(stack, "grep -E 'open files|processes' /proc/1/limits")  # PID 1, not only exec
    assert [line.split()[-3:-1] for line in limits.splitlines()] == [["300", "300"], ["512", "1024"]]


def test_raising_a_hard_ulimit_is_refused_at_create(stack: Stack) -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    line = failed_up(stack, f"ulimits: {{nofile: {{soft: 100, hard: {hard + 1000}}}}}")
    assert line == (f"error: container {stack.project}-app-1: ulimits.nofile: cannot raise the hard limit to "
                    f"{hard + 1000} above the current {hard} (that needs CAP_SYS_RESOURCE, which this host's root lacks)")
    assert stack.ps() == []


def test_namespaced_sysctls_are_set_in_the_container_only(stack: Stack) -> None:
    host = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text()
    up_one(stack, "sysctls: {net.ipv4.ip_unprivileged_port_start: 80, kernel.shmmni: 1000}")
    assert sh(stack, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni").split() == ["80", "1000"]
    assert Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text() == host


def test_a_host_wide_sysctl_is_refused(stack: Stack) -> None:
    line = failed_up(stack, "sysctls: [vm.swappiness=10]")
    assert line == f"error: container {stack.project}-app-1: sysctl 'vm.swappiness' is not in a separate kernel namespace"
    assert stack.ps() == []
    line = failed_up(stack, "sysctls: {kernel.hostname: x}")
    assert "conflicts with the hostname setting" in line


def test_init_runs_tini_as_pid_1(stack: Stack) -> None:
    up_one(stack, "init: true")
    assert sh(stack, "cat /proc/1/cmdline | tr '\\0' ' '").split()[:3] == ["/sbin/docker-init", "--", "sh"]
    assert stack.exec("app", "touch", "/sbin/docker-init", check=False).returncode != 0
    began = time.monotonic()
    stack.run("stop", "-t", "20")
    row = stack.by_service()["app"]
    # tini forwarded SIGTERM to sh, whose trap exits 0 at once (no SIGKILL after 20 s)
    assert (row["State"], row["ExitCode"]) == ("exited", 0) and time.monotonic() - began < 10


def test_devices_are_created_with_the_hosts_numbers(stack: Stack) -> None:
    up_one(stack, "devices: ['/dev/zero:/dev/myzero', '/dev/fuse', '/dev/null:/opt/null']")
    stack.run("restart", "-t", "1")  # /opt/null, in the writable layer, exists the second time
    assert sh(stack, "stat -c %F /opt/null").strip() == "character special file"
    zero, fuse = os.stat("/dev/zero").st_rdev, os.stat("/dev/fuse").st_rdev
    out = sh(stack, "stat -c '%t %T %F' /dev/myzero /dev/fuse").splitlines()
    assert out == [f"{os.major(zero):x} {os.minor(zero):x} character special file",
                   f"{os.major(fuse):x} {os.minor(fuse):x} character special file"]
    assert sh(stack, "head -c 4 /dev/myzero | od -An -tx1").split() == ["00"] * 4


def test_a_missing_device_is_one_line(stack: Stack) -> None:
    line = failed_up(stack, "devices: [/dev/nosuch]")
    assert line == (f'error: container {stack.project}-app-1: error gathering device information while adding '
                    'custom device "/dev/nosuch": no such file or directory')
    assert stack.ps() == []


def test_a_missing_short_syntax_bind_source_is_created_like_docker(stack: Stack) -> None:
    up_one(stack, "volumes: ['./made/here:/m']")
    assert (stack.directory / "made" / "here").is_dir()
    sh(stack, "touch /m/f")
    assert (stack.directory / "made" / "here" / "f").exists()


def test_a_missing_long_syntax_bind_source_is_one_line_and_nothing_is_left(stack: Stack) -> None:
    line = failed_up(stack, "volumes: [{type: bind, source: ./nope, target: /m}]")
    assert line == (f'error: container {stack.project}-app-1: invalid mount config for type "bind": '
                    f"bind source path does not exist: {stack.directory / 'nope'}")
    assert stack.ps() == [] and not (stack.directory / "nope").exists()
    (stack.directory / "afile").write_text("")
    line = failed_up(stack, "volumes: ['./afile/sub:/m']")
    assert line == (f"error: container {stack.project}-app-1: error while creating mount source path "
                    f"'{stack.directory / 'afile' / 'sub'}': Not a directory")


def test_a_non_executable_entrypoint_is_one_line(stack: Stack) -> None:
    line = failed_up(stack, "entrypoint: [/etc/passwd]", command="[x]")
    assert line == f'error: cannot start container {stack.project}-app-1: exec: "/etc/passwd": permission denied'
    assert stack.by_service()["app"]["State"] == "created"  # as Docker leaves it
