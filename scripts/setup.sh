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
# Debian packages the tests use, installed when missing: chromium and a Japanese font for the
# console's browser tests (Playwright never downloads a browser; the font lets its pages and
# the README's screenshots show Japanese text); prometheus, with promtool, for the
# observability tests (a real server, rule unit tests).
missing=()  # installed with their recommends
lean=()     # without: prometheus would bring a node exporter the tests do not use
if [ "$extras" = "test" ]; then
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -d /usr/share/fonts/opentype/ipafont-gothic ] || missing+=(fonts-ipafont-gothic)
    { command -v prometheus && command -v promtool; } >/dev/null || lean+=(prometheus)
fi
if [ "$((${#missing[@]} + ${#lean[@]}))" -gt 0 ]; then
    echo "installing Debian's ${missing[*]} ${lean[*]} for the tests..." >&2
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -q >/dev/null
        export DEBIAN_FRONTEND=noninteractive
        [ "${#missing[@]}" -eq 0 ] || apt-get install -y -q "${missing[@]}" >/dev/null
        [ "${#lean[@]}" -eq 0 ] || apt-get install -y -q --no-install-recommends \
            "${lean[@]}" >/dev/null
    else
        echo "${missing[*]} ${lean[*]} missing and apt-get cannot run here (needs root): the" \
             "browser and observability tests will fail (outside CI=true the latter are" \
             "skipped)" >&2
    fi
fi
