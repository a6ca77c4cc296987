"""Resource limits as the container feels them, exec into a running container, and logs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from runtime.cgroups import detect
from runtime.config import Resources
from runtime.errors import ContainerError
from tests.integration import test_runtime_lifecycle as lifecycle
from tests.integration.test_runtime_lifecycle import Kit

busybox_layer = lifecycle.busybox_layer  # fixtures shared by the runtime integration tests
kit = lifecycle.kit


def test_memory_limit_oom_is_recorded(kit: Kit) -> None:
    # PID 1 (sh) holds the command substitution's output: 200 MB of 'a' under a 32 MB limit.
    final, _, _ = kit.run("sh", "-c", "x=$(head -c 200m /dev/zero | tr '\\0' a); echo survived",
                          resources=Resources(memory_limit=32 << 20))
    assert (final.exit_code, final.oom_killed) == (137, True)


def test_memory_within_the_limit_is_not_an_oom(kit: Kit) -> None:
    final, out, _ = kit.run("sh", "-c", "x=$(head -c 1m /dev/zero | tr '\\0' a); echo fine",
                            resources=Resources(memory_limit=32 << 20))
    assert (final.exit_code, final.oom_killed, out) == (0, False, "fine\n")


def test_sigkill_without_oom_is_not_an_oom(kit: Kit) -> None:
    state = kit.start("sleep", "1000", resources=Resources(memory_limit=32 << 20))
    kit.store.kill(state.id)
    final = kit.wait(state.id)
    assert (final.exit_code, final.oom_killed) == (137, False)


def test_pids_limit_stops_a_fork_loop(kit: Kit) -> None:
    # ash gives up at the first failed fork: the loop runs in a child shell, PID 1 survives it.
    script = "sh -c 'for i in $(seq 40); do sleep 30 & done'; echo survived $?; exec sleep 1000"
    state = kit.start("sh", "-c", script, resources=Resources(pids_limit=8))
    kit.wait_for_log(state.id, "survived 2\n")
    cgroup = detect().open(kit.roots.cgroup_parent, state.id)
    assert cgroup is not None
    assert 6 <= len(cgroup.procs()) <= 8  # PID 1 and the sleeps that fitted
    errors = [r.line for r in kit.store.logs(state.id) if r.stream == "stderr"]
    assert errors and all("can't fork" in line for line in errors), errors
    kit.store.stop(state.id, timeout=0)


def test_exec_returns_the_exit_code_and_sees_the_container(kit: Kit, capfd: pytest.CaptureFixture[str]) -> None:
    state = kit.start("sleep", "1000", hostname="exec-box")
    capfd.readouterr()
    assert kit.store.exec(state.id, ["sh", "-c", "hostname; ps -o pid,comm; echo $FOO; pwd"],
                          env=["FOO=bar"], cwd="/etc") == 0
    out = capfd.readouterr().out.splitlines()
    assert out[0] == "exec-box"
    assert [line.split()[1] for line in out[1:-2]] == ["COMMAND", "sleep", "sh", "ps"]
    assert out[2].split()[0] == "1"
    assert out[-2:] == ["bar", "/etc"]
    assert kit.store.exec(state.id, ["sh", "-c", "exit 5"]) == 5
    assert kit.store.exec(state.id, ["id", "-u"], user="nobody") == 0
    assert capfd.readouterr().out == "65534\n"


def test_exec_not_found_and_not_executable(kit: Kit, capfd: pytest.CaptureFixture[str]) -> None:
    state = kit.start("sleep", "1000")
    assert kit.store.exec(state.id, ["nosuch"]) == 127
    assert 'exec: "nosuch": executable file not found in $PATH' in capfd.readouterr().err
    assert kit.store.exec(state.id, ["/etc/passwd"]) == 126
    assert "permission denied" in capfd.readouterr().err


def test_exec_joins_the_cgroup_and_dies_with_the_container(kit: Kit, capfd: pytest.CaptureFixture[str]) -> None:
    state = kit.start("sleep", "1000")
    assert state.pid is not None
    capfd.readouterr()
    assert kit.store.exec(state.id, ["cat", "/proc/self/cgroup"]) == 0
    assert capfd.readouterr().out == Path(f"/proc/{state.pid}/cgroup").read_text()
    assert kit.store.exec(state.id, ["sh", "-c", "sleep 1000 >/dev/null 2>&1 &"]) == 0
    cgroup = detect().open(kit.roots.cgroup_parent, state.id)
    assert cgroup is not None and len(cgroup.procs()) == 2  # PID 1 and the exec'd background sleep
    kit.store.stop(state.id, timeout=0)
    assert cgroup.procs() == []


def test_exec_on_a_stopped_container_fails(kit: Kit) -> None:
    final, _, _ = kit.run("true")
    with pytest.raises(ContainerError, match="not running"):
        kit.store.exec(final.id, ["true"])


def test_logs_keep_each_streams_order(kit: Kit) -> None:
    script = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; printf 'no newline'"
    final, _, _ = kit.run("sh", "-c", script)
    records = list(kit.store.logs(final.id))
    assert [r.line for r in records if r.stream == "stdout"] == [f"out{i}\n" for i in range(1, 6)] + ["no newline"]
    assert [r.line for r in records if r.stream == "stderr"] == [f"err{i}\n" for i in range(1, 6)]
    assert all(r.time.endswith("Z") and len(r.time) == len("2024-01-01T00:00:00.000000000Z") for r in records)
    assert [r.line for r in kit.store.logs(final.id, tail=2)] == [records[-2].line, records[-1].line]
    raw = (kit.roots.data / "containers" / final.id / "container-json.log").read_text().splitlines()
    first = json.loads(raw[0])
    assert set(first) == {"log", "stream", "time"}


def test_logs_follow_ends_when_the_container_exits(kit: Kit) -> None:
    state = kit.start("sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done")
    t0 = time.monotonic()
    lines = [r.line for r in kit.store.logs(state.id, follow=True)]
    assert lines == ["1\n", "2\n", "3\n"]
    assert time.monotonic() - t0 < 5
    assert kit.store.state(state.id).status == "exited"


def test_long_lines_are_split_like_docker(kit: Kit) -> None:
    final, out, _ = kit.run("sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo")
    records = list(kit.store.logs(final.id))
    assert len(records) == 3 and out == "x" * 40000 + "\n"
    assert all(len(r.line) <= 16 * 1024 for r in records)
