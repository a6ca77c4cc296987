"""`logs` time filters and json-file rotation, through the real CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.integration.stackkit import Stack

SLEEP_AFTER = "trap 'exit 0' TERM; sleep 3600 & wait"


def test_since_and_until_select_by_time(stack: Stack) -> None:
    stack.write(f"""
    services:
      app: {{image: busybox, command: ["sh", "-c", "echo early; sleep 2; echo late; {SLEEP_AFTER}"]}}
    """)
    stack.run("up", "-d")
    time.sleep(1)
    between = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    deadline = time.monotonic() + 20
    while "late" not in stack.run("logs", "--no-color", "app").stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stack.run("logs", "--no-color", "--since", between, "app").stdout.splitlines() == ["app-1  | late"]
    assert stack.run("logs", "--no-color", "--until", between, "app").stdout.splitlines() == ["app-1  | early"]
    assert stack.run("logs", "--no-color", "--since", "1h", "app").stdout.splitlines() == \
        ["app-1  | early", "app-1  | late"]
    bad = stack.run("logs", "--since", "yesterday", check=False)
    assert bad.returncode != 0 and bad.stderr.startswith('error: --since: cannot read "yesterday" as a time')
