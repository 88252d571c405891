#!/usr/bin/env bash
# The project's one test command:  bash scripts/test.sh [pytest args...]
#
#   1. installs Debian's chromium when /usr/bin/chromium is missing (browser tests
#      drive it through Playwright; `playwright install` cannot download browsers here),
#      and Debian's nginx when missing (the scale-out test starts its own, never the service),
#   2. runs the whole suite on up to two stacks, one after the other (never in parallel:
#      the browser tests are timing-sensitive):
#        - the default stack: $PYTHON (python3) in the virtualenv .venv;
#        - the newest stack: the newest Python >= 3.12 on the machine, in its own virtualenv
#          .venv-py3.X. It is looked for as python3.13 / python3.12 on PATH and as pyenv's
#          $(pyenv root)/versions/3.1[23]*/bin/python3.1[23]; when none is found (or it is
#          the same minor version as the default), only the default stack runs and the
#          summary says so.
#      For each stack it
#        a. creates the virtualenv with that interpreter if missing (or broken, or made by
#           another Python version),
#        b. pip-installs the project editable with its `test` extra into it (skipped when
#           nothing relevant changed since the last successful install: the install stamp),
#        c. runs `<venv>/bin/python -m pytest "$@"` from the repo root (the same arguments on
#           every stack), with a JUnit XML report in a temporary file to count the results.
#   3. prints a summary: one line per stack ("[test.sh] stack python 3.11.7 / panel 1.9.4 /
#      bokeh 3.9.2: 1020 passed (5m40s)"), a line per stack that did not run and why, and
#      last a plain line with the totals over the stacks, exactly
#          N passed, M failed            (", K skipped" appended when K > 0)
#      M counts failed tests and errors; a stack that failed without a failing test (venv or
#      pip failure, no test collected, pytest usage/internal error, interrupted) adds 1 to M,
#      so that line never reads "0 failed" when the command fails.
#
# Exits non-zero when anything fails on any stack, including when pytest collected no test
# (exit 5). The second stack still runs when the first fails.
#
# Environment knobs:
#   PYTHON=...                  interpreter of the default stack (.venv), default python3
#   DEEPTRICKS_STACKS=all       (default) the default stack, then the newest Python >= 3.12 if any
#   DEEPTRICKS_STACKS=default   only the default stack (the quick local loop)
#   DEEPTRICKS_FORCE_INSTALL=1  re-run pip in every venv even if its install stamp is current
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
STACKS="${DEEPTRICKS_STACKS:-all}"
NEW_MINORS=(13 12)          # the second stack's candidates, newest first (all >= 3.12)
CHROMIUM=/usr/bin/chromium

say() { printf '[test.sh] %s\n' "$*" >&2; }
die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 1; }

case "$STACKS" in
    all|default) ;;
    *) die "DEEPTRICKS_STACKS='$STACKS': expected 'all' or 'default'" ;;
esac

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

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

# --- 2. the interpreters ------------------------------------------------------------
# py_version PY: prints PY's "X.Y.Z" (fails when PY does not start, e.g. a pyenv shim
# for a version that is not selected)
py_version() {
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null
}

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found (set PYTHON=/path/to/python3.11+)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$("$PYTHON" --version 2>&1) is too old: deeptricks needs Python >= 3.11"
DEFAULT_VERSION="$(py_version "$PYTHON")" || die "'$PYTHON' does not start"

# find_new_python: sets NEW_PY / NEW_VERSION to the newest working Python >= 3.12 among
# python3.1x on PATH and pyenv's versions; NEW_PY stays empty when there is none.
NEW_PY=""; NEW_VERSION=""
NEW_LOOKED=""
find_new_python() {
    local cands=() m p v proot=""
    for m in "${NEW_MINORS[@]}"; do
        p="$(command -v "python3.$m" 2>/dev/null)" && cands+=("$p")
    done
    if command -v pyenv >/dev/null 2>&1; then proot="$(pyenv root 2>/dev/null || true)"; fi
    proot="${proot:-${PYENV_ROOT:-$HOME/.pyenv}}"
    for m in "${NEW_MINORS[@]}"; do
        for p in "$proot"/versions/3."$m"*/bin/python3."$m"; do
            [[ -x "$p" ]] && cands+=("$p")
        done
    done
    NEW_LOOKED="$(printf 'python3.%s ' "${NEW_MINORS[@]}")on PATH, $proot/versions/3.{$(IFS=,; echo "${NEW_MINORS[*]}")}*/bin"
    for p in "${cands[@]}"; do
        v="$(py_version "$p")" || continue
        [[ "$(printf '%s\n' "$v" 3.12.0 | sort -V | head -n1)" == 3.12.0 ]] || continue
        if [[ -z "$NEW_VERSION" || "$(printf '%s\n' "$v" "$NEW_VERSION" | sort -V | tail -n1)" != "$NEW_VERSION" ]]; then
            NEW_PY="$p"; NEW_VERSION="$v"
        fi
    done
}

