"""Fixtures for browser tests: a served Panel app + Debian's headless Chromium.

Every test under tests/browser is marked `browser` (and gets a 180 s pytest-timeout
unless it sets its own). Missing Chromium or Playwright FAILS these tests with the
fix in the message: `bash scripts/test.sh` installs both.

    def test_x(serve_app, page):
        server = serve_app("benchmarks/apps/floor.py")   # started once per session
        page.goto(server.url)
        wait_idle(page)
        data = source_data(page, "floor_hist")

Helpers (import them from browser_harness): wait_idle(page), source_data(page, name),
model_prop(page, name, prop), models_of_type(page, type_name).
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # so test modules can `from browser_harness import ...`
    sys.path.insert(0, str(HERE))

import browser_harness as bh  # noqa: E402
from browser_harness import model_prop, source_data, wait_idle  # noqa: E402,F401

DEFAULT_TIMEOUT_S = 180


def pytest_collection_modifyitems(config, items):
    has_timeout = config.pluginmanager.hasplugin("timeout")
    for item in items:
        try:
            in_here = Path(str(item.fspath)).resolve().is_relative_to(HERE)
        except OSError:
            in_here = False
        if not in_here:
            continue
        item.add_marker(pytest.mark.browser)
        if has_timeout and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


# --------------------------------------------------------------------------- servers


@pytest.fixture
def course_site(tmp_path):
    """A static file server on its own port standing in for a course site: (write, port), where
    ``write(name, html)`` puts a page there and returns its URL."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", bh.free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def write(name: str, html: str) -> str:
        (tmp_path / name).write_text(html)
        return f"http://127.0.0.1:{httpd.server_port}/{name}"

    yield write, httpd.server_port
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _ServerPool:
    def __init__(self):
        self.servers: dict[tuple, bh.PanelServer] = {}

    def get(self, paths, extra_args, fresh=False) -> bh.PanelServer:
        if isinstance(paths, (str, Path)):
            paths = [paths]
        key = (tuple(str(p) for p in paths), tuple(extra_args))
        server = None if fresh else self.servers.get(key)
        if server is not None and server.proc is not None and server.proc.poll() is None:
            return server
        try:
            server = bh.serve(paths, extra_args)
        except bh.HarnessError as exc:
            pytest.fail(str(exc), pytrace=False)
        if not fresh:
            self.servers[key] = server
        return server

    def close(self):
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


@pytest.fixture(scope="session")
def _server_pool():
    pool = _ServerPool()
    yield pool
    pool.close()


@pytest.fixture
def serve_app(_server_pool):
    """Factory: serve_app(path_or_paths, extra_args=(), fresh=False) -> PanelServer.

    Paths are relative to the repo root. The server is shared for the whole session
    per (paths, extra_args) unless fresh=True (then it is stopped after this test).
    Use `.url` (first app), `.urls[stem]`, `.base_url`, `.log_text()`.
    At teardown the test FAILS if a server logged a traceback while it ran
    (exceptions in Panel callbacks never reach the page).
    """
    own: list[bh.PanelServer] = []
    used: list[tuple[bh.PanelServer, int]] = []

    def _serve(path_or_paths, extra_args=(), fresh=False) -> bh.PanelServer:
        server = _server_pool.get(path_or_paths, extra_args, fresh=fresh)
        if fresh:
            own.append(server)
        used.append((server, server.log_offset()))
        return server

    yield _serve
    problems = [
        f"--- {' '.join(p.name for p in server.paths)} (port {server.port}) ---\n{text[-6000:]}"
        for server, offset in used
        if (text := server.errors_since(offset))
    ]
    for server in own:
        server.stop()
    if problems:
        pytest.fail("the Panel server logged errors during the test:\n" + "\n".join(problems),
                    pytrace=False)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(
            f"Playwright is not importable ({exc}). Run the tests with `bash scripts/test.sh`, "
            "which installs the `test` extra into .venv.",
            pytrace=False,
        )
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(_playwright):
    """Debian's headless Chromium (session-wide)."""
    try:
        browser = bh.launch_chromium(_playwright)
    except bh.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield browser
    browser.close()


# Console errors that do not mean the app is broken.
BENIGN_CONSOLE = [
    # external resources are unreachable here (only 127.0.0.1 is served)
    re.compile(r"net::ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|CONNECTION_REFUSED|"
               r"ADDRESS_UNREACHABLE|BLOCKED_BY_CLIENT|TIMED_OUT|PROXY_CONNECTION_FAILED|"
               r"CONNECTION_RESET|TUNNEL_CONNECTION_FAILED)"),
    re.compile(r"favicon\.ico"),
]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class ConsoleLog:
    """What the page said: pageerrors always fail the test, console errors unless benign.

    `console_log.allow(regex)` adds a pattern of console errors this test accepts.
    """

    def __init__(self):
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.ignored: list[str] = []
        self.messages: list[str] = []
        self._allowed: list[re.Pattern] = list(BENIGN_CONSOLE)

    def allow(self, pattern: str) -> None:
        self._allowed.append(re.compile(pattern))

    def on_pageerror(self, error) -> None:
        stack = getattr(error, "stack", None) or ""
        self.page_errors.append(f"{error}\n{stack}".strip())

    def on_console(self, msg) -> None:
        text = msg.text
        self.messages.append(f"[{msg.type}] {text}")
        if msg.type != "error":
            return
        loc = msg.location or {}
        url = loc.get("url", "") if isinstance(loc, dict) else ""
        external = bool(url) and url.startswith("http") and not any(h in url for h in LOCAL_HOSTS)
        if external and "Failed to load resource" in text:
            self.ignored.append(f"{text} ({url})")
        elif any(p.search(text) or (url and p.search(url)) for p in self._allowed):
            self.ignored.append(text)
        else:
            self.console_errors.append(f"{text} ({url})" if url else text)

    def problems(self) -> list[str]:
        return [f"pageerror: {e}" for e in self.page_errors] + [
            f"console.error: {e}" for e in self.console_errors
        ]


@pytest.fixture
def console_log():
    return ConsoleLog()


@pytest.fixture
def page(browser, console_log):
    """A fresh context + page (viewport 1280x900). Fails at teardown on page errors."""
    context = browser.new_context(viewport=bh.VIEWPORT)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.on("pageerror", console_log.on_pageerror)
    pg.on("console", console_log.on_console)
    yield pg
    problems = console_log.problems()  # before close: closing drops the websocket
    context.close()
    if problems:
        pytest.fail(
            "the page reported errors:\n  " + "\n  ".join(problems), pytrace=False
        )
