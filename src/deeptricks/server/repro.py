"""Small reproductions of the upstream bugs that :mod:`deeptricks.server.patches` works around.

Each runs in milliseconds, with no server and no browser: it drives the library's own
functions on a private asyncio loop with fake sockets and documents, and answers
whether the bug shows. The guards of the workarounds call them (a workaround is
installed only where its bug shows), the tests call them without the workaround (a
test fails once upstream has fixed the bug), and ``scripts/*.py`` print them for a
bug report.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Callable


def _on_own_loop(coro_fn: Callable):
    """Run ``coro_fn()`` to completion on a new event loop in a thread of its own (safe to
    call while another loop runs on this thread); re-raise what it raised."""
    outcome: dict = {}

    def run():
        loop = asyncio.new_event_loop()
        try:
            outcome["value"] = loop.run_until_complete(coro_fn())
        except BaseException as e:            # re-raised on the caller's thread
            outcome["error"] = e
        finally:
            loop.close()

    runner = threading.Thread(target=run, name="deeptricks-repro")
    runner.start()
    runner.join(30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def write_race(dispatch: Callable | None = None) -> tuple[list, bool]:
    """Panel's websocket writer and an update queued just as the previous write completes.

    1. An update is queued: Panel marks the document "blocked" and a writer task writes it.
    2. In one turn of the loop the write completes and a second update is queued, which
       starts a second writer task.
    3. The first writer resumes first, finds nothing left and removes the mark; the second
       then finds no mark and returns without writing.

    ``dispatch`` replaces Panel's ``_dispatch_msgs`` for the replay (a workaround's
    version); by default Panel's own runs, unwrapped from any workaround installed. -> (the updates written, in order;
    whether an update is still queued). Without the bug: ``([("first",), ("second",)], False)``.
    """
    from bokeh.document import Document
    from panel.io import document as pdoc

    class Socket:                     # not a tornado handler: written through Panel's hook
        pass

    class Connection:
        _socket = Socket()

        class protocol:
            @staticmethod
            def create(kind, events):
                return kind, tuple(events)

    written, writes = [], []

    def write(conn, events=None, msg=None):
        written.append(msg[1] if msg is not None else tuple(events))
        writes.append(asyncio.get_running_loop().create_future())
        return [writes[-1]]

    queue = getattr(pdoc, "_WRITE_EVENTS", None)          # Panel 1.10
    if queue is None:
        queue = pdoc._WRITE_MSGS                          # Panel 1.9

    async def scenario():
        doc, conn = Document(), Connection()
        pdoc.schedule_write_events(doc, [conn], ["first"])
        await _turns(3)
        writes[0].set_result(None)                          # the first write completes...
        pdoc.schedule_write_events(doc, [conn], ["second"])  # ...as the next update is queued
        await _turns(10)
        for f in writes:
            if not f.done():
                f.set_result(None)
        await _turns(10)
        return doc in queue

    original = pdoc._dispatch_msgs
    previous = pdoc.extra_socket_handlers.get(Socket)
    pdoc.extra_socket_handlers[Socket] = write
    pdoc._dispatch_msgs = dispatch if dispatch is not None else inspect.unwrap(original)
    try:
        left = _on_own_loop(scenario)
    finally:
        pdoc._dispatch_msgs = original
        if previous is None:
            pdoc.extra_socket_handlers.pop(Socket, None)
    return written, left


def write_race_loses_an_update() -> bool:
    """Does Panel's writer, as installed, leave the second update of :func:`write_race` unsent?"""
    written, left = write_race()
    return len(written) < 2 or left


def closed_socket_errors() -> list[BaseException]:
    """The exceptions that Panel's write tasks end with when an update is written to a
    websocket that closes between Panel's check and the first frame of the message.

    Panel's ``dispatch_tornado`` checks once that the socket is open, then calls
    ``write_message`` for each frame of the message; when the browser has gone meanwhile,
    Tornado raises ``WebSocketClosedError`` inside Panel's fire-and-forget write task.
    Nobody awaits that task, so asyncio prints "Task exception was never retrieved" with
    a traceback when it is collected. Without the bug: ``[]``."""
    from bokeh.document import Document
    from panel.io import document as pdoc
    from tornado.websocket import WebSocketHandler

    class Stream:                     # open for Panel's check, closed for the first frame
        def __init__(self):
            self.checks = 0

        def is_closing(self):
            self.checks += 1
            return self.checks > 1

    class Socket(WebSocketHandler):
        def __init__(self):           # no request, no application: only what writing reads
            self.ws_connection = Stream()

    class Message:
        header_json = metadata_json = content_json = "{}"
        _buffers: list = []

    class Connection:
        _socket = Socket()

        class protocol:
            @staticmethod
            def create(kind, events):
                return Message()

    tasks: list[asyncio.Task] = []

    def record(loop, coro, **kwargs):
        tasks.append(asyncio.Task(coro, loop=loop, **kwargs))
        return tasks[-1]

    async def scenario():
        asyncio.get_running_loop().set_task_factory(record)
        pdoc.schedule_write_events(Document(), [Connection()], ["update"])
        await _turns(10)
        return [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]

    return _on_own_loop(scenario)


