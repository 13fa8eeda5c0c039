#!/usr/bin/env bash
# The README's first command: set up from nothing, then run the end-to-end demo on the
# embedded broker. Extra arguments go to `mimamori demo` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pipeline demo "$@"
