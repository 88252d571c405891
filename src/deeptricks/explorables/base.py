"""What every explorable page shares: coalesced updates and the page skeleton."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import threading
import weakref
from functools import partial
from typing import Callable, Sequence

import panel as pn
import param
from panel.io.state import set_curdoc

from deeptricks.ui.urlsync import flush_url_writes

log = logging.getLogger(__name__)


class Coalesced:
    """Call ``fn`` once per server tick however many changes arrive in that tick.

    During a fast drag several slider events can arrive before the server has
    drawn the first; each marks the page dirty, and one update then runs with
    the latest values, so stale intermediate states are never computed. Outside
    a server (tests, notebooks) the update runs at once.

    With ``with_changes=True`` ``fn`` receives the set of parameter names that
    changed since its last run, so a page recomputes only the views they affect.
    """

    def __init__(self, fn: Callable[..., None], *, with_changes: bool = False):
        self.fn = fn
        self.with_changes = with_changes
        self.changed: set[str] = set()
        self.pending = False
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            install_closed_socket_handler()   # `panel serve apps/*.py` too, not only `deeptricks serve`
            install_tcp_nodelay()
            install_write_queue_fix()
            start_busy_cleanup_on_loop()

    def __call__(self, *events) -> None:
        self.changed.update(e.name for e in events if getattr(e, "name", None))
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._flush()
            return
        if self.pending:
            return
        self.pending = True
        Coalesced.waiting.add(self)
        doc.add_next_tick_callback(partial(self._run, doc))

    waiting: "weakref.WeakSet[Coalesced]" = weakref.WeakSet()
    """Updates scheduled and not yet run, all sessions of the process (see :class:`Prefetcher`);
    weak, so an update left pending by a closed session does not count once the page is freed."""

    def _run(self, doc) -> None:
        self.pending = False
        Coalesced.waiting.discard(self)
        with set_curdoc(doc), pn.io.hold(doc):
            self._flush()
            flush_url_writes(doc)           # the address bar travels in the same message

    def _flush(self) -> None:
        changed, self.changed = self.changed, set()
        if self.with_changes:
            self.fn(changed)
        else:
            self.fn()


class Prefetcher:
    """Compute, while the server is idle, the settings a learner will most likely ask for next.

    A learner steps a slider with the arrow keys or drags it slowly: the next
    value is one step either side of the current one, most likely in the
    direction it was last moved. After each page update this schedules
    ``warm(values)`` for those neighbours, one at a time, ``delay_ms`` after
    the update (time for the browser to draw it: on a small machine the two
    share the cores). ``warm`` only fills the page's view caches
    (:class:`~deeptricks.explorables.shared.ViewCache`), so when the learner
    does move there the page answers from the cache.

    It never delays a learner: a neighbour is skipped when that session has
    moved on, and all prefetching waits while any session of the process has
    an update waiting (a class on one server keeps the CPU for real requests).
    Outside a server (tests, notebooks) :meth:`schedule` does nothing;
    :meth:`neighbours` says what it would compute. ``DEEPTRICKS_VIEW_CACHE=0``
    (no caches to fill) turns it off too.
    """

    def __init__(self, state: param.Parameterized, warm: Callable[[dict], None], controls: Sequence[str], *,
                 delay_ms: int = 60):
        self.state, self.warm = state, warm
        self.delay_ms = int(delay_ms)
        self.last: str | None = None        # the control moved last...
        self.direction = 1                  # ...and which way
        self.generation = 0                 # bumped by every move: queued work for an older one is dropped
        self.done = 0                       # neighbours computed (for tests and benchmarks)
        self.enabled = os.environ.get("DEEPTRICKS_VIEW_CACHE", "1") != "0"
        state.param.watch(self._moved, list(controls))

    def _moved(self, *events) -> None:
        self.generation += 1
        if len(events) != 1:                 # several controls at once (a preset, the URL): no trend
            self.last = None
            return
        event = events[0]
        self.last = event.name
        try:
            self.direction = 1 if event.new >= event.old else -1
        except TypeError:
            self.direction = 1

    def step(self, name: str) -> float | None:
        """The slider step of control ``name`` (``None``: not a stepped number)."""
        p = self.state.param[name]
        if isinstance(p, param.Integer):
            return 1
        if isinstance(p, param.Number) and p.step:
            return p.step
        return None

    def neighbours(self) -> list[dict]:
        """The settings to compute next: the last moved control one step further the same way,
        then one step back (each only within its bounds)."""
        name = self.last
        if name is None or (step := self.step(name)) is None:
            return []
        p = self.state.param[name]
        value = getattr(self.state, name)
        lo, hi = p.bounds if p.bounds else (None, None)
        out = []
        for d in (self.direction, -self.direction):
            v = value + d * step
            v = int(v) if isinstance(p, param.Integer) else round(v, 10)   # the slider's own rounding
            if (lo is None or v >= lo) and (hi is None or v <= hi):
                values = {c: getattr(self.state, c) for c in self.state.param if c != "name"}
                values[name] = v
                out.append(values)
        return out

    def schedule(self) -> None:
        """Queue the neighbours of the current setting (call at the end of a page update)."""
        doc = pn.state.curdoc
        if not self.enabled or doc is None or doc.session_context is None:
            return
        todo = self.neighbours()
        if todo:
            doc.add_timeout_callback(partial(self._run, doc, self.generation, todo), self.delay_ms)

    def _run(self, doc, generation: int, todo: list[dict]) -> None:
        if generation != self.generation or doc.session_context is None:
            return                            # the learner moved on: these neighbours are stale
        if len(Coalesced.waiting):            # a real update is waiting somewhere: it goes first
            return
        try:
            self.warm(todo[0])
            self.done += 1
        except Exception:                     # a neighbour the page cannot show: nothing to warm
            log.debug("prefetch of %r failed", todo[0], exc_info=True)
        if len(todo) > 1:
            doc.add_next_tick_callback(partial(self._run, doc, generation, todo[1:]))


def caption(text: str, **kwargs) -> pn.pane.Markdown:
    """A short explanatory paragraph under a plot."""
    return pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(0, 8, 6, 8),
                            styles={"color": "#3d444d", "font-size": "14px"}, disable_math=True,
                            **kwargs)


# --------------------------------------------------------------------------- sessions


def _closed_socket_handler(loop, context) -> None:
    """The event loop's exception handler: a write to a websocket that the browser closed
    meanwhile (a tab closed mid-update or during training) is expected, not an error.

    Panel writes a patch as one asyncio task per websocket frame; when the browser goes
    away mid-message the tasks after the first fail with ``WebSocketClosedError`` and,
    if nobody awaited them, asyncio prints "Task exception was never retrieved" with a
    traceback. Those are dropped here (logged at debug level); everything else goes to
    asyncio's default handler as before."""
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    if isinstance(context.get("exception"), (WebSocketClosedError, StreamClosedError)):
        log.debug("browser closed the websocket during a write: %s", context.get("message"))
        return
    loop.default_exception_handler(context)


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop, from any thread; ``None`` outside a server.

    Bokeh 3.10 (with Panel 1.10, on Python 3.12+) builds a session's document
    and runs its locked callbacks on worker threads, where asyncio has no
    current loop: the loop is then found through the session's application
    context.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    ctx = getattr(pn.state.curdoc, "session_context", None)
    app_ctx = getattr(getattr(ctx, "server_context", None), "application_context", None)
    loop = getattr(app_ctx, "io_loop", None)
    loop = getattr(loop, "asyncio_loop", loop)
    if isinstance(loop, asyncio.AbstractEventLoop):
        return loop
    if threading.current_thread() is threading.main_thread():
        try:
            return asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return None
    return None


