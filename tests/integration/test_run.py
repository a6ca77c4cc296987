"""`run`: one-off containers, through the real CLI."""

from __future__ import annotations

import json
import re

from tests.integration.stackkit import Stack

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
STACK = f"""
services:
  db: {{image: busybox, command: {json.dumps(SLEEPER)}}}
  app:
    image: busybox
    command: ["echo", "the-default"]
    depends_on: [db]
    environment: {{A: from-file}}
    restart: always
"""


def test_run_rm_starts_dependencies_passes_stdin_and_exits_with_the_code(stack: Stack) -> None:
    stack.write(STACK)
    result = stack.run("run", "--rm", "-e", "B=bee", "app", "sh", "-c",
                       "echo A=$A B=$B; ping -c1 -W2 db >/dev/null && echo db-up; cat; exit 7",
                       input="from-stdin\n", check=False)
    assert result.returncode == 7, result.stderr
    assert result.stdout.splitlines() == ["A=from-file B=bee", "db-up", "from-stdin"]
    rows = stack.ps()
    assert [(r["Service"], r["State"]) for r in rows] == [("db", "running")]  # the one-off is gone


def test_a_kept_one_off_is_left_alone_by_up_and_removed_by_down(stack: Stack) -> None:
    stack.write(STACK)
    assert stack.run("run", "app").stdout.strip() == "the-default"
    names = [str(r["Name"]) for r in stack.ps()]
    oneoff = [n for n in names if "-run-" in n]
    assert len(oneoff) == 1 and re.fullmatch(rf"{stack.project}-app-run-[0-9a-f]{{12}}", oneoff[0])
    state = stack.by_service()
    up = stack.run("up", "-d")
    assert "orphan" not in up.stderr
    assert oneoff[0] in [str(r["Name"]) for r in stack.ps()]
    assert state["db"]["ID"] == stack.by_service()["db"]["ID"]  # reconcile did not touch it either
    stack.run("down")
    assert stack.ps() == []


def test_run_detached_no_deps_and_overrides(stack: Stack) -> None:
    stack.write(STACK)
    name = stack.run("run", "-d", "--no-deps", "--name", f"{stack.project}-custom", "app", *SLEEPER).stdout.strip()
    assert name == f"{stack.project}-custom"
    assert [(r["Name"], r["State"]) for r in stack.ps()] == [(name, "running")]  # db was not started
    out = stack.run("run", "--rm", "--no-deps", "-u", "nobody", "-w", "/tmp", "--entrypoint", "sh -c",
                    "app", "echo $(id -un) $(pwd)").stdout
    assert out.strip() == "nobody /tmp"


def test_run_rm_removes_a_one_off_that_could_not_start(stack: Stack) -> None:
    stack.write(STACK)
    result = stack.run("run", "--rm", "--no-deps", "app", "no-such-command", check=False)
    assert result.returncode == 1 and 'exec: "no-such-command": executable file not found' in result.stderr
    assert stack.ps() == []
