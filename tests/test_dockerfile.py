"""No Docker engine runs here, so this test performs the Dockerfile's steps by hand.

It reads the Dockerfile's RUN and CMD lines, builds the wheel as the build stage
does, runs the final stage's `pip install` lines in a fresh venv (pip standing in
for the image's), starts the CMD with the image's environment and checks the
liveness endpoint (the HEALTHCHECK's URL) and every route. Changing the Dockerfile
changes what this test runs, so the two stay in step.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

from deeptricks.explorables.registry import EXPLORABLES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from browser_harness import free_port  # noqa: E402


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as a list of stages, each a list of (instruction, argument)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, arg = line.partition(" ")
        if word == "FROM":
            out.append([])
        out[-1].append((word, arg.strip()))
    return out


def test_dockerfile_shape():
    build, final = stages()
    assert any(w == "FROM" and "python:3.11-slim" in a for w, a in final)
    assert ("USER", "deeptricks") in final, "the image must not run as root"
    assert any(w == "HEALTHCHECK" and "/liveness" in a for w, a in final)
    cmd = json.loads(dict(final)["CMD"])
    assert cmd[:2] == ["deeptricks", "serve"] and "0.0.0.0" in cmd and "5006" in cmd
    # the lock pins every runtime dependency to an exact version
    lock = [l for l in (ROOT / "deploy/requirements.lock").read_text().splitlines() if l and l[0] != "#"]
    assert lock and all("==" in l for l in lock)
    names = {l.split("==")[0].lower() for l in lock}
    assert {"numpy", "panel", "bokeh", "param"} <= names
    assert not names & {"pytest", "hypothesis", "playwright"}, "no test dependencies in the image"


@pytest.mark.slow
def test_dockerfile_steps_install_and_serve(tmp_path):
    build, final = stages()
    wheels = tmp_path / "wheels"
    # build stage: its `pip wheel` line, run from a copy of what it COPYs (the checkout)
    (wheel_line,) = [a for w, a in build if w == "RUN" and a.startswith("pip wheel")]
    args = shlex.split(wheel_line.replace("/wheels", str(wheels)))
    subprocess.run([sys.executable, "-m", *args], cwd=ROOT, check=True, capture_output=True)
    assert list(wheels.glob("deeptricks-*.whl"))

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    for w, a in final:
        if w == "RUN" and a.startswith("pip install"):
            a = a.replace("/tmp/requirements.lock", str(ROOT / "deploy/requirements.lock"))
            a = a.replace("/wheels/*.whl", str(next(wheels.glob("*.whl"))))
            r = subprocess.run([str(py), "-m", *shlex.split(a)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr[-3000:]

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    for w, a in final:
        if w == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", a)))
    port = free_port()
    cmd = json.loads(dict(final)["CMD"])
    cmd = [str(env_dir / "bin" / cmd[0]), *cmd[1:]]
    cmd[cmd.index("5006")] = str(port)
    env["DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN"] = f"localhost:{port}"
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(base + "/liveness", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the installed server did not start"
                time.sleep(0.5)
        for route in ["/"] + [f"/{e.slug}" for e in EXPLORABLES]:
            with urllib.request.urlopen(base + route, timeout=30) as r:
                assert r.status == 200, route
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "Traceback" not in out, out
