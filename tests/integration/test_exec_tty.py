"""`exec` with a pseudo-terminal when run from one, as `docker compose exec`."""

from __future__ import annotations

import json

from tests.integration.stackkit import Stack
from tests.integration.terminal import TerminalSession

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def _run_on_a_terminal(stack: Stack, *args: str, keys: bytes = b"") -> tuple[int, str]:
    """Run the CLI with a pty of 30x100 as its stdin/stdout/stderr; (exit code, output)."""
    session = TerminalSession(stack, *args)
    try:
        if keys:  # typed ahead, before the CLI is even up: nothing may be lost
            session.write(keys)
        return session.finish()
    finally:
        session.close()


def test_exec_from_a_terminal_gets_its_own_pty_with_our_size(stack: Stack) -> None:
    stack.write(f"""
    services:
      app: {{image: busybox, command: {json.dumps(SLEEPER)}}}
    """)
    stack.run("up", "-d")
    code, out = _run_on_a_terminal(stack, "exec", "app", "sh", "-c",
                                   "[ -t 0 ] && [ -t 1 ] && echo on-a-tty; stty size; exit 3")
    assert code == 3, out
    assert "on-a-tty" in out and "30 100" in out


def test_exec_it_reads_keys_from_the_terminal(stack: Stack) -> None:
    stack.write(f"""
    services:
      app: {{image: busybox, command: {json.dumps(SLEEPER)}}}
    """)
    stack.run("up", "-d")
    code, out = _run_on_a_terminal(stack, "exec", "-it", "app", "sh", "-c", "read line; echo got:$line",
                                   keys=b"hello\r")
    assert code == 0 and "got:hello" in out


def test_exec_T_or_without_a_terminal_has_no_tty(stack: Stack) -> None:
    stack.write(f"""
    services:
      app: {{image: busybox, command: {json.dumps(SLEEPER)}}}
    """)
    stack.run("up", "-d")
    assert stack.exec("app", "sh", "-c", "[ -t 0 ] || echo no-tty").stdout.strip() == "no-tty"
    code, out = _run_on_a_terminal(stack, "exec", "-T", "app", "sh", "-c", "[ -t 0 ] || echo no-tty")
    assert code == 0  # -T on a terminal: the command shares our terminal's stdio, no pty of its own


def test_exec_privileged_gets_every_capability(stack: Stack) -> None:
    stack.write(f"""
    services:
      app: {{image: busybox, command: {json.dumps(SLEEPER)}}}
    """)
    stack.run("up", "-d")

    def effective() -> int:
        out = stack.exec("app", "sh", "-c", "grep CapEff /proc/self/status").stdout
        return int(out.split()[1], 16)

    plain = effective()
    privileged = int(stack.run("exec", "-T", "--privileged", "app", "sh", "-c",
                               "grep CapEff /proc/self/status").stdout.split()[1], 16)
    assert plain & ~privileged == 0 and privileged > plain
    assert privileged & (1 << 21)  # CAP_SYS_ADMIN, not among Docker's defaults
    assert not plain & (1 << 21)
