"""Healthchecks end to end: probes inside the container, depends_on conditions, `up --wait`, inspect."""

from __future__ import annotations

import json
import time

from tests.integration.stackkit import Stack
from tests.integration.test_stack import SLEEPER


def sleeper(name: str, healthcheck: str = "", extra: str = "") -> str:
    """One service line for a stack file: a busybox sleeper, with a healthcheck (flow YAML)."""
    keys = ["image: busybox", f"command: {json.dumps(SLEEPER)}"]
    keys += [f"healthcheck: {healthcheck}"] if healthcheck else []
    keys += [extra] if extra else []
    return f"  {name}: {{{', '.join(keys)}}}\n"


def wait_for_health(stack: Stack, service: str, wanted: str, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        row = stack.by_service()[service]
        if row["Health"] == wanted or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def test_a_healthy_dependency_gates_its_dependent(stack: Stack) -> None:
    # The check passes only once /tmp/ready exists, which the service makes after ~1.5 s,
    # and it must run inside the container (its /tmp, its hostname).
    stack.write(f"""
    services:
      db:
        image: busybox
        hostname: dbhost
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1.5; touch /tmp/ready; sleep 3600 & wait"]
        healthcheck:
          test: ["CMD-SHELL", "test -e /tmp/ready && hostname"]
          interval: 300ms
          retries: 30
      web:
        image: busybox
        command: {json.dumps(SLEEPER)}
        depends_on:
          db: {{condition: service_healthy}}
    """)
    result = stack.run("up", "-d")
    lines = result.stderr.splitlines()
    db, web = f"{stack.project}-db-1", f"{stack.project}-web-1"
    assert lines.index(f" Container {db}  Healthy") < lines.index(f" Container {web}  Started")
    rows = stack.by_service()
    assert rows["db"]["Health"] == "healthy"
    assert str(rows["db"]["Status"]).endswith("(healthy)")
    assert rows["web"]["Health"] == "" and rows["web"]["State"] == "running"
    [inspected] = json.loads(stack.run("inspect", "db").stdout)
    health = inspected["State"]["Health"]
    assert health["Status"] == "healthy" and health["FailingStreak"] == 0
    assert health["Log"][-1]["ExitCode"] == 0 and health["Log"][-1]["Output"] == "dbhost\n"
    assert 1 <= len(health["Log"]) <= 5


def test_an_unhealthy_dependency_fails_up_naming_it_and_the_probe_output(stack: Stack) -> None:
    stack.write("services:\n"
                + sleeper("db", '{test: [CMD, sh, -c, "echo not ready yet; exit 3"], interval: 200ms, retries: 2}')
                + sleeper("web", extra="depends_on: {db: {condition: service_healthy}}"))
    result = stack.run("up", "-d", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: dependency failed to start: container {stack.project}-db-1 is unhealthy "
        f'(last healthcheck exited 3: not ready yet); service "web" depends on "db" with condition service_healthy'
    )
    rows = stack.by_service()
    assert rows["web"]["State"] == "created"
    assert rows["db"]["Health"] == "unhealthy" and str(rows["db"]["Status"]).endswith("(unhealthy)")


def test_probes_run_in_the_containers_namespaces_and_cgroup(stack: Stack) -> None:
    # Outside the container's cgroup, /proc/self/cgroup would show paths relative to its root ("/..").
    probe = "hostname; for ns in pid net mnt uts; do readlink /proc/self/ns/$ns; done; sort /proc/self/cgroup"
    stack.write("services:\n" + sleeper("app", f'{{test: {json.dumps(probe.replace("$", "$$"))}, interval: 200ms}}',
                                         "hostname: inside"))
    stack.run("up", "-d", "--wait")
    [doc] = json.loads(stack.run("inspect", "app").stdout)
    seen = doc["State"]["Health"]["Log"][-1]["Output"]
    assert seen.startswith("inside\n")
    assert seen == stack.exec("app", "sh", "-c", probe).stdout  # what `exec` (in the container) sees


def test_a_hanging_probe_is_killed_at_its_timeout_and_its_output_cut_at_4_kb(stack: Stack) -> None:
    probe = "yes | head -c 5000; exec sleep 1000"
    stack.write("services:\n" + sleeper("app", f"{{test: {json.dumps(probe)}, interval: 200ms, timeout: 500ms, retries: 1}}"))
    stack.run("up", "-d")
    assert wait_for_health(stack, "app", "unhealthy")["Health"] == "unhealthy"
    [doc] = json.loads(stack.run("inspect", "app").stdout)
    last = doc["State"]["Health"]["Log"][-1]
    assert last["ExitCode"] == -1
    assert last["Output"] == "Health check exceeded timeout (500ms): " + "y\n" * 2048 + "..."
    time.sleep(1.5)  # a few more timed-out probes: none may linger (only the current one runs)
    assert stack.exec("app", "ps", "-o", "args").stdout.count("sleep 1000") <= 1


def test_failures_in_the_start_period_do_not_count(stack: Stack) -> None:
    stack.write("services:\n" + sleeper(
        "app", "{test: [CMD, 'false'], interval: 200ms, start_interval: 200ms, start_period: 6s, retries: 1}"))
    stack.run("up", "-d")
    deadline = time.monotonic() + 10
    while True:  # a few failed probes inside the start period: still starting, no failing streak
        [doc] = json.loads(stack.run("inspect", "app").stdout)
        health = doc["State"].get("Health", {"Log": []})
        if len(health["Log"]) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (health["Status"], health["FailingStreak"]) == ("starting", 0)
    assert {entry["ExitCode"] for entry in health["Log"]} == {1}
    assert wait_for_health(stack, "app", "unhealthy")["Health"] == "unhealthy"  # after the start period


def test_up_wait_returns_once_healthy_and_fails_on_unhealthy_or_timeout(stack: Stack) -> None:
    stack.write("services:\n" + sleeper("ok", "{test: [CMD, 'true'], interval: 200ms}") + sleeper("plain"))
    result = stack.run("up", "--wait")  # --wait implies -d: this returns
    assert f" Container {stack.project}-ok-1  Healthy" in result.stderr.splitlines()
    assert {row["Service"]: row["Health"] for row in stack.ps()} == {"ok": "healthy", "plain": ""}

    stack.write("services:\n" + sleeper("ok", "{test: 'echo broken >&2; exit 1', interval: 200ms, retries: 2}"))
    result = stack.run("up", "--wait", "--remove-orphans", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: container {stack.project}-ok-1 is unhealthy (last healthcheck exited 1: broken)")

    stack.write("services:\n" + sleeper("ok", "{test: [CMD, 'false'], interval: 200ms, start_period: 60s}"))
    began = time.monotonic()
    result = stack.run("up", "-d", "--wait", "--wait-timeout", "1", check=False)
    assert result.returncode == 1 and time.monotonic() - began < 30
    assert result.stderr.strip().splitlines()[-1] == "error: application not healthy after 1s"


def test_restart_count_counts_the_policys_restarts(stack: Stack) -> None:
    stack.write("""
    services:
      flaky:
        image: busybox
        command: ["sh", "-c", "sleep 0.5; exit 2"]
        restart: on-failure:2
        healthcheck: {test: ["CMD", "true"], interval: 100ms}
    """)
    stack.run("up", "-d")
    deadline = time.monotonic() + 20
    while True:
        [doc] = json.loads(stack.run("inspect", "flaky").stdout)
        if (doc["State"]["Status"] == "exited" and doc["RestartCount"] == 2) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (doc["State"]["Status"], doc["State"]["ExitCode"], doc["RestartCount"]) == ("exited", 2, 2)
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert doc["Config"]["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 100_000_000}
    assert doc["State"]["Health"]["Log"] and doc["State"]["Health"]["Log"][-1]["ExitCode"] == 0


def test_an_optional_dependency_that_fails_is_skipped_with_a_warning(stack: Stack) -> None:
    stack.write("services:\n" + sleeper("cache", "{test: [CMD, 'false'], interval: 200ms, retries: 1}") + sleeper(
        "web", extra="depends_on: {cache: {condition: service_healthy, required: false}, "
                     "gone: {condition: service_started, required: false}}"))
    result = stack.run("up", "-d")
    assert "WARN: services.web.depends_on.gone: service not found, ignored (required: false)" in result.stderr
    assert (f'WARN: optional dependency "cache" of service "web" failed: container {stack.project}-cache-1 '
            "is unhealthy (last healthcheck exited 1)") in result.stderr
    assert stack.by_service()["web"]["State"] == "running"


def test_no_probes_run_while_paused(stack: Stack) -> None:
    # A probe left to run in the frozen cgroup would exceed its timeout and count as a failure.
    stack.write("services:\n" + sleeper("app", "{test: [CMD, 'true'], interval: 500ms, timeout: 300ms}"))
    stack.run("up", "-d", "--wait")
    stack.run("pause", "app")
    time.sleep(0.5)  # a probe under way at the pause is ended
    [before] = json.loads(stack.run("inspect", "app").stdout)
    time.sleep(1.5)
    [during] = json.loads(stack.run("inspect", "app").stdout)
    assert during["State"]["Health"]["Log"] == before["State"]["Health"]["Log"]
    stack.run("unpause", "app")
    time.sleep(1.5)
    [after] = json.loads(stack.run("inspect", "app").stdout)
    assert after["State"]["Health"]["Status"] == "healthy"
    assert {entry["ExitCode"] for entry in after["State"]["Health"]["Log"]} == {0}  # no frozen probe counted
    assert after["State"]["Health"]["Log"] != during["State"]["Health"]["Log"]  # probing resumed
