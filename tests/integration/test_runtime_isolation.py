"""What a container sees: its own pids, hostname, mounts, overlay, /dev, /proc, /sys, user."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from runtime.config import Mount, Namespace, Process, Security
from runtime.security.caps import DEFAULT_CAPABILITIES
from tests.integration import test_runtime_lifecycle as lifecycle
from tests.integration.test_runtime_lifecycle import PATH_ENV, Kit, host_mounts_mentioning

busybox_layer = lifecycle.busybox_layer  # fixtures shared by the runtime integration tests
kit = lifecycle.kit


def test_pid1_is_the_command_and_ps_sees_only_the_container(kit: Kit) -> None:
    final, out, _ = kit.run("sh", "-c", "echo $$; ps -o pid,comm; exit 0")
    lines = out.splitlines()
    assert final.exit_code == 0
    assert lines[0] == "1"
    rows = [line.split() for line in lines[2:]]
    assert rows == [["1", "sh"], [rows[1][0], "ps"]], out


def test_hostname_is_set_and_the_host_unchanged(kit: Kit) -> None:
    before = socket.gethostname()
    _, out, _ = kit.run("hostname", hostname="web-1")
    assert out == "web-1\n"
    assert socket.gethostname() == before


def test_mounts_stay_inside_the_container(kit: Kit, tmp_path: Path) -> None:
    table_before = Path("/proc/self/mountinfo").read_text().splitlines()
    state = kit.start("sh", "-c", "mkdir /mnt && mount -t tmpfs none /mnt && touch /mnt/inside && echo ok && sleep 1000",
                      security=Security(capabilities=(*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN")))
    kit.wait_for_log(state.id, "ok\n")
    # While it runs: neither its overlay, nor /proc, /dev..., nor its own tmpfs are on the host.
    assert host_mounts_mentioning(str(kit.roots.run)) == []
    assert host_mounts_mentioning(str(kit.roots.data)) == []
    assert not (kit.roots.run / "containers" / state.id / "rootfs" / "mnt" / "inside").exists()
    kit.store.stop(state.id, timeout=0)
    table_after = Path("/proc/self/mountinfo").read_text().splitlines()
    # Other work on this host may mount things meanwhile: only ours must not differ.
    changed = set(table_before) ^ set(table_after)
    assert [line for line in changed if str(tmp_path) in line or "overlay" in line] == []


def test_overlay_writes_are_private(kit: Kit) -> None:
    lower_passwd = (kit.layer / "etc" / "passwd").read_text()
    a, _, _ = kit.run("sh", "-c", "echo secret > /etc/written && echo changed > /etc/passwd && rm /bin/ls")
    assert a.exit_code == 0
    assert not (kit.layer / "etc" / "written").exists()
    assert (kit.layer / "etc" / "passwd").read_text() == lower_passwd
    assert (kit.layer / "bin" / "ls").is_symlink()
    upper = kit.roots.data / "containers" / a.id / "upper"
    assert (upper / "etc" / "written").read_text() == "secret\n"
    b, out, _ = kit.run("sh", "-c", "cat /etc/written; head -1 /etc/passwd; ls / >/dev/null && echo ls-ok")
    assert out == "root:x:0:0:root:/root:/bin/sh\nls-ok\n"
    assert b.exit_code == 0


def test_dev_contents(kit: Kit) -> None:
    script = (
        "ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | awk '{print $1, $5, $6, $10}';"
        "ls /dev | tr '\\n' ' '; echo;"
        "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done | tr '\\n' ' '; echo;"
        "ls /dev/pts | tr '\\n' ' '; echo;"
        "head -c 5 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok;"
        "grep -E ' /dev(/pts|/shm)? ' /proc/self/mountinfo | awk '{print $5, $(NF-2), $NF}'"
    )
    final, out, err = kit.run("sh", "-c", script)
    assert final.exit_code == 0, err
    lines = out.splitlines()
    assert lines[:6] == [
        "crw-rw-rw- 1, 7 /dev/full", "crw-rw-rw- 1, 3 /dev/null", "crw-rw-rw- 1, 8 /dev/random",
        "crw-rw-rw- 5, 0 /dev/tty", "crw-rw-rw- 1, 9 /dev/urandom", "crw-rw-rw- 1, 5 /dev/zero",
    ]
    assert lines[6].split() == sorted(
        ["fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"])
    assert lines[7].split() == ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2", "pts/ptmx"]
    assert lines[8].split() == ["ptmx"]  # a new devpts instance: none of the host's ptys
    assert lines[9:11] == ["5", "null-ok"]
    mounts = {line.split()[0]: line.split() for line in lines[11:]}
    assert mounts["/dev"][1] == "tmpfs" and "mode=755" in mounts["/dev"][2]
    assert mounts["/dev/pts"][1] == "devpts" and "ptmxmode=666" in mounts["/dev/pts"][2]
    assert mounts["/dev/shm"][1] == "tmpfs" and "size=65536k" in mounts["/dev/shm"][2]


def test_proc_is_the_containers_and_sys_is_read_only(kit: Kit) -> None:
    script = (
        "ls /proc | grep -c '^[0-9]';"
        "tr '\\0' ' ' < /proc/1/cmdline; echo;"
        "touch /sys/kernel/x 2>&1; { echo 1 > /sys/kernel/mm/transparent_hugepage/enabled; } 2>&1;"
        "grep ' /sys ' /proc/self/mountinfo | awk '{print $6}'"
    )
    _, out, _ = kit.run("sh", "-c", script)
    lines = out.splitlines()
    assert int(lines[0]) <= 3  # sh, and the grep/ls pipeline
    assert lines[1].startswith("sh -c ls /proc")
    assert all("Read-only file system" in line for line in lines[2:4]), lines
    assert lines[4].startswith("ro,")


def test_user_is_resolved_in_the_container(kit: Kit) -> None:
    def run_as(spec: str | None, uid: int = 0) -> str:
        process = Process(args=("sh", "-c", "id; echo $HOME"), env=(PATH_ENV,), user_spec=spec)
        final, out, err = kit.run("x", process=process)
        assert final.exit_code == 0, err
        return out

    assert run_as("nobody") == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n/home\n"
    assert run_as("www-data:daemon") == "uid=33(www-data) gid=1(daemon) groups=1(daemon)\n/var/www\n"
    assert run_as("1234:33") == "uid=1234 gid=33(www-data) groups=33(www-data)\n/\n"
    assert run_as(None).startswith("uid=0(root) gid=0(root)")


def test_working_directory_is_created_and_entered(kit: Kit) -> None:
    process = Process(args=("pwd",), env=(PATH_ENV,), cwd="/srv/app")
    final, out, _ = kit.run("x", process=process)
    assert (final.exit_code, out) == (0, "/srv/app\n")


def test_bind_and_tmpfs_mounts(kit: Kit, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in").write_text("from host\n")
    conf = tmp_path / "app.conf"
    conf.write_text("key=value\n")
    mounts = (
        Mount("/data", "bind", str(shared), ("rbind",)),
        Mount("/etc/app/app.conf", "bind", str(conf), ("bind", "ro")),
        Mount("/scratch", "tmpfs", "tmpfs", ("size=1m", "mode=1777")),
    )
    script = (
        "cat /data/in; echo out > /data/out; cat /etc/app/app.conf;"
        "echo x > /etc/app/app.conf 2>/dev/null || echo conf-ro;"
        "grep ' /scratch ' /proc/self/mountinfo | awk '{print $(NF-2), $NF}'"
    )
    final, out, err = kit.run("sh", "-c", script, mounts=mounts)
    assert final.exit_code == 0, err
    assert out.splitlines()[:3] == ["from host", "key=value", "conf-ro"]
    assert out.splitlines()[3].startswith("tmpfs ") and "size=1024k" in out.splitlines()[3]
    assert (shared / "out").read_text() == "out\n"
    assert conf.read_text() == "key=value\n"


def test_read_only_root(kit: Kit) -> None:
    from runtime.config import Root

    root = Root(layers=(str(kit.layer),), readonly=True)
    _, out, _ = kit.run("sh", "-c", "touch /x 2>&1; touch /dev/shm/ok && echo shm-ok", root=root)
    assert "Read-only file system" in out and "shm-ok" in out


def test_joins_a_network_namespace_by_path(kit: Kit) -> None:
    name = f"pct-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        path = Path("/run/netns") / name
        namespaces = tuple(
            Namespace("network", str(path)) if ns.type == "network" else ns for ns in kit.config("x").namespaces)
        _, out, _ = kit.run("sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net", namespaces=namespaces)
        assert out.splitlines()[0] == f"net:[{os.stat(path).st_ino}]"
        assert out.splitlines()[1:] == ["lo"]
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=True)


def test_new_network_namespace_has_only_loopback(kit: Kit) -> None:
    _, out, _ = kit.run("ls", "/sys/class/net")
    assert out == "lo\n"


def memory_cgroup_path(proc_self_cgroup: str) -> str:
    """The memory controller's path in /proc/self/cgroup: its own line on v1, "0::" on v2."""
    lines = proc_self_cgroup.splitlines()
    line = next((x for x in lines if ":memory:" in x), None) or next(x for x in lines if x.startswith("0::"))
    return line.split(":", 2)[2]


def test_cgroup_namespace_hides_the_host_path(kit: Kit) -> None:
    namespaces = (*kit.config("x").namespaces, Namespace("cgroup"))
    _, out, _ = kit.run("cat", "/proc/self/cgroup", namespaces=namespaces)
    assert memory_cgroup_path(out) == "/", out
    state, out, _ = kit.run("cat", "/proc/self/cgroup")
    assert memory_cgroup_path(out) == f"/{kit.roots.cgroup_parent}/{state.id}", out


def test_concurrent_starts_spawn_one_monitor(kit: Kit) -> None:
    config = kit.config("sleep", "1000")
    kit.store.create(config)
    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(lambda _: kit.store.start(config.id), range(4)))
    assert len({(s.pid, s.monitor_pid) for s in states}) == 1
