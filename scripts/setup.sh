#!/usr/bin/env bash
# Creates .venv and installs mimamori into it (with the test tools when asked: `setup.sh test`).
# Reinstalls only when pyproject.toml changed. Needs nothing but python3 (3.11+) with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "mimamori needs Python 3.11 or newer as '$python' (set PYTHON=...)" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.mimamori-installed${extras:+-$extras}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setting up .venv (installing mimamori${extras:+ with $extras tools})..." >&2
    pip=(.venv/bin/python -m pip install -qq --disable-pip-version-check)
    "${pip[@]}" --upgrade pip
    "${pip[@]}" -e ".${extras:+[$extras]}"
    echo "$want" > "$stamp"
fi
# The console's end-to-end tests drive Debian's chromium (Playwright never downloads a browser);
# a Japanese font lets its pages (and the README's screenshots) show Japanese text.
missing=()
if [ "$extras" = "test" ]; then
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -d /usr/share/fonts/opentype/ipafont-gothic ] || missing+=(fonts-ipafont-gothic)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing Debian's ${missing[*]} for the console's browser tests..." >&2
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    else
        echo "${missing[*]} missing and apt-get cannot run here (needs root): the browser" \
             "tests will fail" >&2
    fi
fi
