"""Every workaround of a Panel, Bokeh or Tornado bug that deeptricks needs, and only those.

Each is a :class:`Workaround`: the bug in one sentence, the versions it was seen on, the
write-up ready to file upstream (``docs/upstream/``), a guard that tells whether the
installed libraries have the bug, and the change itself. A workaround is installed only
where its guard finds the bug, and ``tests/server/test_patches.py`` reproduces each bug
*without* its workaround: when one of those tests fails, upstream has fixed the bug and
the workaround can go.

Where they are installed:

* :func:`install_process` — once per server process, before the first session
  (``deeptricks serve``, and :func:`deeptricks.server.app.page_for_panel_serve` for
  ``panel serve apps/*.py``);
* :func:`install_session` — from each session (the fixes that need the server's event
  loop, which only a session can find on Bokeh 3.10);
* :func:`prepare_embedded_session` — before a page is built in a session opened by a
  ``server_document`` script tag.

Pages, components and the engine know nothing of any of this.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from dataclasses import dataclass, field
from typing import Callable

import panel as pn

from . import repro
from .loop import server_loop

log = logging.getLogger(__name__)


def _version(module) -> tuple[int, ...]:
    parts = []
    for piece in module.__version__.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


@dataclass
class Workaround:
    """One upstream bug and what deeptricks does about it."""

    name: str
    bug: str                          # the bug, in one sentence
    seen_on: str                      # the versions it was seen on
    report: str                       # the write-up under docs/upstream/
    needed: Callable[[], bool]        # the guard: does the installed library have the bug?
    apply: Callable[[], bool]         # the change; False when it could not be made (yet)
    installed: bool = field(default=False, init=False)
    _verdict: bool | None = field(default=None, init=False, repr=False)

    def has_bug(self) -> bool:
        """The guard's answer, found once per process."""
        if self._verdict is None:
            self._verdict = bool(self.needed())
        return self._verdict

    def install(self) -> bool:
        """Install once, if needed and not yet done -> whether it is in place now."""
        if not self.installed and self.has_bug():
            self.installed = bool(self.apply())
            if self.installed:
                log.debug("workaround %s installed", self.name)
        return self.installed


# --------------------------------------------------------------------------- the write race


def fixed_dispatch(current: Callable) -> Callable:
    """Panel's writer ``current``, made to write what it finds queued: a writer that finds
    updates queued and no "blocked" mark sets the mark again instead of returning."""
    from panel.io import document as pdoc

    queue = getattr(pdoc, "_WRITE_EVENTS", None)          # Panel 1.10
    if queue is None:
        queue = pdoc._WRITE_MSGS                          # Panel 1.9
    block = pdoc._WRITE_BLOCK

    async def _dispatch_msgs(doc):
        if doc not in block and queue.get(doc):
            block[doc] = True
        await current(doc)

    _dispatch_msgs.__wrapped__ = current
    return _dispatch_msgs


def _write_race_fix() -> bool:
    from panel.io import document as pdoc

    pdoc._dispatch_msgs = fixed_dispatch(pdoc._dispatch_msgs)
    return True


def _write_race_needed() -> bool:
    from panel.io import document as pdoc

    has_queue = hasattr(pdoc, "_WRITE_EVENTS") or hasattr(pdoc, "_WRITE_MSGS")
    return has_queue and hasattr(pdoc, "_WRITE_BLOCK") and repro.write_race_loses_an_update()


WRITE_RACE = Workaround(
    name="write-race",
    bug="Panel's websocket writer drops an update queued in the same loop turn as the previous "
        "write completes, so the last move of a quick burst never reaches the browser.",
    seen_on="Panel 1.9.4 (Bokeh 3.9) and 1.10.0 (Bokeh 3.10)",
    report="docs/upstream/panel-write-race.md",
    needed=_write_race_needed,
    apply=_write_race_fix,
)


# --------------------------------------------------------------------------- closed sockets


