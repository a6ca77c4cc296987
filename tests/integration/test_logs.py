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


def test_logging_max_size_rotates_and_logs_reads_across_files(stack: Stack) -> None:
    stack.write("""
    services:
      chatty:
        image: busybox
        command: ["sh", "-c", "i=0; while [ $$i -lt 400 ]; do echo line-$$i; i=$$((i+1)); done"]
        logging: {driver: json-file, options: {max-size: 4k, max-file: "3"}}
    """)
    stack.run("up", "-d")
    deadline = time.monotonic() + 30
    while stack.ps()[0]["State"] != "exited" and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = stack.run("logs", "--no-log-prefix", "chatty").stdout.splitlines()
    # 400 lines of ~70 bytes each do not fit in 3 files of 4 KiB: the oldest went.
    assert lines[-1] == "line-399" and 50 < len(lines) < 400
    numbers = [int(line.removeprefix("line-")) for line in lines]
    assert numbers == list(range(numbers[0], 400))
    logs = list(stack.roots.data.glob("containers/*/container-json.log*"))
    assert sorted(p.name for p in logs) == ["container-json.log", "container-json.log.1", "container-json.log.2"]
    assert all(p.stat().st_size <= 4096 for p in logs)
