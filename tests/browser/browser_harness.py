"""Plain helpers shared by the browser tests (tests/browser/conftest.py) and the
latency benchmark (benchmarks/latency.py): start/stop a `panel serve` subprocess,
launch Debian's Chromium through Playwright, and read Bokeh models in the page.

No pytest in here: failures raise HarnessError with a message meant for humans.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
SERVER_START_TIMEOUT = 60.0
# what bokeh's server logs when an app script raises (the page still answers 200)
APP_ERROR_MARKER = "Error running application handler"


class HarnessError(RuntimeError):
    """The browser harness could not do its job (server/browser missing or dead)."""


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_route(path: str | os.PathLike) -> str:
    """The route `panel serve` gives an app file: /<file stem>."""
    return "/" + Path(path).stem


@dataclass
class PanelServer:
    """A `python -m panel serve FILES` subprocess bound to 127.0.0.1:<free port>."""

    paths: tuple[Path, ...]
    extra_args: tuple[str, ...] = ()
    python: str = sys.executable
    port: int = 0
    proc: subprocess.Popen | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def urls(self) -> dict[str, str]:
        """App stem -> full URL of that app."""
        return {p.stem: self.base_url + app_route(p) for p in self.paths}

    @property
    def url(self) -> str:
        """URL of the first app."""
        return self.base_url + app_route(self.paths[0])

    def log_text(self, tail: int = 8000) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        with open(self._log.name, "r", errors="replace") as fh:
            text = fh.read()
        return text[-tail:]

    def log_offset(self) -> int:
        """Current size of the server's log (for log_since)."""
        if self._log is None:
            return 0
        self._log.flush()
        return os.path.getsize(self._log.name)

    def log_since(self, offset: int) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        with open(self._log.name, "r", errors="replace") as fh:
            fh.seek(offset)
            return fh.read()

    def errors_since(self, offset: int) -> str:
        """Server output since `offset` if it holds a traceback or an app error, else ''.

        Exceptions in Panel callbacks only show up here: the page stays silent.
        """
        text = self.log_since(offset)
        if "Traceback (most recent call last)" in text or APP_ERROR_MARKER in text:
            return text
        return ""

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> "PanelServer":
        for p in self.paths:
            if not p.is_file():
                raise HarnessError(f"app file not found: {p}")
        self.port = self.port or free_port()
        cmd = [
            self.python, "-m", "panel", "serve", *map(str, self.paths),
            "--port", str(self.port),
            "--address", "127.0.0.1",
            "--allow-websocket-origin", f"127.0.0.1:{self.port}",
            *self.extra_args,
        ]
        self._log = tempfile.NamedTemporaryFile(
            "w+", prefix="panel-serve-", suffix=".log", delete=False
        )
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        targets = list(self.urls.values())
        last_err = "no answer yet"
        while True:
            if self.proc.poll() is not None:
                log = self.log_text()
                self.stop()
                raise HarnessError(
                    f"`{' '.join(cmd)}` exited with code {self.proc.returncode} before serving.\n"
                    f"--- server output ---\n{log}"
                )
            try:
                ok = True
                for url in targets:
                    with urllib.request.urlopen(url, timeout=5) as resp:
                        if resp.status != 200:
                            ok, last_err = False, f"GET {url} -> HTTP {resp.status}"
                if ok:
                    log = self.log_text(200_000)
                    if APP_ERROR_MARKER in log:  # Bokeh answers 200 with an error page
                        self.stop()
                        raise HarnessError(
                            f"an app raised while building its document (GET -> 200, but "
                            f"see below).\n--- server output ---\n{log[-8000:]}"
                        )
                    return self
            except (urllib.error.URLError, OSError) as exc:  # not up yet / 500 while loading
                last_err = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                log = self.log_text()
                self.stop()
                raise HarnessError(
                    f"panel serve did not answer 200 on {targets} within {timeout:.0f} s "
                    f"(last: {last_err}).\n--- server output ---\n{log}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Terminate the server and everything it spawned (its own process group)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            try:
                os.unlink(self._log.name)
            except OSError:
                pass
            self._log = None

    def __enter__(self) -> "PanelServer":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(paths: str | os.PathLike | Iterable[str | os.PathLike],
          extra_args: Sequence[str] = (), timeout: float = SERVER_START_TIMEOUT) -> PanelServer:
    """Start `panel serve` on `paths` (relative paths are taken from the repo root)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    resolved = tuple((ROOT / p).resolve() if not Path(p).is_absolute() else Path(p) for p in paths)
    if not resolved:
        raise HarnessError("serve() needs at least one app file")
    return PanelServer(resolved, tuple(extra_args)).start(timeout)


# --------------------------------------------------------------------------- browser


def check_chromium() -> None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise HarnessError(
            f"{CHROMIUM} is missing: browser tests drive Debian's chromium "
            "(`apt-get install -y chromium`; `bash scripts/test.sh` does it for you)."
        )


def launch_chromium(playwright, **kwargs):
    """Launch Debian's Chromium headless through Playwright (never a downloaded build)."""
    check_chromium()
    args = list(CHROMIUM_ARGS) + list(kwargs.pop("args", []))
    try:
        return playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=args, **kwargs
        )
    except Exception as exc:  # playwright.Error: give the reason and the fix
        raise HarnessError(f"could not launch {CHROMIUM} via Playwright: {exc}") from exc