def _closed_socket_handler(loop, context) -> None:
    """The event loop's exception handler: a write to a websocket that the browser closed
    meanwhile is expected, not an error (logged at debug level); everything else goes to
    asyncio's default handler as before."""
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    if isinstance(context.get("exception"), (WebSocketClosedError, StreamClosedError)):
        log.debug("browser closed the websocket during a write: %s", context.get("message"))
        return
    loop.default_exception_handler(context)


def _closed_socket_fix() -> bool:
    loop = server_loop()
    if loop is None:
        return False                  # no session yet: the next one installs it
    if loop.get_exception_handler() is not _closed_socket_handler:
        loop.set_exception_handler(_closed_socket_handler)
    return True


CLOSED_SOCKET = Workaround(
    name="closed-socket",
    bug="Panel writes a message frame by frame in a task nobody awaits, so a tab closed mid-message "
        "makes asyncio print 'Task exception was never retrieved' with a WebSocketClosedError traceback.",
    seen_on="Panel 1.9.4 and 1.10.0 with Tornado 6.5",
    report="docs/upstream/panel-closed-socket-traceback.md",
    needed=lambda: bool(repro.closed_socket_errors()),
    apply=_closed_socket_fix,
)


# --------------------------------------------------------------------------- busy cleanup


def _busy_cleanup_needed() -> bool:
    """Bokeh 3.10 runs a session's callbacks on worker threads; 3.9 on the loop's thread, where
    Panel starts its cleanup as a plain task."""
    import bokeh

    return (hasattr(pn.state, "_schedule_busy_cleanup") and _version(bokeh) >= (3, 10)
            and repro.busy_cleanup_reschedules_on_session())


def _busy_cleanup_fix() -> bool:
    """Start Panel's busy cleanup once from the loop's thread, with no current document: an
    ordinary asyncio task tied to no session, which later busy events find running."""
    from panel.io.state import _state

    if getattr(_state, "_busy_cleanup_scheduled", None) is not None:
        return True
    loop = server_loop()
    if loop is None:
        return False

    def start() -> None:
        if _state._busy_cleanup_scheduled is None:
            pn.state._schedule_busy_cleanup()

    loop.call_soon_threadsafe(start, context=contextvars.Context())
    return True


BUSY_CLEANUP = Workaround(
    name="busy-cleanup",
    bug="Started from a worker thread, Panel's process-wide busy-event cleanup reschedules itself "
        "as a next-tick callback of the session for ever, so a session in which a button was "
        "clicked is never discarded.",
    seen_on="Panel 1.10.0 with Bokeh 3.10.0 (Python 3.12 and 3.13); not Panel 1.9 / Bokeh 3.9",
    report="docs/upstream/panel-busy-cleanup-leak.md",
    needed=_busy_cleanup_needed,
    apply=_busy_cleanup_fix,
)


# --------------------------------------------------------------------------- Nagle


def _calls(cls, name: str) -> bool:
    """Does any method defined on ``cls`` use the name ``name`` (call it, or set it)?"""
    return any(name in getattr(getattr(inspect.unwrap(f), "__code__", None), "co_names", ())
               for f in vars(cls).values() if callable(f))


def _nodelay_needed() -> bool:
    from bokeh.server.views.ws import WSHandler

    return not _calls(WSHandler, "set_nodelay")


def _nodelay_fix() -> bool:
    """Set ``TCP_NODELAY`` on every Bokeh websocket as it opens."""
    from bokeh.server.views.ws import WSHandler

    original = WSHandler.open

    def open(self, *args, **kwargs):
        try:
            self.set_nodelay(True)
        except Exception:                    # no TCP socket (tests with fakes): nothing to tune
            log.debug("could not set TCP_NODELAY on a websocket", exc_info=True)
        return original(self, *args, **kwargs)

    open.__wrapped__ = original
    WSHandler.open = open
    return True


