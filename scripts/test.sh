#!/bin/sh
# The whole test suite: lint, layering contracts, unit tests, then integration tests (root).
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -m ruff check composer runtime network tests bench
lint-imports
"$PYTHON" -m pytest -q tests/unit
"$PYTHON" -m pytest -q tests/integration "$@"