# --------------------------------------------------------------------------- Bokeh in the page

# Turns BokehJS values into JSON-friendly ones: typed arrays/ndarrays -> arrays,
# Maps -> objects, models -> {id, type, name}.
JS_PLAIN = """
const __plain = (v, depth = 0) => {
  if (v == null || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) return Array.from(v);
  if (Array.isArray(v)) return v.map((x) => __plain(x, depth + 1));
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, __plain(x, depth + 1)]));
  if (typeof v.setv === "function" && "id" in v) return {id: v.id, type: v.type, name: v.name};
  if (depth > 6) return String(v);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, __plain(x, depth + 1)]));
};
"""

JS_FIRST_RENDER = "() => window.Bokeh !== undefined && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"

# The whole page drawn: the first render done, no section still waiting to be sent (the pages
# send what is below the first screen once that is drawn: ui.layout.page's `later`), and every
# element reachable from the document's roots has a view that finished drawing. (A plot's hidden
# toolbar has no view.) Reachable, not `all_models`: BokehJS 3.10 drops a model that an update
# made unreachable only at its next sweep, up to 30 s later (Document's `recompute_timeout`), and
# such a model never gets a view; the lab's curves, moved between columns, leave one behind.
JS_IDLE = """() => {
  if (!(""" + JS_FIRST_RENDER + """)()) return false;
  const doc = Bokeh.documents[0];
  const reachable = new Set();
  for (const root of doc.roots()) for (const m of root.references()) reachable.add(m);
  const elements = [...reachable].filter(
    (m) => "css_classes" in m.properties && "visible" in m.properties && m.type != "Toolbar");
  if (elements.some((m) => m.css_classes.includes("dt-pending"))) return false;
  const views = new Map([...Bokeh.index.query(() => true)].map((v) => [v.model, v]));
  return elements.every((m) => views.has(m) && views.get(m).has_finished());
}"""


