"""`rm` and `top` through the real CLI."""

from __future__ import annotations

import json

from tests.integration.stackkit import Stack

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def test_top_lists_the_container_processes_with_host_pids(stack: Stack) -> None:
    stack.write(f"""
    services:
      app: {{image: busybox, command: {json.dumps(SLEEPER)}}}
      idle: {{image: busybox, command: ["true"]}}
    """)
    stack.run("up", "-d")
    out = stack.run("top").stdout
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 1  # the exited container has no processes and no block
    lines = blocks[0].splitlines()
    assert lines[0] == f"{stack.project}-app-1"
    assert lines[1].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    commands = [line.split(None, 7)[7] for line in lines[2:]]
    assert any(c.startswith("sh -c trap") for c in commands) and "sleep 3600" in commands
    pids = [int(line.split()[1]) for line in lines[2:]]
    with open(f"/proc/{pids[0]}/status") as f:  # a host pid: visible from here
        assert f.read().startswith("Name:")
    assert stack.by_service()["app"]["State"] == "running"


def test_rm_removes_only_stopped_containers_and_stop_first(stack: Stack) -> None:
    stack.write(f"""
    services:
      app: {{image: busybox, command: {json.dumps(SLEEPER)}}}
      once: {{image: busybox, command: ["true"]}}
    """)
    stack.run("up", "-d")
    stack.run("stop", "once")
    declined = stack.run("rm", input="n\n")
    assert "Going to remove " + f"{stack.project}-once-1" in declined.stdout
    assert {row["Service"] for row in stack.ps()} == {"app", "once"}
    stack.run("rm", "-f")
    assert {row["Service"] for row in stack.ps()} == {"app"}  # running: kept
    assert "No stopped containers" in stack.run("rm", "-f").stdout
    stack.run("rm", "-f", "-s", "app")
    assert stack.ps() == []