def install_closed_socket_handler() -> None:
    """Install :func:`_closed_socket_handler` on the server's event loop (once)."""
    loop = server_loop()
    if loop is not None and loop.get_exception_handler() is not _closed_socket_handler:
        loop.set_exception_handler(_closed_socket_handler)


def start_busy_cleanup_on_loop() -> None:
    """Start Panel's process-wide busy-event cleanup from the server's event loop thread.

    Works around a Panel 1.10 / Bokeh 3.10 bug (Python 3.12+) that kept every
    session in which a button was clicked alive forever. A button click (any
    Bokeh event) records a "busy" event, and the first one starts a periodic
    cleanup callback. Bokeh 3.10 runs event handlers on worker threads, and off
    the loop thread ``PeriodicCallback.start`` reschedules itself as a next-tick
    callback of the session, which again runs on a worker thread, and so on
    without end. Each of those callbacks blocks the session's expiration, so
    the session is never discarded (and the loop spins). Started once here, on
    the loop thread with no current document, the cleanup is an ordinary
    asyncio task and later events find it running. (Panel 1.9 with Bokeh 3.9 runs
    event handlers on the loop thread and starts it there itself; starting it
    early changes nothing.) ``scripts/button_session_leak.py`` shows the bug with
    a bare Panel app.
    """
    from panel.io.state import _state

    schedule = getattr(pn.state, "_schedule_busy_cleanup", None)
    if schedule is None or getattr(_state, "_busy_cleanup_scheduled", None) is not None:
        return
    loop = server_loop()
    if loop is None:
        return

    def start() -> None:
        if _state._busy_cleanup_scheduled is None:
            schedule()

    # A fresh context: no current document, so the callback is not tied to a session.
    loop.call_soon_threadsafe(start, context=contextvars.Context())


