"""The monitor fork server (runtime/forkserver.py, runtime/monitor_spawn.py) with real containers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import jsonio, protocol
from runtime.config import ContainerConfig, Process, Resources, Root
from runtime.containers import ContainerStore, _BootedMonitor
from runtime.monitor_spawn import ForkServer, fork_server
from runtime.state import process_start_time
from tests.conftest import REPO, Roots

PATH_ENV = "PATH=/bin"


@pytest.fixture
def store(roots: Roots, busybox_tar: Path, tmp_path: Path) -> Iterator[ContainerStore]:
    layer = tmp_path / "layer"
    layer.mkdir()
    subprocess.run(["tar", "-C", str(layer), "-xf", str(busybox_tar)], check=True)
    made = ContainerStore(roots.data, roots.run, roots.cgroup_parent)
    made.layer = str(layer)  # type: ignore[attr-defined]
    yield made
    for state in made.list():
        made.remove(state.id, force=True)


def start(store: ContainerStore, *args: str) -> str:
    cid = uuid.uuid4().hex[:16]
    layer = store.layer  # type: ignore[attr-defined]
    store.create(ContainerConfig(id=cid, name=f"fs-{cid[:6]}", hostname="fs", process=Process(args=args, env=(PATH_ENV,)),
                                 root=Root(layers=(layer,)), stop_timeout=2.0))
    store.start(cid)
    return cid


def server_pid() -> int:
    proc = fork_server()._proc
    assert proc is not None, "no fork server is running"
    return proc.pid


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def test_monitors_are_forked_by_one_server_in_sessions_of_their_own(store: ContainerStore) -> None:
    first, second = start(store, "sleep", "30"), start(store, "sleep", "30")
    monitors = [store.state(c).monitor_pid for c in (first, second)]
    assert None not in monitors and monitors[0] != monitors[1]
    server = server_pid()
    for monitor in monitors:
        assert monitor is not None
        assert parent_of(monitor) == server
        assert os.getsid(monitor) == monitor  # not in the caller's session: terminal signals miss it
        assert Path(f"/proc/{monitor}/comm").read_text().startswith("pcmon-")


def test_containers_outlive_the_server_and_stay_manageable(store: ContainerStore) -> None:
    cid = start(store, "sleep", "30")
    server = server_pid()
    fork_server().close()
    assert process_start_time(server) is None  # stopped and reaped
    state = store.state(cid)
    assert state.status == "running" and process_start_time(state.monitor_pid or 0) is not None
    assert store.stop(cid, timeout=1).status == "exited"
    start(store, "true")  # the next start brings a new server up
    assert server_pid() != server


def test_a_killed_server_is_replaced_on_the_next_start(store: ContainerStore) -> None:
    start(store, "true")
    server = server_pid()
    os.kill(server, signal.SIGKILL)
    os.waitpid(server, 0)
    fork_server()._proc = None  # reaped above; the dead socket is what the spawn meets
    cid = start(store, "sh", "-c", "exit 3")
    assert store.wait(cid, timeout=10).exit_code == 3
    assert server_pid() != server


def test_a_malformed_request_is_answered_on_the_report_pipe() -> None:
    server = ForkServer()
    try:
        report_r, report_w = os.pipe()
        go_r, go_w = os.pipe()
        socket.send_fds(server._running(), [b"not json"], [report_w, go_r, 0])
        for fd in (report_w, go_r):
            os.close(fd)
        pid, error = protocol.read_report(report_r)
        assert pid is None and error is not None and "could not fork a monitor" in error
        os.close(report_r)
        os.close(go_w)
    finally:
        server.close()


def test_a_monitor_for_a_missing_container_reports_the_error(roots: Roots) -> None:
    server = ForkServer()
    try:
        report_r, report_w = os.pipe()
        go_r, go_w = os.pipe()
        request = jsonio.dumps([str(roots.data), str(roots.run), "nosuchcontainer"]).encode()
        socket.send_fds(server._running(), [request], [report_w, go_r, 0])
        for fd in (report_w, go_r):
            os.close(fd)
        pid, error = protocol.read_report(report_r)
        assert pid is None and error is not None and error.startswith("cannot start the monitor")
        os.close(report_r)
        os.close(go_w)
    finally:
        server.close()


def test_the_server_is_gone_when_its_caller_exits() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from runtime.monitor_spawn import fork_server\n"
        "server = fork_server(); server._running(); print(server._proc.pid, flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(REPO)], check=True, capture_output=True, text=True,
                         timeout=30).stdout
    pid = int(out.strip())
    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped before its caller exited


def test_a_monitor_gone_before_the_hand_over_reports_its_error(store: ContainerStore) -> None:
    report_r, report_w = os.pipe()
    go_r, go_w = os.pipe()
    os.close(go_r)  # the monitor died before reading its go pipe: writing it is EPIPE
    protocol.report_error(report_w, "cannot start the monitor: boom")
    os.close(report_w)
    booted = _BootedMonitor(report_r, go_w)
    booted.cgroup = store.driver.create(store.cgroup_parent, "gone", Resources())
    assert booted.go() == "cannot start the monitor: boom"
    assert store.driver.open(store.cgroup_parent, "gone") is None  # the cgroup went with it
