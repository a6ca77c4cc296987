"""A no-op `up -d` is answered without the CLI framework, with the same output."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.integration.stackkit import Stack

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def _up_importing(stack: Stack, *extra: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "composer", "-p", stack.project, "up", *extra],
                            cwd=stack.directory, env=stack.roots.env(), capture_output=True, text=True, timeout=120)
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return result, modules


def test_a_noop_up_skips_typer_and_reports_as_the_full_path(stack: Stack) -> None:
    stack.write(f"""
    services:
      a: {{image: busybox, command: {json.dumps(SLEEPER)}}}
      b: {{image: busybox, command: {json.dumps(SLEEPER)}, depends_on: [a]}}
    """)
    stack.run("up", "-d")
    before = {name: (row["ID"], row["State"]) for name, row in stack.by_service().items()}
    fast, modules = _up_importing(stack, "-d")
    assert fast.returncode == 0 and "typer" not in modules and "pydantic" not in modules
    progress = [line for line in fast.stderr.splitlines() if not line.startswith("import time:")]
    assert progress == [f" Container {stack.project}-a-1  Running", f" Container {stack.project}-b-1  Running"]
    assert {name: (row["ID"], row["State"]) for name, row in stack.by_service().items()} == before
    # A change is not for the fast path: the full CLI recreates.
    stack.write(f"""
    services:
      a: {{image: busybox, command: {json.dumps(SLEEPER)}, environment: {{X: "1"}}}}
      b: {{image: busybox, command: {json.dumps(SLEEPER)}, depends_on: [a]}}
    """)
    slow, modules = _up_importing(stack, "-d")
    assert slow.returncode == 0 and "typer" in modules
    assert stack.by_service()["a"]["ID"] != before["a"][0]
