"""runtime/health.py's pure rules: Docker's status transitions, schedule, output limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime import health
from runtime.health import (
    HEALTHY,
    STARTING,
    UNHEALTHY,
    Settings,
    next_delay,
    record_result,
    restarted,
)


def result(code: int, n: int = 0) -> dict[str, object]:
    return {"start": f"t{n}", "end": f"t{n}", "exit_code": code, "output": f"run {n}"}


def run(codes: list[int], in_start_period: list[bool] | None = None, retries: int = 3) -> list[tuple[str, int]]:
    """(status, failing streak) after each probe exit code."""
    state, seen = restarted(None), []
    for i, code in enumerate(codes):
        state = record_result(state, result(code, i), in_start_period[i] if in_start_period else False, retries)
        seen.append((state["status"], state["failing_streak"]))
    return seen


def test_settings_apply_dockers_defaults_for_unset_and_zero() -> None:
    s = Settings({"test": ["CMD", "true"], "interval": 0, "retries": 0})
    assert (s.interval, s.timeout, s.start_period, s.start_interval, s.retries) == (30.0, 30.0, 0.0, 5.0, 3)
    s = Settings({"test": ["CMD", "true"], "interval": 2, "timeout": 1, "start_period": 9, "start_interval": 0.5,
                  "retries": 7})
    assert (s.interval, s.timeout, s.start_period, s.start_interval, s.retries) == (2, 1, 9, 0.5, 7)


def test_which_tests_run_and_how() -> None:
    assert health.enabled({"test": ["CMD", "true"]}) and health.enabled({"test": ["CMD-SHELL", "exit 0"]})
    assert not health.enabled({"test": ["NONE"]}) and not health.enabled(None) and not health.enabled({"test": []})
    assert health.probe_argv(("CMD", "curl", "-f", "x")) == ("curl", "-f", "x")
    assert health.probe_argv(("CMD-SHELL", "pg_isready || exit 1")) == ("/bin/sh", "-c", "pg_isready || exit 1")


def test_success_is_healthy_and_failures_count_up_to_retries() -> None:
    assert run([1, 1, 1]) == [(STARTING, 1), (STARTING, 2), (UNHEALTHY, 3)]
    assert run([1, 0, 1, 1, 1, 0]) == [(STARTING, 1), (HEALTHY, 0), (HEALTHY, 1), (HEALTHY, 2), (UNHEALTHY, 3),
                                       (HEALTHY, 0)]
    assert run([2, 2], retries=1) == [(UNHEALTHY, 1), (UNHEALTHY, 2)]
    assert run([-1, -1, -1])[-1] == (UNHEALTHY, 3)  # timed-out probes are failures too


def test_failures_inside_the_start_period_do_not_count_while_starting() -> None:
    assert run([1, 1, 1, 1], in_start_period=[True, True, True, False]) == [
        (STARTING, 0), (STARTING, 0), (STARTING, 0), (STARTING, 1)]
    # Once healthy, the start period no longer protects.
    assert run([0, 1], in_start_period=[True, True]) == [(HEALTHY, 0), (HEALTHY, 1)]


def test_only_the_last_five_results_are_kept_and_a_restart_keeps_them() -> None:
    state = restarted(None)
    for i in range(7):
        state = record_result(state, result(1, i), False, 3)
    assert [entry["output"] for entry in state["log"]] == ["run 2", "run 3", "run 4", "run 5", "run 6"]
    again = restarted(state)
    assert (again["status"], again["failing_streak"], again["log"]) == (STARTING, 0, state["log"])


def test_probe_schedule() -> None:
    s = Settings({"test": ["CMD", "true"], "interval": 30, "start_period": 10, "start_interval": 2})
    assert next_delay(s, 0, STARTING) == 2  # starting, inside the start period: start_interval
    assert next_delay(s, 9.9, STARTING) == 2
    assert next_delay(s, 10, STARTING) == 30
    assert next_delay(s, 3, HEALTHY) == 30
    assert next_delay(Settings({"test": ["CMD", "true"]}), 0, STARTING) == 30  # no start period: interval


def test_output_is_cut_at_4_kb_with_an_ellipsis() -> None:
    assert health.output_text(b"ok\n", False) == "ok\n"
    assert health.output_text(b"x" * 4096, True) == "x" * 4096 + "..."
    assert health.output_text(b"x" * 5000, False) == "x" * 4096 + "..."
    assert health.output_text(b"\xff", False) == "\ufffd"


@pytest.mark.parametrize(("seconds", "text"), [(30, "30s"), (0.5, "500ms"), (90, "1m30s"), (60, "1m0s"),
                                               (1.5, "1.5s"), (3600, "1h0m0s")])
def test_go_durations(seconds: float, text: str) -> None:
    assert health.go_duration(seconds) == text


def checker(**check: object) -> health.HealthChecker:
    from runtime.configview import ConfigView

    config = ConfigView({"id": "c", "name": "c", "process": {"args": ["sleep", "9"]}, "root": {"layers": []},
                         "hostname": "h", "healthcheck": {"test": ["CMD", "true"], **check}})
    return health.HealthChecker(config, "/nonexistent/config.json", (), {"status": UNHEALTHY, "log": [result(1)]})


def probe_done(c: health.HealthChecker, start: float, wait_status: int, output: bytes = b"") -> None:
    c.probe = health.Probe(pid=-1, fd=-1, start_mono=start, timeout=c.settings.timeout)
    c.probe.output = output
    c.reaped(-1, wait_status)


def test_the_monitors_checker_schedules_and_records_probes() -> None:
    c = checker(interval=10, start_period=4, start_interval=1, retries=2)
    assert c.restart(pid=7, pid_start=70, started=100.0) == {"status": STARTING, "failing_streak": 0,
                                                              "log": [result(1)]}  # the old log survives
    assert c.deadline() == 101.0  # starting, in the start period: start_interval
    assert c.tick(100.5) is None and c.probe is None  # not due yet
    probe_done(c, 101.0, 1 << 8, b"nope")  # exit 1 inside the start period: no streak
    after = c.tick(101.2)
    assert after is not None and (after["status"], after["failing_streak"]) == (STARTING, 0)
    assert after["log"][-1]["exit_code"] == 1 and after["log"][-1]["output"] == "nope"
    assert c.probe is None and c.deadline() == 102.2
    probe_done(c, 105.0, 1 << 8)  # after the start period: counts
    assert c.tick(105.1)["failing_streak"] == 1  # type: ignore[index]
    assert c.deadline() == pytest.approx(115.1)  # interval from the end of the probe
    probe_done(c, 115.1, 0)
    assert c.tick(115.2)["status"] == HEALTHY  # type: ignore[index]


def test_the_checker_kills_a_probe_past_its_timeout_and_records_minus_one(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(health, "_signal", lambda pid, signo: sent.append((pid, signo)))
    c = checker(timeout=2, retries=1)
    c.restart(pid=7, pid_start=70, started=0.0)
    c.probe = health.Probe(pid=4242, fd=-1, start_mono=30.0, timeout=2)
    c.probe.output = b"partial"
    assert c.deadline() == 32.0
    assert c.tick(32.0) is None and sent == [(4242, health.signals.SIGTERM)]
    assert c.deadline() == 33.0 and c.tick(33.0) is None and sent[-1] == (4242, health.signals.SIGKILL)
    c.reaped(4242, 9)  # killed
    after = c.tick(33.1)
    assert after is not None and after["status"] == UNHEALTHY
    assert after["log"][-1]["exit_code"] == -1
    assert after["log"][-1]["output"] == "Health check exceeded timeout (2s): partial"


def test_no_probe_runs_while_paused_and_one_under_way_is_dropped(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(health, "_signal", lambda pid, signo: sent.append((pid, signo)))
    c = checker(interval=10)
    c.paused_path = str(tmp_path / "paused")
    c.restart(pid=7, pid_start=70, started=0.0)
    c.probe = health.Probe(pid=4242, fd=-1, start_mono=10.0, timeout=30)
    (tmp_path / "paused").touch()
    assert c.tick(11.0) is None and sent == [(4242, health.signals.SIGKILL)]
    assert c.deadline() == 21.0  # no busy loop while the killed probe waits for the thaw
    (tmp_path / "paused").unlink()
    c.reaped(4242, 9)
    before = dict(c.health)
    assert c.tick(12.0) is None and c.probe is None and c.health == before  # its result is dropped
    assert c.tick(20.9) is None and c.probe is None  # an interval after the pause


def test_a_probe_that_raced_the_exit_of_pid_1_leaves_no_result() -> None:
    c = checker(interval=1)
    c.restart(pid=2**22 + 1, pid_start=1, started=0.0)  # no such process: PID 1 has exited
    probe_done(c, 1.0, health.container_exec.ENTER_FAILED << 8, b"cannot enter the container: ...")
    assert c.tick(1.1) is None and c.probe is None
    assert c.health["log"] == [result(1)]  # nothing recorded
    c.restart(pid=os.getpid(), pid_start=1, started=0.0)  # a live process: a failure to enter counts
    probe_done(c, 1.0, health.container_exec.ENTER_FAILED << 8, b"cannot enter the container: ...")
    after = c.tick(1.1)
    assert after is not None and after["log"][-1]["exit_code"] == health.container_exec.ENTER_FAILED
