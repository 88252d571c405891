"""`deeptricks serve` as a subprocess for the browser tests (embedding, --num-procs, nginx).

The harness's PanelServer runs `panel serve FILES`; this subclass runs the package's own
server command instead and keeps the rest (log capture, errors_since, stop by process group).
Several servers can be started at once with start(wait=False) and awaited later, so their
start-up times overlap.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import browser_harness as bh


@dataclass
class DeeptricksServer(bh.PanelServer):
    """`python -m deeptricks serve --address 127.0.0.1 --port PORT *extra_args`."""

    @property
    def urls(self) -> dict[str, str]:
        return {"": self.base_url + "/"}

    @property
    def url(self) -> str:
        return self.base_url + "/"

    def start(self, timeout: float = bh.SERVER_START_TIMEOUT, wait: bool = True) -> "DeeptricksServer":
        self.port = self.port or bh.free_port()
        self.cmd = [self.python, "-m", "deeptricks", "serve", "--address", "127.0.0.1",
                    "--port", str(self.port), *self.extra_args]
        self._log = tempfile.NamedTemporaryFile("w+", prefix="deeptricks-serve-", suffix=".log",
                                                delete=False)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN", None)
        self.proc = subprocess.Popen(self.cmd, cwd=bh.ROOT, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if wait:
            self.wait_live(timeout)
        return self

    def wait_live(self, timeout: float = bh.SERVER_START_TIMEOUT) -> "DeeptricksServer":
        """Wait until /liveness answers 200; raise HarnessError with the log if it never does."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            if self.proc.poll() is not None:
                log = self.log_text()
                raise bh.HarnessError(f"`{' '.join(self.cmd)}` exited with code {self.proc.returncode}"
                                      f" before serving.\n--- server output ---\n{log}")
            try:
                with urllib.request.urlopen(self.base_url + "/liveness", timeout=5) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                log = self.log_text()
                self.stop()
                raise bh.HarnessError(f"`{' '.join(self.cmd)}` did not answer /liveness within "
                                      f"{timeout:.0f} s (last: {last}).\n--- server output ---\n{log}")
            time.sleep(0.2)


def start_servers(*arg_lists, timeout: float = bh.SERVER_START_TIMEOUT) -> list[DeeptricksServer]:
    """Start one server per argument list at the same time; return them once all answer."""
    servers = [DeeptricksServer((), tuple(args)).start(wait=False) for args in arg_lists]
    try:
        for s in servers:
            s.wait_live(timeout)
    except Exception:
        for s in servers:
            s.stop()
        raise
    return servers


def get(url: str, headers: dict | None = None, source: str | None = None, timeout: float = 30):
    """GET ``url`` (optionally from local address ``source``): (status, headers, body text)."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("GET", (u.path or "/") + (f"?{u.query}" if u.query else ""), headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


__all__ = ["DeeptricksServer", "get", "start_servers"]
