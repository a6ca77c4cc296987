"""ContainerStore lifecycle on real containers: start, exit codes, stop, restart, remove.

Also home of the `kit` fixture the other test_runtime_* integration files import.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from runtime.cgroups import detect
from runtime.config import ContainerConfig, Mount, Process, Resources, Root
from runtime.containers import ContainerState, ContainerStore
from runtime.errors import ContainerError, NotFoundError, StartError
from runtime.state import process_start_time
from tests.conftest import Roots
from tests.integration.stackkit import cgroup_dirs, processes_mentioning

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(scope="session")
def busybox_layer(busybox_tar: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busybox tarball extracted once: a read-only lower layer for every test container."""
    layer = tmp_path_factory.mktemp("layer")
    subprocess.run(["tar", "-C", str(layer), "-xf", str(busybox_tar)], check=True)
    return layer


def host_mounts_mentioning(text: str) -> list[str]:
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if text in line]


@dataclass
class Kit:
    store: ContainerStore
    layer: Path
    roots: Roots

    def config(self, *args: str, **changes: object) -> ContainerConfig:
        cid = uuid.uuid4().hex[:16]
        base = ContainerConfig(
            id=cid, name=f"test-{cid[:6]}", hostname="box",
            process=Process(args=args, env=(PATH_ENV,)), root=Root(layers=(str(self.layer),)),
            stop_timeout=5.0,
        )
        return replace(base, **changes)  # type: ignore[arg-type]

    def start(self, *args: str, **changes: object) -> ContainerState:
        config = self.config(*args, **changes)
        self.store.create(config)
        return self.store.start(config.id)

    def wait(self, cid: str, timeout: float = 60.0) -> ContainerState:  # generous: emulated in tests/vm
        deadline = time.monotonic() + timeout
        while (state := self.store.state(cid)).status == "running" or state.monitor_pid:
            if time.monotonic() > deadline:
                raise AssertionError(f"container still running after {timeout}s: {state}")
            time.sleep(0.02)
        return state

    def wait_for_log(self, cid: str, line: str, count: int = 1, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while sum(r.line == line for r in self.store.logs(cid)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{line!r} not logged {count} times within {timeout}s")
            time.sleep(0.02)

    def run(self, *args: str, **changes: object) -> tuple[ContainerState, str, str]:
        """Run to completion: (final state, stdout, stderr)."""
        state = self.start(*args, **changes)
        final = self.wait(state.id)
        records = list(self.store.logs(state.id))
        out = "".join(r.line for r in records if r.stream == "stdout")
        err = "".join(r.line for r in records if r.stream == "stderr")
        return final, out, err


@pytest.fixture
def kit(roots: Roots, busybox_layer: Path) -> Iterator[Kit]:
    store = ContainerStore(roots.data, roots.run, roots.cgroup_parent)
    yield Kit(store, busybox_layer, roots)
    problems = []
    for state in store.list():
        try:
            store.remove(state.id, force=True)
        except Exception as e:  # noqa: BLE001 - keep cleaning, report at the end
            problems.append(f"remove {state.id}: {e}")
    driver = detect()
    for d in sorted(cgroup_dirs(roots.cgroup_parent), key=lambda p: -len(p.parts)):
        problems.append(f"cgroup left behind: {d}")
        for child in d.iterdir():
            if child.is_dir():
                cg = driver.open(roots.cgroup_parent, child.name)
                if cg is not None:
                    cg.remove()
        if d.exists():
            d.rmdir()
    leaked = host_mounts_mentioning(str(roots.run))
    assert not problems and not leaked, (problems, leaked)


# --- tests --------------------------------------------------------------------------------


def test_exit_codes_are_recorded(kit: Kit) -> None:
    assert kit.run("true")[0].exit_code == 0
    final, _, _ = kit.run("sh", "-c", "exit 3")
    assert (final.status, final.exit_code, final.oom_killed) == ("exited", 3, False)
    assert final.finished_at and final.started_at and final.finished_at >= final.started_at


def test_kill_records_137(kit: Kit) -> None:
    state = kit.start("sleep", "1000")
    assert state.status == "running" and state.pid and process_start_time(state.pid)
    kit.store.kill(state.id, "SIGKILL")
    final = kit.wait(state.id)
    assert (final.status, final.exit_code, final.oom_killed) == ("exited", 137, False)


def test_stop_with_handler_is_fast(kit: Kit) -> None:
    state = kit.start("sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done")
    # PID 1 ignores SIGTERM until its trap is set: wait for that, or the test races the shell.
    kit.wait_for_log(state.id, "ready\n")
    t0 = time.monotonic()
    final = kit.store.stop(state.id, timeout=10)
    assert time.monotonic() - t0 < 3
    assert (final.status, final.exit_code) == ("exited", 0)


def test_stop_without_handler_waits_then_kills(kit: Kit) -> None:
    # busybox sleep as PID 1 has no SIGTERM handler, so the kernel drops SIGTERM (as in Docker).
    state = kit.start("sleep", "1000")
    t0 = time.monotonic()
    final = kit.store.stop(state.id, timeout=1)
    elapsed = time.monotonic() - t0
    assert 1 <= elapsed < 5, elapsed
    assert (final.status, final.exit_code) == ("exited", 137)
    assert kit.store.stop(state.id).status == "exited"  # no-op when not running


def test_start_after_stop_reuses_the_container(kit: Kit) -> None:
    script = "cat /data/count 2>/dev/null; mkdir -p /data; echo run >> /data/count; echo ready; sleep 1000"
    state = kit.start("sh", "-c", script)
    kit.wait_for_log(state.id, "ready\n", 1)
    kit.store.stop(state.id, timeout=0)
    again = kit.store.start(state.id)
    assert again.id == state.id and again.status == "running" and again.pid != state.pid
    assert kit.store.start(state.id).pid == again.pid  # no-op while running
    kit.wait_for_log(state.id, "ready\n", 2)
    kit.store.stop(state.id, timeout=0)
    upper = kit.roots.data / "containers" / state.id / "upper" / "data" / "count"
    assert upper.read_text() == "run\nrun\n"
    # the second run saw the first's file
    assert [r.line for r in kit.store.logs(state.id)] == ["ready\n", "run\n", "ready\n"]


def test_start_error_for_missing_command(kit: Kit) -> None:
    config = kit.config("nosuch")
    kit.store.create(config)
    with pytest.raises(StartError, match=r'exec: "nosuch": executable file not found in \$PATH'):
        kit.store.start(config.id)
    state = kit.store.state(config.id)
    assert state.status == "created" and state.pid is None and state.monitor_pid is None
    assert cgroup_dirs(kit.roots.cgroup_parent) == []
    assert host_mounts_mentioning(str(kit.roots.run)) == []
    assert processes_mentioning(config.id) == []


def test_start_error_for_bad_working_user(kit: Kit) -> None:
    config = kit.config("true", process=Process(args=("true",), env=(PATH_ENV,), user_spec="nosuchuser"))
    kit.store.create(config)
    with pytest.raises(StartError, match="unable to find user nosuchuser"):
        kit.store.start(config.id)


def test_remove_leaves_nothing(kit: Kit) -> None:
    state = kit.start("sh", "-c", "sleep 1000 & sleep 1000")
    with pytest.raises(ContainerError, match="running"):
        kit.store.remove(state.id)
    assert cgroup_dirs(kit.roots.cgroup_parent)
    kit.store.remove(state.id, force=True)
    assert state.pid is not None and state.monitor_pid is not None
    assert process_start_time(state.pid) is None and process_start_time(state.monitor_pid) is None
    assert cgroup_dirs(kit.roots.cgroup_parent) == []
    assert not (kit.roots.data / "containers" / state.id).exists()
    assert not (kit.roots.run / "containers" / state.id).exists()
    with pytest.raises(NotFoundError):
        kit.store.state(state.id)
    assert kit.store.list() == []


def test_dead_monitor_is_handled(kit: Kit) -> None:
    """If the monitor dies, the container keeps running and stop() finishes the job itself."""
    state = kit.start("sleep", "1000")
    assert state.monitor_pid is not None
    os.kill(state.monitor_pid, signal.SIGKILL)
    time.sleep(0.2)
    assert kit.store.state(state.id).status == "running"
    final = kit.store.stop(state.id, timeout=0.5)
    assert final.status == "exited" and final.monitor_pid is None
    assert state.pid is not None and process_start_time(state.pid) is None


def test_list_and_labels(kit: Kit) -> None:
    a = kit.start("sleep", "1000", labels={"com.example.service": "web"})
    kit.store.create(kit.config("true"))
    states = kit.store.list()
    assert [s.status for s in states] == ["running", "created"]
    assert states[0].labels == {"com.example.service": "web"}
    assert kit.store.config(a.id).labels == {"com.example.service": "web"}


def test_restart_on_failure_then_stop(kit: Kit) -> None:
    state = kit.start("sh", "-c", "echo started; sleep 0.2; exit 1", restart="on-failure")
    kit.wait_for_log(state.id, "started\n", 3)
    kit.store.stop(state.id, timeout=1)
    final = kit.wait(state.id)
    seen = sum(r.line == "started\n" for r in kit.store.logs(state.id))
    time.sleep(1.0)  # an explicit stop is never undone
    assert sum(r.line == "started\n" for r in kit.store.logs(state.id)) == seen
    assert final.status == "exited"


def test_restart_on_failure_not_after_success(kit: Kit) -> None:
    final, out, _ = kit.run("echo", "once", restart="on-failure")
    assert (final.exit_code, out) == (0, "once\n")


def test_invalid_configs_are_rejected(kit: Kit) -> None:
    with pytest.raises(ContainerError, match="no command"):
        kit.store.create(kit.config())
    with pytest.raises(ContainerError, match="unknown signal"):
        kit.store.create(kit.config("true", stop_signal="SIGNOPE"))
    with pytest.raises(ContainerError, match="bind source path does not exist: /nonexistent-source"):
        kit.store.create(kit.config("true", mounts=(Mount("/x", "bind", "/nonexistent-source"),)))
    source = Path(tempfile.mkdtemp(prefix="vanishing-source-"))
    config = kit.config("true", mounts=(Mount("/x", "bind", str(source)),), resources=Resources(memory_limit=64 << 20))
    kit.store.create(config)
    source.rmdir()  # gone between create and start: the start fails, naming it
    with pytest.raises(StartError, match="vanishing-source"):
        kit.store.start(config.id)


def test_restart_always_until_killed(kit: Kit) -> None:
    state = kit.start("sh", "-c", "echo run; sleep 0.1", restart="always")
    kit.wait_for_log(state.id, "run\n", 3)  # exits 0 and is restarted anyway
    monitor = kit.store.state(state.id).monitor_pid
    assert monitor is not None and monitor == state.monitor_pid  # one monitor across restarts
    kit.store.stop(state.id, timeout=1)
    assert kit.wait(state.id).monitor_pid is None
    runs = sum(r.line == "run\n" for r in kit.store.logs(state.id))
    again = kit.store.start(state.id)  # a start after an explicit stop restarts supervision
    assert again.status == "running"
    kit.wait_for_log(state.id, "run\n", runs + 2)
    kit.store.stop(state.id, timeout=1)


def test_prepared_start_runs_only_on_finish(kit: Kit) -> None:
    config = kit.config("sh", "-c", "echo ran; sleep 1000")
    kit.store.create(config)
    pending = kit.store.prepare_start(config.id)
    try:
        time.sleep(0.3)  # the monitor has booted by now, yet nothing may run before finish()
        assert kit.store.state(config.id).status == "created"
        assert list(kit.store.logs(config.id)) == []
    finally:
        state = pending.finish()
    assert state.status == "running"
    kit.wait_for_log(config.id, "ran\n")


def test_cancelled_prepared_start_leaves_no_process_or_cgroup(kit: Kit) -> None:
    config = kit.config("sh", "-c", "echo ran")
    kit.store.create(config)
    pending = kit.store.prepare_start(config.id)
    pending.cancel()
    state = kit.store.state(config.id)
    assert (state.status, state.monitor_pid, state.pid) == ("created", None, None)
    assert detect().open(kit.roots.cgroup_parent, config.id) is None
    assert list(kit.store.logs(config.id)) == []
    assert kit.store.start(config.id).status in ("running", "exited")  # the lock was released


def test_restart_on_failure_gives_up_after_max_retries(kit: Kit) -> None:
    final, out, _ = kit.run("sh", "-c", "echo attempt; exit 3", restart="on-failure", restart_max_retries=2)
    assert (final.status, final.exit_code) == ("exited", 3)
    assert out == "attempt\n" * 3  # the first run and two restarts (back-off 0.1 s, then 0.2 s)
