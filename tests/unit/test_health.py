"""runtime/health.py's pure rules: Docker's status transitions, schedule, output limits."""

from __future__ import annotations

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