TCP_NODELAY = Workaround(
    name="tcp-nodelay",
    bug="Bokeh's websocket handler leaves Nagle's algorithm on, so the small frames of a page "
        "update wait for the browser's delayed acknowledgement (up to 40 ms each).",
    seen_on="Bokeh 3.9.2 and 3.10.0 with Tornado 6.5",
    report="docs/upstream/bokeh-tcp-nodelay.md",
    needed=_nodelay_needed,
    apply=_nodelay_fix,
)


# --------------------------------------------------------------------------- widget messages

CONTROL_DEBOUNCE_MS = 10
"""How long the server waits after a control's message before acting on it (Panel: 50 ms).
The pages coalesce for themselves (:class:`deeptricks.explorables.base.Coalesced`)."""

_VALUE_EVENTS = ("value", "value_throttled", "active", "clicks")


def no_public_debounce() -> bool:
    """Panel still has no public setting for its server-side debounce (the upstream bug)."""
    from panel.reactive import Syncable

    public = "debounce" in pn.config.param or "debounce" in pn.widgets.Widget.param
    return not public and getattr(Syncable, "_debounce", 0) > CONTROL_DEBOUNCE_MS


def _debounce_needed() -> bool:
    """Shorten it only where that is safe. On Panel 1.10 a short debounce lets the server echo
    an intermediate slider value back after the browser has moved on: after a quick burst of
    arrow keys the handle jumps back a step while the page shows the last value (seen on
    Panel 1.10.0, about one burst in five at 10 ms, none in seven at 50 ms)."""
    return no_public_debounce() and _version(pn) < (1, 10)


def _debounce_fix() -> bool:
    pn.widgets.Widget._debounce = CONTROL_DEBOUNCE_MS
    return True


WIDGET_DEBOUNCE = Workaround(
    name="widget-debounce",
    bug="Panel holds every widget change 50 ms on the server before acting on it, and offers no "
        "public setting for it, which adds 40 ms to every slider step of an app that coalesces "
        "updates itself.",
    seen_on="Panel 1.9.4 and 1.10.0 (installed on 1.9 only: on 1.10 a short debounce exposes an echo race)",
    report="docs/upstream/panel-widget-debounce.md",
    needed=_debounce_needed,
    apply=_debounce_fix,
)


def _busy_needed() -> bool:
    return hasattr(pn.state, "_add_busy_event") and repro.busy_event_toggles_state_params() > 0


def _busy_fix() -> bool:
    widget = pn.widgets.Widget
    widget._busy__ignore = [*widget._busy__ignore, *(e for e in _VALUE_EVENTS if e not in widget._busy__ignore)]
    return True


BUSY_BOOKKEEPING = Workaround(
    name="busy-bookkeeping",
    bug="For every widget message Panel records and removes a process-wide 'busy' event, each "
        "time making every parameter of pn.state read-only and back, which cost 15% of the "
        "server's time with twenty learners on one page.",
    seen_on="Panel 1.9.4 and 1.10.0",
    report="docs/upstream/panel-busy-bookkeeping.md",
    needed=_busy_needed,
    apply=_busy_fix,
)


# --------------------------------------------------------------------------- script-tag embeds


def _embed_rel_path_needed() -> bool:
    from panel.io.location import Location

    return _calls(Location, "rel_path")   # the pathname watcher resets it


EMBED_RESOURCES = Workaround(
    name="embed-resources",
    bug="In a session opened by a server_document script tag, creating pn.state.location resets "
        "Panel's absolute resource base to '..', so ReactiveESM's module shim is requested from "
        "the embedding site and the embed never renders; and component stylesheets point at "
        "Panel's CDN.",
    seen_on="Panel 1.9.4 and 1.10.0",
    report="docs/upstream/panel-embed-resources.md",
    needed=_embed_rel_path_needed,
    apply=lambda: True,               # per session: prepare_embedded_session
)


