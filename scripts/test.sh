#!/usr/bin/env bash
# The project's one test command:  bash scripts/test.sh [pytest args...]
#
#   1. installs Debian's chromium when /usr/bin/chromium is missing (browser tests
#      drive it through Playwright; `playwright install` cannot download browsers here),
#      and Debian's nginx when missing (the scale-out test starts its own, never the service),
#   2. creates the virtualenv .venv in the repo root (python3 -m venv) if missing,
#   3. pip-installs the project editable with its `test` extra into it (skipped when
#      nothing relevant changed since the last successful install),
#   4. runs `.venv/bin/python -m pytest "$@"` from the repo root.
#
# Exits non-zero when anything fails, including when pytest collected no test (exit 5).
# Environment knobs: PYTHON (interpreter used to create .venv, default python3),
# DEEPTRICKS_FORCE_INSTALL=1 (re-run pip even if the install stamp is current).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
CHROMIUM=/usr/bin/chromium

say() { printf '[test.sh] %s\n' "$*" >&2; }
die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

# --- apt helper (root or passwordless sudo; `apt-get update` at most once) ---------
APT_UPDATED=0
apt_install() {
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install $*"
        sudo=(sudo -n)
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
    local log
    log="$(mktemp)"
    if [[ $APT_UPDATED == 0 ]]; then
        if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
            cat "$log" >&2; rm -f "$log"
            die "apt-get update failed"
        fi
        APT_UPDATED=1
    fi
    if ! "${sudo[@]}" apt-get install -y -qq "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2; rm -f "$log"
        die "apt-get install $* failed"
    fi
    rm -f "$log"
}

# --- 1. Chromium (Debian package) -------------------------------------------------
if [[ ! -x "$CHROMIUM" ]]; then
    say "$CHROMIUM is missing: installing Debian's chromium (apt-get)..."
    apt_install chromium fonts-liberation
    [[ -x "$CHROMIUM" ]] || die "chromium installed but $CHROMIUM still missing"
    say "installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
fi

# --- 1b. nginx (Debian package) for the scale-out test, which runs its own instance -------
if [[ ! -x /usr/sbin/nginx ]] && ! command -v nginx >/dev/null 2>&1; then
    say "nginx is missing: installing Debian's nginx (apt-get)..."
    apt_install nginx
    [[ -x /usr/sbin/nginx ]] || die "nginx installed but /usr/sbin/nginx still missing"
    # where an init system runs, the package starts nginx as a service: stop and disable it
    as_root=(); [[ "$(id -u)" != 0 ]] && as_root=(sudo -n)
    "${as_root[@]}" systemctl disable --now nginx >/dev/null 2>&1 \
        || "${as_root[@]}" service nginx stop >/dev/null 2>&1 || true
fi

# --- 2. virtualenv ----------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found (set PYTHON=/path/to/python3.11+)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$("$PYTHON" --version 2>&1) is too old: deeptricks needs Python >= 3.11"

if [[ -x "$VPY" ]] && ! "$VPY" -c 'import sys' >/dev/null 2>&1; then
    say "$VENV is broken (its interpreter does not start): recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VPY" ]]; then
    say "creating $VENV with $("$PYTHON" --version 2>&1)..."
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
        # Debian's own python3 ships venv/ensurepip separately
        rm -rf "$VENV"
        if [[ "$(command -v "$PYTHON")" == /usr/bin/* ]] && command -v apt-get >/dev/null 2>&1; then
            say "python -m venv failed: installing python3-venv (apt-get)..."
            apt_install python3-venv
        fi
        "$PYTHON" -m venv "$VENV" || die "$PYTHON -m venv failed (Debian: apt-get install python3-venv)"
    fi
fi

# --- 3. install the project + test extra ------------------------------------------
# The stamp covers what can change what pip would do: pyproject.toml, the
# interpreter, and the set of importable packages under src/ (an editable install
# made before a package's __init__.py existed does not map that package).
stamp_file="$VENV/.deeptricks-install-stamp"
stamp="$( {
    "$VPY" -c 'import sys; print(sys.version)'
    cat pyproject.toml
    find src -name __init__.py -print 2>/dev/null | LC_ALL=C sort
} | sha256sum | cut -d' ' -f1 )"
if [[ "${DEEPTRICKS_FORCE_INSTALL:-0}" == 1 || ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$stamp" ]]; then
    say "installing deeptricks[test] into .venv (first run takes a few minutes)..."
    rm -f "$stamp_file"
    pip_log="$(mktemp)"
    if ! "$VPY" -m pip install -q --upgrade pip >"$pip_log" 2>&1; then
        say "(could not upgrade pip; going on with $("$VPY" -m pip --version 2>/dev/null | cut -d' ' -f1-2))"
    fi
    if ! "$VPY" -m pip install -q -e '.[test]' >"$pip_log" 2>&1; then
        tail -n 60 "$pip_log" >&2; rm -f "$pip_log"
        die "pip install -e '.[test]' failed (log above)"
    fi
    rm -f "$pip_log"
    echo "$stamp" >"$stamp_file"
fi
"$VPY" -c 'import pytest, playwright.sync_api' >/dev/null 2>&1 \
    || die "pytest/playwright not importable in .venv; rerun with DEEPTRICKS_FORCE_INSTALL=1"

# --- 4. run the tests ---------------------------------------------------------------
set +e
"$VPY" -m pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
    say "FAILED: pytest collected no tests (exit 5); treating that as a failure"
    exit 1
elif [[ $rc -ne 0 ]]; then
    say "FAILED: pytest exited with code $rc"
fi
exit $rc
