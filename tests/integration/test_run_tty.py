"""A pty as PID 1's terminal: `run` from a terminal (tty by default, as `docker compose run`)
and services with `tty: true`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from runtime.records import LOG
from tests.integration.stackkit import Stack
from tests.integration.terminal import TerminalSession

STACK = """
services:
  app: {image: busybox, command: ["true"]}
"""


@pytest.fixture
def terminals() -> Iterator[list[TerminalSession]]:
    made: list[TerminalSession] = []
    yield made
    for session in made:
        session.close()


def _run(stack: Stack, terminals: list[TerminalSession], *args: str, rows: int = 30, cols: int = 100) -> TerminalSession:
    session = TerminalSession(stack, "run", *args, rows=rows, cols=cols)
    terminals.append(session)
    return session


def _oneoff(stack: Stack) -> dict[str, object]:
    rows = [r for r in stack.ps() if "-run-" in str(r["Name"])]
    assert len(rows) == 1, rows
    return rows[0]


def _log_records(stack: Stack, container_id: str) -> list[dict[str, str]]:
    path = stack.roots.data / "containers" / container_id / LOG
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pid_1_gets_a_pty_of_our_size_and_its_exit_code_is_ours(stack: Stack, terminals: list[TerminalSession]) -> None:
    stack.write(STACK)
    session = _run(stack, terminals, "--rm", "-u", "nobody", "app", "sh", "-c",
                   "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo on-a-tty; stty size; "
                   "echo name=$(tty) owner=$(stat -c %U $(tty)); exit 3")
    code, out = session.finish()
    assert code == 3, out
    assert "on-a-tty" in out and "30 100" in out
    assert "name=/dev/pts/0 owner=nobody" in out  # the container's own devpts, the user's terminal
    assert [r for r in stack.ps() if "-run-" in str(r["Name"])] == []  # --rm


def test_keys_reach_it_raw_and_ctrl_c_is_its_own(stack: Stack, terminals: list[TerminalSession]) -> None:
    stack.write(STACK)
    session = _run(stack, terminals, "--rm", "app", "sh", "-c",
                   "read line; echo got:$line; trap 'echo interrupted; exit 5' INT; echo ready; "
                   "while :; do sleep 0.1; done")
    session.write(b"hello\r")  # typed ahead, maybe before the CLI is even up: nothing may be lost
    session.expect("ready")
    session.write(b"\x03")  # Ctrl-C: the container's terminal turns it into SIGINT, not ours
    code, out = session.finish()
    assert "got:hello" in out and "interrupted" in out
    assert code == 5, out


def test_window_size_follows_our_terminal(stack: Stack, terminals: list[TerminalSession]) -> None:
    stack.write(STACK)
    session = _run(stack, terminals, "--rm", "app", "sh", "-c",
                   "trap 'stty size; exit 4' WINCH; echo ready; while :; do sleep 0.1; done")
    session.expect("ready")
    session.resize(40, 120)
    code, out = session.finish()
    assert "40 120" in out and code == 4, out


def test_T_disables_the_pty(stack: Stack, terminals: list[TerminalSession]) -> None:
    stack.write(STACK)
    session = _run(stack, terminals, "--rm", "-T", "app", "sh", "-c", "[ -t 1 ] || echo no-tty-out; exit 6")
    code, out = session.finish()
    assert code == 6 and "no-tty-out" in out, out


def test_its_output_is_logged_as_one_stream(stack: Stack, terminals: list[TerminalSession]) -> None:
    stack.write(STACK)
    session = _run(stack, terminals, "app", "sh", "-c", "echo to-out; echo to-err >&2")
    code, out = session.finish()
    assert code == 0 and "to-out" in out and "to-err" in out, out
    records = _log_records(stack, str(_oneoff(stack)["ID"]))
    assert [(r["stream"], r["log"]) for r in records] == [("stdout", "to-out\r\n"), ("stdout", "to-err\r\n")]


def test_the_container_outlives_the_cli(stack: Stack, terminals: list[TerminalSession]) -> None:
    stack.write(STACK)
    session = _run(stack, terminals, "app", "sh", "-c", "echo ready; sleep 2; echo after; exit 9")
    session.expect("ready")
    session.process.kill()
    session.process.wait()
    deadline = time.monotonic() + 30
    while _oneoff(stack)["State"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    row = _oneoff(stack)
    assert row["State"] == "exited" and row["ExitCode"] == 9, row  # not hung up by the CLI's end
    assert [r["log"] for r in _log_records(stack, str(row["ID"]))] == ["ready\r\n", "after\r\n"]


def test_a_tty_service_runs_on_a_pty_its_output_one_logged_stream(stack: Stack) -> None:
    stack.write("""
    services:
      app:
        image: busybox
        tty: true
        restart: on-failure:1
        command: ["sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo on-$$(tty); echo to-err >&2; exit 2"]
    """)
    result = stack.run("up", "-d")
    assert "tty" not in result.stderr  # acted on, not warned about
    once = [("stdout", "on-/dev/pts/0\r\n"), ("stdout", "to-err\r\n")]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = stack.by_service()["app"]
        records = [(r["stream"], r["log"]) for r in _log_records(stack, str(row["ID"]))]
        if row["State"] == "exited" and len(records) == 4:
            break
        time.sleep(0.2)
    assert row["ExitCode"] == 2, row
    assert records == once + once  # the restart got a pty of its own too
    logs = stack.run("logs", "--no-log-prefix", "app").stdout
    assert logs.splitlines() == ["on-/dev/pts/0", "to-err"] * 2
