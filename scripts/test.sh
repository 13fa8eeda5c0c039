#!/usr/bin/env bash
# The README's second command: set up from nothing, then lint, type-check and run every test
# (unit tests of the pure core and integration tests on the embedded broker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check pipeline tests benchmarks
.venv/bin/mypy
exec .venv/bin/pytest "$@"
