"""Healthchecks end to end: probes inside the container, depends_on conditions, `up --wait`, inspect."""

from __future__ import annotations

import json
import time

from tests.integration import test_stack
from tests.integration.stackkit import Stack

SLEEPER = test_stack.SLEEPER
stack = test_stack.stack  # the fixture: a project directory with its own roots, cleaned up after


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
    stack.write(f"""
    services:
      db:
        image: busybox
        command: {json.dumps(SLEEPER)}
        healthcheck:
          test: ["CMD", "sh", "-c", "echo not ready yet; exit 3"]
          interval: 200ms
          retries: 2
      web:
        image: busybox
        command: {json.dumps(SLEEPER)}
        depends_on:
          db: {{condition: service_healthy}}
    """)
    result = stack.run("up", "-d", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: dependency failed to start: container {stack.project}-db-1 is unhealthy "
        f'(last healthcheck exited 3: not ready yet); service "web" depends on "db" with condition service_healthy'
    )
    rows = stack.by_service()
    assert rows["web"]["State"] == "created"
    assert rows["db"]["Health"] == "unhealthy" and str(rows["db"]["Status"]).endswith("(unhealthy)")
