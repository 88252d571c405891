"""Scaling out: `deeptricks serve --num-procs 2`, and Debian's nginx running the shipped
deploy/nginx.conf (ports and paths substituted) in front of two `deeptricks serve` processes.

Through nginx an explorable renders and follows its slider; each page's HTTP request and its
websocket reach the same backend (nginx adds an X-Upstream header to both, read here through
the Chrome DevTools protocol); browsers with different affinity cookies are spread over the
backends; requests without the cookie (what a course site on another origin sends) are keyed
by the client's address, checked from several loopback addresses.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from browser_harness import ROOT, free_port, slider_value, source_data, wait_for, wait_idle
from deeptricks_server import get, start_servers

from deeptricks.explorables.registry import EXPLORABLES

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
COOKIE = "deeptricks_lb"


@pytest.fixture(scope="module")
def ports():
    return {"nginx": free_port()}


@pytest.fixture(scope="module")
def servers(ports):
    """Started together so their start-up overlaps: a --num-procs 2 server and two backends."""
    origin = f"127.0.0.1:{ports['nginx']}"
    backend = ("--use-xheaders", "--allow-websocket-origin", origin)
    try:
        found = start_servers(("--num-procs", "2"), backend, backend)
    except Exception as exc:  # HarnessError: the message has the server's output
        pytest.fail(str(exc), pytrace=False)
    yield {"multi": found[0], "backends": found[1:]}
    for s in found:
        s.stop()


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def n_dropped(page) -> int:
    return len(source_data(page, "dropout-dropped")["col"])


def lower_p_by_keyboard(page, presses: int = 4) -> None:
    """Move the dropout-rate slider down from the keyboard and wait for the unit grid to follow."""
    p0, before = slider_value(page, "Dropout rate"), n_dropped(page)
    page.locator(".noUi-handle").first.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowLeft")
    wait_for(lambda: slider_value(page, "Dropout rate") < p0 and n_dropped(page) < before,
             "fewer dropped units after lowering p")


def test_num_procs_2_serves_every_route_and_sessions(servers, page):
    server = servers["multi"]
    workers = wait_for(lambda: len(_children(server.proc.pid)) == 2 and _children(server.proc.pid),
                       "two worker processes")
    assert len(workers) == 2
    for route in ["/", "/liveness"] + [f"/{e.slug}" for e in EXPLORABLES]:
        status, _, body = get(server.base_url + route)
        assert status == 200, route
        assert route == "/liveness" or "bokeh" in body.lower(), route
    page.goto(server.base_url + "/dropout?p=0.9")
    wait_idle(page)
    assert slider_value(page, "Dropout rate") == 0.9       # the link's value survives the fork
    wait_for(lambda: n_dropped(page) > 200, "about 90% of units dropped")
    lower_p_by_keyboard(page)
    assert not server.errors_since(0), server.log_text()


# --------------------------------------------------------------------------- nginx


def nginx_config(prefix: Path, listen_port: int, backends: list[str]) -> str:
    """deploy/nginx.conf with its listen port, upstream servers, pid, log and temp paths replaced."""
    text = NGINX_CONF.read_text()
    subs = [
        (r"^pid \S+;$", f"pid {prefix}/nginx.pid;"),
        (r"^error_log \S+", f"error_log {prefix}/error.log"),
        (r"^(\s*)access_log \S+", rf"\1access_log {prefix}/access.log"),
        (r"^(\s*)listen 80;$", rf"\1listen 127.0.0.1:{listen_port};"),
        (r"^(\s*)(hash \$deeptricks_lb_key consistent;\n)(?:\s*server 127\.0\.0\.1:\d+;\n)+",
         lambda m: m.group(1) + m.group(2) + "".join(f"{m.group(1)}server {b};\n" for b in backends)),
        (r"^http \{$", "http {\n" + "".join(f"    {k}_temp_path {prefix}/{k};\n" for k in
                                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))),
    ]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text, flags=re.M)
        assert n == 1, f"deploy/nginx.conf changed shape: {pattern!r} matched {n} times (expected 1)"
    return text


@pytest.fixture(scope="module")
def nginx(servers, ports):
    """nginx -c <generated conf> -g 'daemon off;' in its own temporary prefix; yields its base URL."""
    exe = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.path.exists(p)), None)
    if exe is None:
        pytest.fail("nginx is not installed: the scale-out test runs Debian's nginx "
                    "(`apt-get install -y nginx`; `bash scripts/test.sh` installs it).", pytrace=False)
    prefix = Path(tempfile.mkdtemp(prefix="deeptricks-nginx-"))
    prefix.chmod(0o755)  # nginx's workers drop root privileges and must reach their temp paths
    backends = [f"127.0.0.1:{s.port}" for s in servers["backends"]]
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(prefix, ports["nginx"], backends))
    cmd = [exe, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"]
    check = subprocess.run([*cmd, "-t"], capture_output=True, text=True)
    if check.returncode != 0:
        pytest.fail(f"nginx rejected the configuration generated from deploy/nginx.conf:\n{check.stderr}",
                    pytrace=False)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    base = f"http://127.0.0.1:{ports['nginx']}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                err = (prefix / "error.log").read_text() if (prefix / "error.log").exists() else ""
                pytest.fail(f"nginx exited with code {proc.returncode}:\n{proc.stdout.read()}\n{err}",
                            pytrace=False)
            try:
                if get(base + "/liveness", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("nginx did not answer /liveness within 20 s", pytrace=False)
            time.sleep(0.1)
        yield {"base": base, "backends": backends, "prefix": prefix}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGQUIT)  # graceful stop of this nginx (our own process group)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)


def track_upstreams(page) -> list[tuple[str, str]]:
    """Record ('page'|'ws', X-Upstream) for the page's document loads and websocket handshakes."""
    seen: list[tuple[str, str]] = []
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")

    def upstream(response) -> str:
        return {k.lower(): v for k, v in response["headers"].items()}.get("x-upstream", "")

    cdp.on("Network.responseReceived",
           lambda e: e["type"] == "Document" and seen.append(("page", upstream(e["response"]))))
    cdp.on("Network.webSocketHandshakeResponseReceived",
           lambda e: seen.append(("ws", upstream(e["response"]))))
    return seen