def busy_cleanup_reschedules_on_session() -> bool:
    """Started from a session callback on a worker thread (as Bokeh 3.10 runs them), does
    Panel's process-wide busy cleanup hand itself back to the session as a next-tick
    callback instead of starting?

    That callback runs on a worker thread again, and starts the cleanup the same way, so
    one callback is always pending and the session is never discarded."""
    import panel as pn
    from panel.io.callbacks import PeriodicCallback
    from panel.io.state import set_curdoc
    from types import SimpleNamespace

    scheduled: list = []
    loop = asyncio.new_event_loop()          # the server's loop, running on another thread

    class Doc:                        # a session's document, as far as the cleanup looks
        session_context = SimpleNamespace(server_context=SimpleNamespace(
            application_context=SimpleNamespace(io_loop=SimpleNamespace(asyncio_loop=loop))))
        add_next_tick_callback = add_periodic_callback = staticmethod(scheduled.append)

    doc = Doc()
    cleanup = PeriodicCallback(background=True, callback=lambda: None, session_scoped=False, period=10_000)

    def worker():
        # what Bokeh 3.10 sets up for a session callback: the document, made on the loop's
        # thread (Panel 1.9 keeps that thread's id; 1.10 finds the loop), current on a worker
        with set_curdoc(doc):
            pn.state._thread_id = threading.main_thread().ident
            cleanup.start()

    try:
        t = threading.Thread(target=worker)
        t.start()
        t.join(10)
    finally:
        loop.close()
    if cleanup._cb is not None and hasattr(cleanup._cb, "cancel"):
        cleanup._cb.cancel()
    return bool(scheduled)


def busy_event_toggles_state_params() -> int:
    """How many times recording and removing one "busy" event (what Panel does for every
    widget message) makes ``pn.state``'s parameters read-only and back. Each time walks
    every parameter of ``pn.state``. Without the cost: 0."""
    import importlib

    import panel as pn

    state_module = importlib.import_module("panel.io.state")   # the module, not Panel's `state`

    original = state_module.edit_readonly
    count = 0

    def counting(*args, **kwargs):
        nonlocal count
        count += 1
        return original(*args, **kwargs)

    state_module.edit_readonly = counting
    pn.state._schedule_busy_cleanup = lambda: None   # the replay must not start Panel's cleanup
    try:
        pn.state._add_busy_event("deeptricks-repro")
        pn.state._remove_busy_event("deeptricks-repro")
    finally:
        state_module.edit_readonly = original
        del pn.state._schedule_busy_cleanup
    return count


def client_patch_writes_data() -> bool:
    """Whether Bokeh applies a patch, as a browser's session would send it, that rewrites a
    data source's columns and sets a slider to NaN (nothing refuses either)."""
    from bokeh.document import Document
    from bokeh.models import ColumnDataSource, Slider

    doc = Document()
    source, slider = ColumnDataSource({"x": [1, 2, 3]}), Slider(start=0, end=1, value=0.5)
    doc.add_root(source)
    doc.add_root(slider)
    events = [
        {"kind": "ModelChanged", "model": {"id": source.id}, "attr": "data",
         "new": {"type": "map", "entries": [["x", [9]]]}},
        {"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value",
         "new": {"type": "number", "value": "nan"}},
    ]
    try:
        doc.apply_json_patch({"events": events}, setter=object())
    except Exception:
        return False
    return list(source.data["x"]) == [9] and slider.value != slider.value


def malformed_message_escapes() -> bool:
    """Whether a message whose header is not JSON escapes Bokeh's receiver as a plain
    ``JSONDecodeError`` (which its websocket handler logs with a full traceback) instead of
    one of the protocol errors it reports in one line."""
    from bokeh.protocol import Protocol
    from bokeh.protocol.exceptions import MessageError, ProtocolError, ValidationError
    from bokeh.protocol.receiver import Receiver

    async def feed():
        receiver = Receiver(Protocol())
        for fragment in ("{not json", "{}", "{}"):
            await receiver.consume(fragment)

    coro = feed()              # it awaits nothing that waits: run it here, inside a loop or not
    try:
        coro.send(None)
    except StopIteration:
        return False
    except (MessageError, ProtocolError, ValidationError):
        return False
    except Exception:
        return True
    finally:
        coro.close()
    return False