def install_write_queue_fix() -> None:
    """Make sure a page update Panel queued for writing is written (once per process).

    Works around a race in Panel's websocket writer (1.9 and 1.10 alike). When a
    socket is busy, Panel queues the update for the document, marks the document
    "blocked" and starts a writer task. A writer that finishes its writes removes
    the mark, and a writer that starts and finds no mark returns at once, as if
    nothing were queued. If an update is queued just as the previous writer's
    write completes, that writer resumes first and removes the mark, and the new
    writer then returns without writing: the update waits in the queue until
    the next one pushes it out. The last move of a quick keyboard burst then
    never reached the browser (the address bar or the plots stayed one step
    behind, which made a browser test flaky). Here a writer that finds updates
    queued and no mark sets the mark again and writes them.
    """
    from panel.io import document as pdoc

    current = getattr(pdoc, "_dispatch_msgs", None)
    queue = getattr(pdoc, "_WRITE_EVENTS", None)          # Panel 1.10
    if queue is None:
        queue = getattr(pdoc, "_WRITE_MSGS", None)        # Panel 1.9
    block = getattr(pdoc, "_WRITE_BLOCK", None)
    if current is None or queue is None or block is None or getattr(current, "_deeptricks_fix", False):
        return

    async def _dispatch_msgs(doc):
        if doc not in block and queue.get(doc):
            block[doc] = True
        await current(doc)

    _dispatch_msgs._deeptricks_fix = True
    _dispatch_msgs.__wrapped__ = current
    pdoc._dispatch_msgs = _dispatch_msgs


def install_tcp_nodelay() -> None:
    """Send the server's websocket frames at once: set ``TCP_NODELAY`` on every Bokeh
    websocket when it opens (once per process; later connections get it).

    Tornado leaves Nagle's algorithm on for websockets and neither Bokeh nor Panel turns
    it off. A page update is several frames (header, metadata, content, one per binary
    buffer) and often follows the small URL-update message; with Nagle on, a small frame
    waits until the browser acknowledges the previous one, and browsers delay
    acknowledgements by up to 40 ms. Measured on the dropout page: two such stalls per
    slider move, about 80 ms of a 135 ms slider-to-repaint time."""
    from bokeh.server.views.ws import WSHandler

    if getattr(WSHandler.open, "_deeptricks_nodelay", False):
        return
    original = WSHandler.open

    def open(self, *args, **kwargs):
        try:
            self.set_nodelay(True)
        except Exception:                    # no TCP socket (tests with fakes): nothing to tune
            log.debug("could not set TCP_NODELAY on a websocket", exc_info=True)
        return original(self, *args, **kwargs)

    open._deeptricks_nodelay = True
    open.__wrapped__ = original
    WSHandler.open = open


def on_session_created(session_context) -> None:
    """``pn.state.on_session_created`` hook of ``deeptricks serve`` (every page, the
    index too): :func:`install_closed_socket_handler`, :func:`install_tcp_nodelay`,
    :func:`install_write_queue_fix` and :func:`start_busy_cleanup_on_loop`."""
    install_closed_socket_handler()
    install_tcp_nodelay()
    install_write_queue_fix()
    start_busy_cleanup_on_loop()