def backend_for_cookie(base: str, value: str) -> str:
    return get(base + "/liveness", headers={"Cookie": f"{COOKIE}={value}"})[1]["x-upstream"]


def test_nginx_balances_with_session_affinity(servers, nginx, page, browser):
    base, backends = nginx["base"], nginx["backends"]

    # a first visit: nginx picks a key, sets it as a cookie, and page + websocket share a backend
    seen_a = track_upstreams(page)
    page.goto(base + "/dropout?p=0.7")
    wait_idle(page)
    assert slider_value(page, "Dropout rate") == 0.7
    wait_for(lambda: len(seen_a) >= 2, "the page and its websocket")
    (page_a, ws_a) = seen_a[:2]
    assert page_a[0] == "page" and ws_a[0] == "ws" and page_a[1] in backends
    assert page_a[1] == ws_a[1], seen_a
    cookie = [c["value"] for c in page.context.cookies() if c["name"] == COOKIE]
    assert len(cookie) == 1 and backend_for_cookie(base, cookie[0]) == page_a[1]
    lower_p_by_keyboard(page)                                 # the session answers through nginx

    # another browser whose cookie hashes to the other backend lands there, page and websocket
    other = next(b for b in backends if b != page_a[1])
    value = next(v for v in (secrets.token_hex(16) for _ in range(200)) if backend_for_cookie(base, v) == other)
    context = browser.new_context()
    try:
        context.add_cookies([{"name": COOKIE, "value": value, "url": base}])
        page_b = context.new_page()
        seen_b = track_upstreams(page_b)
        page_b.goto(base + "/dropout?p=0.2")
        wait_idle(page_b)
        wait_for(lambda: len(seen_b) >= 2, "the second page and its websocket")
        assert seen_b[:2] == [("page", other), ("ws", other)], seen_b
        assert slider_value(page_b, "Dropout rate") == 0.2
    finally:
        context.close()

    # without the cookie and not a top-level page load (a course site's autoload.js request or
    # websocket): keyed by the client's address, the same backend every time, no cookie set
    by_address = {}
    for i in range(2, 26):
        source = f"127.0.0.{i}"
        answers = {get(base + "/liveness", headers={"Sec-Fetch-Dest": "empty"}, source=source)[1].get("x-upstream")
                   for _ in range(2)}
        assert len(answers) == 1, (source, answers)
        by_address[source] = answers.pop()
    assert set(by_address.values()) == set(backends), by_address
    assert "set-cookie" not in get(base + "/liveness", headers={"Sec-Fetch-Dest": "empty"})[1]

    for s in servers["backends"]:
        assert not s.errors_since(0), s.log_text()


def test_a_flood_from_one_address_is_paced_while_learners_keep_moving(servers, nginx, browser):
    """150 page loads at once from one address (127.0.0.5) through deploy/nginx.conf, each
    giving up after 12 s: 4 reach the backends at once and then one a second, 120 more wait
    in nginx, and the rest are answered 429 at once; another address still gets its page, and
    two learners already on their pages keep moving their sliders during and after it."""
    import socket
    import threading
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    base = nginx["base"]
    learners = []
    for _ in range(2):
        ctx = browser.new_context(viewport={"width": 1000, "height": 800})
        pg = ctx.new_page()
        pg.goto(base + "/dropout/units")
        wait_idle(pg)
        learners.append((ctx, pg))
    codes: Counter = Counter()
    lock = threading.Lock()

    def load(_):
        try:
            status = get(base + "/dropout/units", source="127.0.0.5", timeout=12)[0]
        except (TimeoutError, socket.timeout):
            status = "waiting"
        with lock:
            codes[status] += 1

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(150) as pool:
            futures = [pool.submit(load, i) for i in range(150)]
            time.sleep(2)                              # mid-flood: the learners move, another address loads
            for _, pg in learners:
                lower_p_by_keyboard(pg, presses=2)
            assert get(base + "/dropout/units", source="127.0.0.6", timeout=60)[0] == 200
            for f in futures:
                f.result()
        elapsed = time.monotonic() - started
        assert set(codes) <= {200, 429, "waiting"} and sum(codes.values()) == 150, codes
        assert codes[429] >= 150 - 125, codes                              # beyond the waiting room
        assert 4 <= codes[200] <= 4 + elapsed + 2, (codes, elapsed)         # paced: one a second
        for _, pg in learners:                         # and after it
            lower_p_by_keyboard(pg, presses=2)
        for s in servers["backends"]:
            assert not s.errors_since(0), s.log_text()
    finally:
        for ctx, _ in learners:
            ctx.close()