def wait_first_render(page, timeout: float = 30_000) -> None:
    """Wait until BokehJS has a document and it finished its first render (ms timeout): the
    first screen of a page, before the sections sent after it arrive."""
    page.wait_for_function(JS_FIRST_RENDER, timeout=timeout)


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the whole page is drawn: the first render and every section sent after it
    (ms timeout)."""
    page.wait_for_function(JS_IDLE, timeout=timeout, polling=100)


def source_data(page, name: str) -> dict[str, list]:
    """The `.data` of the ColumnDataSource named `name`, as {column: list}."""
    return page.evaluate(
        "(name) => {" + JS_PLAIN + """
          const m = Bokeh.documents[0].get_model_by_name(name);
          if (m == null) throw new Error(`no Bokeh model named '${name}'`);
          if (m.data === undefined) throw new Error(`model '${name}' (${m.type}) has no .data`);
          return __plain(m.data);
        }""",
        name,
    )


def model_prop(page, name: str, prop: str) -> Any:
    """Property `prop` of the Bokeh model named `name` (JSON-friendly)."""
    return page.evaluate(
        "([name, prop]) => {" + JS_PLAIN + """
          const m = Bokeh.documents[0].get_model_by_name(name);
          if (m == null) throw new Error(`no Bokeh model named '${name}'`);
          if (!(prop in m.properties)) throw new Error(`model '${name}' (${m.type}) has no property '${prop}'`);
          return __plain(m[prop]);
        }""",
        [name, prop],
    )


def models_of_type(page, type_name: str) -> list[dict]:
    """[{id, name, ...plain props}] of every model whose type name is `type_name` (e.g. 'Slider')."""
    return page.evaluate(
        "(t) => {" + JS_PLAIN + """
          const out = [];
          for (const m of Bokeh.documents[0].all_models) {
            if (m.type === t || m.constructor.__name__ === t) {
              const props = {};
              for (const p of Object.keys(m.properties)) {
                let v;
                try { v = m[p]; } catch (e) { continue; }  // unset property
                if (v == null || typeof v !== "object" || ArrayBuffer.isView(v) || Array.isArray(v)) props[p] = __plain(v);
              }
              out.push({id: m.id, name: m.name, type: m.type, ...props});
            }
          }
          return out;
        }""",
        type_name,
    )


def wait_for(predicate, what: str, timeout: float = 15.0):
    """Poll ``predicate()`` every 0.1 s until it returns something truthy; return that.

    Raises AssertionError naming ``what`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def slider_value(page, title: str) -> float:
    """The value of the one Bokeh slider whose title contains ``title`` (a Panel slider's label)."""
    found = [s for s in models_of_type(page, "Slider") if title in str(s.get("title"))]
    assert len(found) == 1, found
    return float(found[0]["value"])


def address(page) -> str:
    """The address the page shows now (``window.location.href``).

    Playwright's ``page.url`` follows ``history.pushState`` through navigation
    events and can lag behind a quick series of them, so tests read the
    browser's own location instead.
    """
    return page.evaluate("() => window.location.href")


# A page's first screen: the guided path's card, its first figure and its main control.
FIRST_SCREEN = {       # slug -> (first figure, a Bokeh model name; main control, its label's start)
    "dropout": ("dropout-units", "Dropout rate p"),
    "batch_norm": ("bn-left", "Weight scale (init gain)"),
    "layer_norm": ("ln-table", "Example (row)"),
    "residual": ("residual-grad", "Depth (blocks)"),
    "lab": ("lab-boundary-a", "Noise"),
}

JS_BOXES = r"""
([figure, control]) => {
  function deepAll(root, sel, acc) {
    acc.push(...root.querySelectorAll(sel));
    for (const e of root.querySelectorAll("*")) if (e.shadowRoot) deepAll(e.shadowRoot, sel, acc);
    return acc;
  }
  const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect();
                       return [Math.round(r.top), Math.round(r.bottom)]; };
  const doc = Bokeh.documents[0];
  const fig = doc.get_model_by_name(figure) || doc.get_model_by_name(figure + "-figure");
  const view = fig ? [...Bokeh.index.query((v) => v.model === fig)][0] : null;
  const card = deepAll(document, "section.card", [])[0];
  const slider = deepAll(document, ".noUi-target", []).find((e) => {
    const host = e.closest(".bk-input-group") || e.parentElement.parentElement;
    return host && host.textContent.trim().startsWith(control);
  });
  return { card: box(card), figure: box(view ? view.el : null), control: box(slider) };
}
"""


def first_screen_boxes(page, slug: str) -> dict[str, list[int] | None]:
    """Top and bottom (px, in the viewport) of the step card, the first figure and the main control."""
    return page.evaluate(JS_BOXES, list(FIRST_SCREEN[slug]))