def prepare_embedded_session() -> None:
    """In a ``server_document`` session: create the location first and put the absolute
    resource base back, and point stylesheets at the app server's static files (not the CDN).
    Call before building the page; other sessions are left alone."""
    from deeptricks.ui.urlsync import embed_session_args

    if embed_session_args() is None or not EMBED_RESOURCES.install():
        return
    from panel.io.resources import LOCAL_DIST, use_cdn

    absolute = pn.state.rel_path
    if not (absolute and absolute.startswith(("http://", "https://"))):
        return
    doc = pn.state.curdoc

    def restore(*_):
        pn.state.rel_path = absolute
        if not use_cdn():
            doc._template_variables["dist_url"] = f"{absolute}/{LOCAL_DIST}"

    location = pn.state.location        # created now, so later uses do not reset rel_path...
    restore()
    # ...and when the browser reports its (the course page's) path, Panel 1.10 resets them
    # again: put them back after its watcher
    location.param.watch(restore, ["pathname"], precedence=10)


# --------------------------------------------------------------------------- client patches


def _guard_fix() -> bool:
    from . import guard

    return guard.install()


CLIENT_PATCHES = Workaround(
    name="client-patches",
    bug="Bokeh's server applies any change a client's patch makes to any model of its session "
        "(a data source's columns, a slider's value as NaN or far out of range); Panel, given a "
        "value the widget's linked parameter refuses, logs two tracebacks and leaves the widget "
        "and the browser showing the refused value.",
    seen_on="Bokeh 3.9.2 and 3.10.2 with Panel 1.9.4 and 1.10.0",
    report="docs/upstream/client-patches.md",
    needed=repro.client_patch_writes_data,
    apply=_guard_fix,                 # deeptricks.server.guard: the patch screened before it applies
)


# --------------------------------------------------------------------------- malformed messages


class OneLineMalformed(logging.Filter):
    """Bokeh's "Unhandled exception receiving a message" record, which carries the traceback
    and the whole (up to 512 kB) fragment, as one line naming the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Unhandled exception receiving a message") and record.args:
            error = record.args[0] if isinstance(record.args, tuple) else record.args
            record.msg = "refused a malformed websocket message (%s); closing its connection"
            record.args = (type(error).__name__,)
            record.exc_info = record.exc_text = None
        return True


def _one_line_fix() -> bool:
    ws_log = logging.getLogger("bokeh.server.views.ws")
    if not any(isinstance(f, OneLineMalformed) for f in ws_log.filters):
        ws_log.addFilter(OneLineMalformed())
    return True


MALFORMED_MESSAGE = Workaround(
    name="malformed-message",
    bug="A websocket message whose header is not JSON raises a JSONDecodeError that Bokeh's "
        "receiver does not turn into a protocol error, so the server logs a full traceback and "
        "the fragment for every such message a client sends (it then closes the connection, "
        "as it should).",
    seen_on="Bokeh 3.9.2 and 3.10.2",
    report="docs/upstream/bokeh-malformed-message.md",
    needed=repro.malformed_message_escapes,
    apply=_one_line_fix,
)


# --------------------------------------------------------------------------- installing

WORKAROUNDS = (WRITE_RACE, CLOSED_SOCKET, BUSY_CLEANUP, TCP_NODELAY, WIDGET_DEBOUNCE, BUSY_BOOKKEEPING,
               EMBED_RESOURCES, CLIENT_PATCHES, MALFORMED_MESSAGE)
PROCESS = (WRITE_RACE, TCP_NODELAY, WIDGET_DEBOUNCE, BUSY_BOOKKEEPING, CLIENT_PATCHES, MALFORMED_MESSAGE)
SESSION = (CLOSED_SOCKET, BUSY_CLEANUP)


def install_process() -> list[str]:
    """Install the process-wide workarounds whose bug the installed libraries have (once;
    call before the first session) -> the names in place."""
    return [w.name for w in PROCESS if w.install()]


def install_session() -> list[str]:
    """Install, from a session, the workarounds that need the server's event loop (each once
    per process) -> the names in place."""
    return [w.name for w in SESSION if w.install()]