# --- 3. one stack: venv + install + pytest ------------------------------------------------
# run_stack N PY VENV [pytest args...]: runs in a subshell (a failing step ends only this
# stack); writes $WORK/stack-N.label ("python X / panel Y / bokeh Z") once the venv is
# installed, and $WORK/stack-N.xml (JUnit report); returns pytest's exit code, 1 on a
# setup failure.
run_stack() {
    local n="$1" py="$2" venv="$3"; shift 3
    local vpy="$venv/bin/python" name
    name="$(basename "$venv")"

    # a. virtualenv
    if [[ -x "$vpy" ]] && ! "$vpy" -c 'import sys' >/dev/null 2>&1; then
        say "$name is broken (its interpreter does not start): recreating it"
        rm -rf "$venv"
    elif [[ -x "$vpy" && "$(py_version "$vpy")" != "$(py_version "$py")" ]]; then
        say "$name was made with Python $(py_version "$vpy"), not $(py_version "$py"): recreating it"
        rm -rf "$venv"
    fi
    if [[ ! -x "$vpy" ]]; then
        say "creating $name with $("$py" --version 2>&1) ($py)..."
        if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
            # Debian's own pythons ship venv/ensurepip separately
            rm -rf "$venv"
            local pyreal mm venv_pkg=python3-venv
            pyreal="$(command -v "$py")"
            if [[ "$pyreal" == /usr/bin/* ]] && command -v apt-get >/dev/null 2>&1; then
                mm="$(py_version "$py" | cut -d. -f1,2)"
                if [[ -x /usr/bin/python3 && "$(py_version /usr/bin/python3 | cut -d. -f1,2)" != "$mm" ]]; then
                    venv_pkg="python$mm-venv"
                fi
                say "python -m venv failed: installing $venv_pkg (apt-get)..."
                apt_install "$venv_pkg"
            fi
            "$py" -m venv "$venv" || die "$py -m venv failed (Debian: apt-get install $venv_pkg)"
        fi
    fi

    # b. install the project + test extra
    # The stamp covers what can change what pip would do: pyproject.toml, the
    # interpreter, and the set of importable packages under src/ (an editable install
    # made before a package's __init__.py existed does not map that package).
    local stamp_file="$venv/.deeptricks-install-stamp" stamp pip_log
    stamp="$( {
        "$vpy" -c 'import sys; print(sys.version)'
        cat pyproject.toml
        find src -name __init__.py -print 2>/dev/null | LC_ALL=C sort
    } | sha256sum | cut -d' ' -f1 )"
    if [[ "${DEEPTRICKS_FORCE_INSTALL:-0}" == 1 || ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$stamp" ]]; then
        say "installing deeptricks[test] into $name (first run takes a few minutes)..."
        rm -f "$stamp_file"
        pip_log="$(mktemp)"
        if ! "$vpy" -m pip install -q --upgrade pip >"$pip_log" 2>&1; then
            say "(could not upgrade pip; going on with $("$vpy" -m pip --version 2>/dev/null | cut -d' ' -f1-2))"
        fi
        if ! "$vpy" -m pip install -q -e '.[test]' >"$pip_log" 2>&1; then
            tail -n 60 "$pip_log" >&2; rm -f "$pip_log"
            die "pip install -e '.[test]' into $name failed (log above)"
        fi
        rm -f "$pip_log"
        echo "$stamp" >"$stamp_file"
    fi
    "$vpy" -c 'import pytest, playwright.sync_api' >/dev/null 2>&1 \
        || die "pytest/playwright not importable in $name; rerun with DEEPTRICKS_FORCE_INSTALL=1"
    "$vpy" -c 'import platform, panel, bokeh
print("python %s / panel %s / bokeh %s" % (platform.python_version(), panel.__version__, bokeh.__version__))' \
        >"$WORK/stack-$n.label" 2>/dev/null \
        || die "deeptricks' dependencies (panel, bokeh) not importable in $name"

    # c. the tests (our --junitxml comes first: a --junitxml in "$@" wins, and is read instead)
    say "stack $n: $(cat "$WORK/stack-$n.label") ($name): python -m pytest $*"
    local rc=0
    "$vpy" -m pytest --junitxml="$WORK/stack-$n.xml" "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then
        say "stack $n FAILED: pytest collected no tests (exit 5); treating that as a failure"
    elif [[ $rc -ne 0 ]]; then
        say "stack $n FAILED: pytest exited with code $rc"
    fi
    return $rc
}

# junit_path N ARGS...: the JUnit report of stack N (the last --junitxml/--junit-xml in ARGS if any)
junit_path() {
    local n="$1" path="$WORK/stack-$1.xml"; shift
    while (($#)); do
        case "$1" in
            --junitxml=*|--junit-xml=*) path="${1#*=}" ;;
            --junitxml|--junit-xml) [[ $# -ge 2 ]] && { path="$2"; shift; } ;;
        esac
        shift
    done
    printf '%s' "$path"
}

# junit_counts XML: prints "passed failed skipped" (failed includes errors) or fails
junit_counts() {
    [[ -s "$1" ]] || return 1
    "$PYTHON" - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e, s)
EOF
}

fmt_counts() {  # fmt_counts PASSED FAILED SKIPPED
    local out="$1 passed, $2 failed"
    [[ "$3" -gt 0 ]] && out+=", $3 skipped"
    printf '%s' "$out"
}

fmt_stack_counts() {  # like fmt_counts, but only the non-zero failed/skipped counts
    local out="$1 passed"
    [[ "$2" -gt 0 ]] && out+=", $2 failed"
    [[ "$3" -gt 0 ]] && out+=", $3 skipped"
    printf '%s' "$out"
}

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# --- 4. run the stacks, one after the other ---------------------------------------------
STACK_PYS=("$PYTHON"); STACK_VENVS=("$ROOT/.venv")
NOT_RUN=()
if [[ "$STACKS" == all ]]; then
    find_new_python
    if [[ -z "$NEW_PY" ]]; then
        NOT_RUN+=("second stack not run: no Python >= 3.12 found (looked for $NEW_LOOKED)")
    elif [[ "$(cut -d. -f1,2 <<<"$NEW_VERSION")" == "$(cut -d. -f1,2 <<<"$DEFAULT_VERSION")" ]]; then
        NOT_RUN+=("second stack not run: the newest Python found ($NEW_PY, $NEW_VERSION) is the default's minor version ($PYTHON, $DEFAULT_VERSION)")
    else
        STACK_PYS+=("$NEW_PY"); STACK_VENVS+=("$ROOT/.venv-py$(cut -d. -f1,2 <<<"$NEW_VERSION")")
    fi
else
    NOT_RUN+=("second stack not run: DEEPTRICKS_STACKS=default")
fi

nstacks=${#STACK_PYS[@]}
if [[ $nstacks -gt 1 ]]; then
    say "running $nstacks stacks one after the other: $PYTHON ($DEFAULT_VERSION) and $NEW_PY ($NEW_VERSION)"
fi
SUMMARY=()
total_p=0; total_f=0; total_s=0; overall=0
for ((i = 0; i < nstacks; i++)); do
    n=$((i + 1))
    py="${STACK_PYS[$i]}"; venv="${STACK_VENVS[$i]}"
    rm -f "$WORK/stack-$n.label" "$WORK/stack-$n.xml"
    xml="$(junit_path "$n" "$@")"
    [[ "$xml" != "$WORK/stack-$n.xml" ]] && rm -f "$xml"
    start=$SECONDS
    set +e
    ( set -e; run_stack "$n" "$py" "$venv" "$@" )
    rc=$?
    set -e
    took="$(fmt_secs $((SECONDS - start)))"
    label="$(cat "$WORK/stack-$n.label" 2>/dev/null || echo "python $(py_version "$py") ($(basename "$venv"), not installed)")"
    if counts="$(junit_counts "$xml" 2>/dev/null)"; then
        read -r p f s <<<"$counts"
    else
        p=0; f=0; s=0
    fi
    line="$(fmt_stack_counts "$p" "$f" "$s")"
    if [[ $rc -ne 0 ]]; then
        overall=1
        if [[ $f -eq 0 ]]; then
            f=1   # the stack failed without a failing test: count the stack itself
            if [[ ! -f "$WORK/stack-$n.label" ]]; then line="setup FAILED (venv/pip, see above)"
            elif [[ $rc -eq 5 ]]; then line="FAILED: no tests collected (pytest exit 5)"
            else line="$line; FAILED: pytest exit $rc"
            fi
        else
            line="$line; FAILED (pytest exit $rc)"
        fi
    fi
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
    SUMMARY+=("stack $label: $line ($took)")
done

echo
echo "[test.sh] ======================== summary ========================"
for l in "${SUMMARY[@]}"; do echo "[test.sh] $l"; done
for l in "${NOT_RUN[@]}"; do echo "[test.sh] $l"; done
fmt_counts "$total_p" "$total_f" "$total_s"; echo
exit $overall