def _libc():
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def release_free_memory() -> None:
    """Give the memory of freed sessions back to the system (glibc's ``malloc_trim``).

    A session's numpy arrays are megabytes each. glibc serves the first such blocks with
    mmap and returns them on free, but then raises its mmap threshold, so later arrays
    come from the heap, which it seldom gives back: without this the server's resident
    memory only grows as learners come and go. Fixing the threshold low instead
    (``M_MMAP_THRESHOLD``, tried first) returned the memory but made every array a
    fresh mapping: page faults on each first touch made the batch-norm page's
    computation 2.5x slower. So arrays keep coming from the heap, and this trims it
    once a session is gone. Not glibc: nothing to do."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:
        trim(0)


def freeze_startup_objects() -> None:
    """Take everything alive at start-up out of the garbage collector's full passes.

    Once the libraries are imported the process holds some 130,000 objects that live
    as long as it does (modules, classes, functions). Python's occasional full
    collection walks all of them: about 50 ms, 75 ms on a busy machine, and a learner
    whose slider move arrives meanwhile waits for it. ``gc.freeze()`` moves them to a
    permanent generation that collections skip (a full pass then takes a few ms). Only
    objects alive now are frozen, so call it before the first session: sessions'
    objects stay collectable (the soak test checks that they are freed)."""
    import gc

    gc.collect()
    gc.freeze()


_HOT_SETTINGS = ("simple_ids", "pretty", "serialize_include_defaults", "compression_level")


def resolve_bokeh_settings() -> dict:
    """Fix, for the process, the Bokeh settings read while every message is built.

    Bokeh resolves a setting at each read: an immediate value, a user-set one, a
    config file, then the environment (``BOKEH_SIMPLE_IDS``, ``BOKEH_PRETTY`` ...).
    ``make_id`` reads ``simple_ids`` for every message, and serializing a patch reads
    ``pretty`` and ``compression_level``: with twenty learners on the dropout page
    the environment lookups alone were 3.5% of the server's time. Setting each to the
    value it resolves to now gives the same answers (the environment does not
    change under a running server) from the first rung. -> ``{name: value}``."""
    from bokeh.settings import settings

    fixed = {}
    for name in _HOT_SETTINGS:
        setting = getattr(settings, name, None)
        if setting is None:
            continue
        try:
            value = setting()
        except RuntimeError:                  # no value anywhere: leave it to Bokeh
            continue
        setting.set_value(value)
        fixed[name] = value
    return fixed


def log_session_freed(session_context) -> None:
    """``pn.state.on_session_destroyed`` hook of ``deeptricks serve``: one line per freed
    session, and its memory handed back (:func:`release_free_memory`) once the session's
    objects are gone (the collection Panel schedules, then a trim)."""
    sid = getattr(session_context, "id", None) or "?"
    print(f"deeptricks: session {sid[:12]} freed", flush=True)
    _schedule_trim()


_trim_pending = False


def _schedule_trim(delay_s: float = 2.0) -> None:
    """One trim ``delay_s`` after the last freed session (a class leaving together costs one)."""
    global _trim_pending
    if _trim_pending:
        return
    loop = server_loop()
    if loop is None:
        return

    def run():
        global _trim_pending
        _trim_pending = False
        import gc

        gc.collect()
        release_free_memory()

    _trim_pending = True
    loop.call_soon_threadsafe(loop.call_later, delay_s, run)


def live_objects() -> dict[str, int]:
    """After a full ``gc.collect()``: live instances of every class of the explorables'
    and ui modules (pages, states, models, components), of Bokeh documents and of the
    server's sessions. What the soak test and ``benchmarks/memory.py`` read from the
    debug endpoint to prove that closed sessions leave nothing behind."""
    import gc
    from collections import Counter

    from bokeh.document import Document
    from bokeh.server.session import ServerSession

    gc.collect()
    counts: Counter = Counter()
    for o in gc.get_objects():
        t = type(o)
        mod = t.__dict__.get("__module__", "")
        if isinstance(mod, str) and mod.startswith(("deeptricks.explorables", "deeptricks.ui")) and not isinstance(o, type):
            counts[t.__name__] += 1
        elif t is Document:
            counts["bokeh.Document"] += 1
        elif t is ServerSession:
            counts["bokeh.ServerSession"] += 1
    # Panel's per-document registries: a destroyed document left in one is a leak
    from panel.io import document as pdoc
    from panel.io.state import state

    registries = {"panel.change_callbacks": getattr(state, "_change_callbacks", None),
                  "panel.views": getattr(state, "_views", None)}
    # module-level names differ between Panel versions (1.10 has no _WRITE_MSGS but _WRITE_EVENTS)
    for attr in ("_WRITE_FUTURES", "_WRITE_MSGS", "_WRITE_EVENTS", "_write_tasks"):
        registries["panel." + attr.strip("_").lower()] = getattr(pdoc, attr, None)
    for name, reg in registries.items():
        if reg is not None and len(reg):
            counts[name] = len(reg)
    return dict(counts)


def debug_patterns() -> list:
    """Tornado routes of the debug endpoint ``/debug/live`` (JSON of :func:`live_objects`),
    served only when ``DEEPTRICKS_DEBUG_ENDPOINTS=1`` (tests and benchmarks)."""
    import json

    from tornado.web import RequestHandler

    class LiveObjectsHandler(RequestHandler):
        def get(self):
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.write(json.dumps(live_objects()))

    return [(r"/debug/live", LiveObjectsHandler)]
