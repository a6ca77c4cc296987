#!/bin/sh
# The whole test suite: lint, types, layering contracts, unit tests, then integration tests (root).
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -m ruff check composer runtime network tests bench
"$PYTHON" -m mypy
"$PYTHON" -c "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
"$PYTHON" -m pytest -q tests/unit
"$PYTHON" -m pytest -q tests/integration "$@"
# This machine is cgroup v1: the v2 driver is tested on a real v2 kernel in a VM (a few minutes).
PYTHON="$PYTHON" tests/vm/run-cgroup2.sh
