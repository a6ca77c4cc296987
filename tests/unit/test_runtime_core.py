"""Pure parts of the runtime core: logs, users, signals, state transitions, protocol, rootfs order."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from runtime import protocol, rootfs
from runtime import state as st
from runtime.config import Mount, Process, User
from runtime.errors import ContainerError, RootfsError
from runtime.init import ExecError, env_path, find_executable, resolve_user, user_for, with_home
from runtime.logs import (
    LineSplitter,
    LogRecord,
    decode_record,
    encode_record,
    follow_log,
    read_log,
    rfc3339_nano,
)
from runtime.syscalls import MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SLAVE, RecordingSyscalls

PASSWD = """root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
broken line
app:x:1000:1000::/home/app:/bin/sh
"""
GROUP = """root:x:0:
daemon:x:1:app
www-data:x:33:
app:x:1000:
audio:x:29:app,www-data
"""

# --- logs ------------------------------------------------------------------------------------


def test_log_record_round_trip() -> None:
    record = LogRecord("2024-05-01T12:00:00.123456789Z", "stderr", 'quote " and \u00e9\n')
    raw = encode_record(record)
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    assert decode_record(raw) == record
    assert decode_record('{"log":"x\\n","stream":"stdout","time":"t"}') == LogRecord("t", "stdout", "x\n")


def test_decode_rejects_what_is_not_a_record() -> None:
    with pytest.raises(ValueError):
        decode_record('{"log": "x", "stream": "stdin"}')


def test_rfc3339_nano() -> None:
    assert rfc3339_nano(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"
    assert rfc3339_nano(5) == "1970-01-01T00:00:00.000000005Z"


def test_line_splitter_keeps_partial_lines_and_bytes() -> None:
    s = LineSplitter(max_line=8)
    assert s.feed(b"a\nb") == ["a\n"]
    assert s.feed(b"c\n\xc3") == ["bc\n"]
    assert s.feed(b"\xa9\n") == ["\u00e9\n"]  # a character split across reads is kept whole
    assert s.feed(b"0123456789") == ["01234567"]  # over max_line: a partial record
    assert s.flush() == ["89"] and s.flush() == []
    assert s.feed(b"x" * 20 + b"\n") == ["x" * 8, "x" * 8, "xxxx\n"]  # even when the newline came along


def test_read_log_tail_and_missing_file(tmp_path: Path) -> None:
    log = tmp_path / "log"
    assert read_log(log) == []
    records = [LogRecord(f"t{i}", "stdout", f"{i}\n") for i in range(5)]
    log.write_bytes(b"".join(encode_record(r) for r in records) + b'{"log": "half')
    assert read_log(log) == records
    assert read_log(log, tail=2) == records[3:]
    assert read_log(log, tail=0) == []


def test_follow_log_drains_after_exit(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(encode_record(LogRecord("t0", "stdout", "0\n")))
    calls = []

    def running() -> bool:
        calls.append(1)
        if len(calls) == 1:  # the container writes its last line, then exits
            with open(log, "ab") as f:
                f.write(encode_record(LogRecord("t1", "stderr", "1\n")))
        return len(calls) < 2

    assert [r.line for r in follow_log(log, running)] == ["0\n", "1\n"]
    assert [r.line for r in follow_log(log, lambda: False, tail=1)] == ["1\n"]


# --- users ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "expected"), [
    ("root", (0, 0, (0,), "/root")),
    ("app", (1000, 1000, (1000, 1, 29), "/home/app")),  # supplementary groups from /etc/group
    ("app:audio", (1000, 29, (29,), "/home/app")),  # an explicit group: no supplementary ones
    ("www-data:0", (33, 0, (0,), "/var/www")),
    ("1000", (1000, 1000, (1000, 1, 29), "/home/app")),  # numeric, found in passwd
    ("4242", (4242, 0, (0,), "/")),  # numeric, unknown: gid 0, home /
    ("4242:4343", (4242, 4343, (4343,), "/")),
])
def test_resolve_user(spec: str, expected: tuple[int, int, tuple[int, ...], str]) -> None:
    user = resolve_user(spec, PASSWD, GROUP)
    assert (user.uid, user.gid, user.groups, user.home) == expected


def test_resolve_user_errors_name_what_is_missing() -> None:
    with pytest.raises(ContainerError, match="unable to find user nobody: no matching entries in passwd file"):
        resolve_user("nobody", PASSWD, GROUP)
    with pytest.raises(ContainerError, match="unable to find group staff"):
        resolve_user("app:staff", PASSWD, GROUP)


def test_user_for_uses_numeric_user_and_additional_gids() -> None:
    process = Process(args=("x",), user=User(uid=33, gid=44, additional_gids=(5, 44)))
    user = user_for(process, None, PASSWD, GROUP)
    assert (user.uid, user.gid, user.groups, user.home) == (33, 44, (44, 5), "/var/www")
    assert user_for(process, "app:audio", PASSWD, GROUP).groups == (29, 5, 44)


def test_home_and_path_from_env() -> None:
    assert with_home(["A=1"], "/root") == ["A=1", "HOME=/root"]
    assert with_home(["HOME=/x"], "/root") == ["HOME=/x"]
    assert env_path(["PATH=/a", "PATH=/b:/c"]) == "/b:/c"
    assert env_path([]).startswith("/usr/local/sbin:")


def test_find_executable_uses_dockers_words(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (tmp_path / "data").write_text("")
    assert find_executable("tool", f"/nonexistent:{tool.parent}") == str(tool)
    cases = [
        ("nosuch", 'exec: "nosuch": executable file not found in $PATH', 127),
        (str(tmp_path / "nope"), f'exec: "{tmp_path}/nope": stat {tmp_path}/nope: no such file or directory', 127),
        (str(tmp_path), f'exec: "{tmp_path}": is a directory', 126),
        (str(tmp_path / "data"), f'exec: "{tmp_path}/data": permission denied', 126),  # no x bit: even root
    ]
    for name, message, code in cases:
        with pytest.raises(ExecError) as info:
            find_executable(name, str(tool.parent))
        assert (str(info.value), info.value.code) == (message, code)


# --- signals, protocol, state --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "number"), [
    ("SIGTERM", 15), ("TERM", 15), ("kill", 9), ("9", 9), ("SIGUSR1", int(signal.SIGUSR1)), (2, 2),
])
def test_signal_number(name: str | int, number: int) -> None:
    assert protocol.signal_number(name) == number


@pytest.mark.parametrize("bad", ["SIGNOPE", "0", "999", "", "SIG"])
def test_signal_number_rejects(bad: str) -> None:
    with pytest.raises(ContainerError, match="unknown signal"):
        protocol.signal_number(bad)


def test_sync_pipe_messages() -> None:
    r, w = os.pipe()
    protocol.send_pid(w, 1234)
    protocol.send_error(w, 'exec: "x": executable file not found in $PATH', 127)
    protocol.send_error(w, "second error", 1)
    os.close(w)
    result = protocol.read_sync(r)
    os.close(r)
    assert result == protocol.SyncResult(1234, 'exec: "x": executable file not found in $PATH', 127)


def test_report_messages() -> None:
    assert protocol.parse_report(b"started pid 42\n") == (42, None)
    assert protocol.parse_report(b"error cannot\n") == (None, "cannot")
    assert "without reporting" in (protocol.parse_report(b"")[1] or "")
    r, w = os.pipe()
    protocol.report_error(w, "multi\nline   message")
    os.close(w)
    assert protocol.read_report(r) == (None, "multi line message")
    os.close(r)


def test_state_transitions() -> None:
    rec = st.StateRecord(id="c1", name="web", created_at="t0", labels={"a": "b"})
    assert rec.public().status == "created"
    running = st.mark_running(rec, 10, 99, "t1")
    assert (running.status, running.pid, running.started_at) == ("running", 10, "t1")
    exited = st.mark_exited(running, 137, True, "t2")
    assert exited.public() == st.ContainerState(
        id="c1", name="web", status="exited", pid=None, monitor_pid=None, exit_code=137, oom_killed=True,
        created_at="t0", started_at="t1", finished_at="t2", labels={"a": "b"})
    again = st.mark_running(exited, 11, 100, "t3")
    assert (again.exit_code, again.oom_killed, again.finished_at) == (None, False, None)
    failed = st.mark_start_failed(rec, "exec: nope", 127)
    assert (failed.status, failed.error, failed.exit_code) == ("created", "exec: nope", 127)


def test_reconcile_liveness() -> None:
    running = st.mark_running(st.StateRecord(id="c", name="c", created_at="t"), 10, 1, "t1")
    assert st.reconcile(running, monitor_alive=True, pid_alive=True, now="t2") == running
    assert st.reconcile(running, monitor_alive=False, pid_alive=True, now="t2") == running
    assert st.reconcile(running, monitor_alive=True, pid_alive=False, now="t2") == running
    dead = st.reconcile(running, monitor_alive=False, pid_alive=False, now="t2")
    assert (dead.status, dead.exit_code, dead.finished_at, dead.pid) == ("exited", None, "t2", None)


def test_exit_code_from_wait_status() -> None:
    assert st.exit_code_from_status(3 << 8) == 3
    assert st.exit_code_from_status(signal.SIGKILL) == 137
    assert st.exit_code_from_status(signal.SIGTERM) == 143


def test_liveness_checks_the_start_time() -> None:
    me = os.getpid()
    start = st.process_start_time(me)
    assert start is not None and st.is_alive(me, start)
    assert not st.is_alive(me, start + 1)  # the same pid, another process
    assert not st.is_alive(None, start)


def test_state_files_are_atomic(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    rec = st.StateRecord(id="c", name="n", created_at="t")
    with st.locked(tmp_path / "lock"):
        st.write_record(path, rec)
    assert st.read_record(path) == rec
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock", "state.json"]
    assert st.read_record(tmp_path / "missing.json") is None


# --- rootfs -----------------------------------------------------------------------------------------


def test_overlay_options() -> None:
    assert rootfs.overlay_options(["/l/top", "/l/base"], "/u", "/w") == "lowerdir=/l/top:/l/base,upperdir=/u,workdir=/w"
    with pytest.raises(RootfsError, match="no image layers"):
        rootfs.overlay_options([], "/u", "/w")
    with pytest.raises(RootfsError, match="cannot express"):
        rootfs.overlay_options(["/a:b"], "/u", "/w")


def test_parse_mount_options() -> None:
    flags, propagation, data = rootfs.parse_options(["rbind", "ro", "nosuid", "rslave", "size=1m"])
    assert flags & MS_BIND and flags & MS_REC and flags & MS_RDONLY
    assert propagation == MS_SLAVE | MS_REC and data == ["size=1m"]
    assert rootfs.parse_options(["ro", "rw"])[0] & MS_RDONLY == 0


def test_secure_join_keeps_symlinks_inside(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "escape").symlink_to("/etc")
    (tmp_path / "up").symlink_to("../../..")
    assert rootfs.secure_join(str(tmp_path), "/escape/app") == f"{tmp_path}/etc/app"
    assert rootfs.secure_join(str(tmp_path), "/up/x") == f"{tmp_path}/x"
    assert rootfs.secure_join(str(tmp_path), "../../x/./y") == f"{tmp_path}/x/y"
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(RootfsError, match="too many levels"):
        rootfs.secure_join(str(tmp_path), "/loop")


def test_setup_order_follows_runc(tmp_path: Path) -> None:
    """The order is the contract: private propagation, overlay, proc, dev, sys, user mounts, pivot."""
    sc = RecordingSyscalls()
    source = tmp_path / "src"
    source.mkdir()
    mounts = [Mount("/data/deeper", "bind", str(source), ("bind", "ro")), Mount("/data", "tmpfs", "tmpfs", ("size=1m",))]
    rootfs.setup_rootfs(sc, "/r", ["/l1", "/l0"], "/u", "/w", mounts, readonly=True)
    mount_targets = [(c[2], c[3]) for c in sc.calls if c[0] == "mount"]
    assert mount_targets == [
        ("/", None), ("/r", "overlay"), ("/r/proc", "proc"), ("/r/dev", "tmpfs"), ("/r/dev/pts", "devpts"),
        ("/r/dev/shm", "tmpfs"), ("/r/sys", "sysfs"),
        ("/r/data", "tmpfs"),  # parents before children, whatever the configured order
        ("/r/data/deeper", None), ("/r/data/deeper", None),  # bind, then the read-only remount
        (".", None), ("/", None),  # the old root made slave before its detach; the ro root last
    ]
    assert sc.calls[0] == ("mount", None, "/", None, MS_REC | MS_SLAVE, None)
    bind, remount = (c for c in sc.calls if c[0] == "mount" and c[2] == "/r/data/deeper")
    assert bind[4] == MS_BIND and remount[4] == MS_BIND | MS_REMOUNT | MS_RDONLY
    nodes = {c[1]: (c[2], c[3], c[4]) for c in sc.calls if c[0] == "mknod"}
    assert nodes["/r/dev/null"] == (stat.S_IFCHR | 0o666, 1, 3) and len(nodes) == 6
    assert sc.calls[-11:] == [
        ("open_dir", "/"), ("open_dir", "/r"), ("fchdir", "/r"), ("pivot_root", ".", "."),
        ("fchdir", "/"), ("mount", None, ".", None, MS_SLAVE | MS_REC, None), ("umount2", ".", 2),
        ("chdir", "/"), ("close", "/"), ("close", "/r"),
        ("mount", None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY, None),
    ]


def test_bind_mount_with_unknown_option_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RootfsError, match="unsupported option"):
        rootfs.mount_user(RecordingSyscalls(), "/r", Mount("/x", "bind", str(tmp_path), ("size=1m",)))
    with pytest.raises(RootfsError, match="does not exist"):
        rootfs.mount_user(RecordingSyscalls(), "/r", Mount("/x", "bind", str(tmp_path / "missing")))
    with pytest.raises(RootfsError, match="absolute"):
        rootfs.mount_user(RecordingSyscalls(), "/r", Mount("x", "tmpfs"))


def test_read_until_pid_stops_after_the_pid_message() -> None:
    r, w = os.pipe()
    protocol.send_pid(w, 42)
    protocol.send_error(w, "later", 3)
    os.close(w)
    pid, earlier = protocol.read_until_pid(r)
    assert pid == 42 and len(earlier) == 1
    result = protocol.read_sync(r, earlier)
    os.close(r)
    assert (result.pid, result.error, result.exit_code) == (42, "later", 3)


def test_read_until_pid_returns_the_error_that_came_first() -> None:
    r, w = os.pipe()
    protocol.send_error(w, "failed early", 1)
    os.close(w)
    pid, earlier = protocol.read_until_pid(r)
    assert pid is None
    result = protocol.read_sync(r, earlier)
    os.close(r)
    assert (result.pid, result.error) == (None, "failed early")
