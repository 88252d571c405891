"""The workarounds of upstream bugs (deeptricks.server.patches).

For each one: its guard agrees with the bug's reproduction; the bug still shows in the
installed libraries (a test named ``test_upstream_still_...`` fails once upstream has
fixed it: then delete the workaround); and with the workaround, the bug is gone.
"""

import asyncio
import inspect
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import bokeh
import panel as pn
import pytest
from bokeh.server.views.ws import WSHandler
from panel.io import document as pdoc
from panel.io.state import _state, set_curdoc
from panel.util import edit_readonly

from deeptricks.server import patches, repro

NEW_STACK = patches._version(bokeh) >= (3, 10)      # Panel 1.10 / Bokeh 3.10 (Python 3.12+)


def test_every_workaround_says_what_where_and_has_a_write_up():
    root = Path(__file__).resolve().parents[2]
    names = [w.name for w in patches.WORKAROUNDS]
    assert len(set(names)) == len(names)
    grouped = [*patches.PROCESS, *patches.SESSION, patches.EMBED_RESOURCES]
    assert sorted(w.name for w in grouped) == sorted(names)     # each installed somewhere, once
    for w in patches.WORKAROUNDS:
        assert w.bug.endswith(".") and len(w.bug.split()) >= 12, w.name
        assert any(c.isdigit() for c in w.seen_on), w.name
        report = root / w.report
        assert report.is_file(), f"{w.name}: no write-up at {w.report}"
        text = report.read_text()
        for heading in ("## Symptom", "## Reproduction", "## Versions", "## Proposed fix"):
            assert heading in text, f"{w.report} lacks {heading}"


def test_a_workaround_installs_only_where_its_guard_finds_the_bug():
    calls = []
    w = patches.Workaround("x", "a bug.", "1.0", "r", needed=lambda: calls.append("guard") or False,
                           apply=lambda: calls.append("apply") or True)
    assert not w.install() and not w.install()
    assert calls == ["guard"]                           # asked once, never applied
    w = patches.Workaround("y", "a bug.", "1.0", "r", needed=lambda: True,
                           apply=lambda: calls.append("apply") or True)
    assert w.install() and w.install() and calls.count("apply") == 1


# --------------------------------------------------------------------------- the write race

def test_upstream_still_drops_an_update_queued_as_the_previous_write_completes():
    written, left = repro.write_race()
    assert written == [("first",)] and left, (
        f"Panel {pn.__version__} writes both updates: the write race is fixed upstream; "
        "delete patches.WRITE_RACE")
    assert patches.WRITE_RACE.has_bug()


def test_with_the_fix_both_updates_are_written_in_order():
    written, left = repro.write_race(dispatch=patches.fixed_dispatch(inspect.unwrap(pdoc._dispatch_msgs)))
    assert written == [("first",), ("second",)] and not left


def test_the_write_race_script_shows_the_bug_and_the_fix(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "scripts"))
    monkeypatch.setattr(pdoc, "_dispatch_msgs", pdoc._dispatch_msgs)
    import panel_write_race

    assert panel_write_race.main([]) == 1
    assert panel_write_race.main(["--workaround"]) == 0
    out = capsys.readouterr().out
    assert "never written" in out and "both updates reached the socket" in out
    sys.modules.pop("panel_write_race", None)


# --------------------------------------------------------------------------- closed sockets

def test_upstream_still_leaves_a_write_task_failing_on_a_closed_socket():
    from tornado.websocket import WebSocketClosedError

    errors = repro.closed_socket_errors()
    assert errors and all(isinstance(e, WebSocketClosedError) for e in errors), (
        "Panel no longer fails its write task on a closed socket: delete patches.CLOSED_SOCKET")
    assert patches.CLOSED_SOCKET.has_bug()


def test_the_handler_drops_only_closed_socket_errors():
    from tornado.websocket import WebSocketClosedError

    seen = []
    loop = SimpleNamespace(default_exception_handler=seen.append)
    patches._closed_socket_handler(loop, {"exception": WebSocketClosedError(), "message": "x"})
    assert seen == []
    other = {"exception": ValueError("boom"), "message": "y"}
    patches._closed_socket_handler(loop, other)
    assert seen == [other]


# --------------------------------------------------------------------------- busy cleanup

def test_the_busy_cleanup_workaround_is_guarded_by_the_stack():
    assert patches.BUSY_CLEANUP.has_bug() is NEW_STACK


@pytest.mark.skipif(not NEW_STACK, reason="Bokeh 3.9 runs session callbacks on the loop's thread")
def test_upstream_still_reschedules_the_busy_cleanup_on_the_session():
    assert repro.busy_cleanup_reschedules_on_session(), (
        "Panel's PeriodicCallback.start no longer hands itself to the session from a worker "
        "thread: delete patches.BUSY_CLEANUP")


def test_the_busy_cleanup_starts_as_a_loop_task_tied_to_no_session():
    """Started by the workaround from a session's worker thread, the cleanup runs on the loop,
    and a later click (a busy event from a worker) schedules nothing on the session."""
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    scheduled = []                                    # what reached the session: must stay empty
    doc = SimpleNamespace(
        session_context=SimpleNamespace(server_context=SimpleNamespace(
            application_context=SimpleNamespace(io_loop=SimpleNamespace(asyncio_loop=loop)))),
        add_next_tick_callback=scheduled.append, add_periodic_callback=scheduled.append)
    previous = _state._busy_cleanup_scheduled          # started by an earlier test
    _state._busy_cleanup_scheduled = None

    def in_session(fn):
        def worker():
            with set_curdoc(doc):
                fn()
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)

    try:
        in_session(patches._busy_cleanup_fix)
        cleanup = _state._busy_cleanup_scheduled
        assert cleanup is not None and cleanup.running
        assert isinstance(cleanup._cb, asyncio.Task) and cleanup._cb.get_loop() is loop
        assert cleanup._doc is None
        in_session(lambda: (pn.state._add_busy_event("click"), pn.state._remove_busy_event("click")))
        assert scheduled == [] and _state._busy_cleanup_scheduled is cleanup
    finally:
        cleanup = _state._busy_cleanup_scheduled
        if cleanup is not None and cleanup is not previous:
            loop.call_soon_threadsafe(cleanup.stop)
        _state._busy_cleanup_scheduled = previous
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


# --------------------------------------------------------------------------- Nagle

def test_upstream_still_leaves_nagle_on_for_websockets():
    assert patches.TCP_NODELAY.needed(), (
        "Bokeh's WSHandler sets TCP_NODELAY itself now: delete patches.TCP_NODELAY")


def test_websockets_open_with_tcp_nodelay(monkeypatch):
    monkeypatch.setattr(WSHandler, "open", WSHandler.open)   # restored after the test
    patches._nodelay_fix()
    handler = SimpleNamespace(calls=[])
    handler.set_nodelay = handler.calls.append
    with pytest.raises(Exception):                    # Bokeh's own open() needs a real connection...
        WSHandler.open(handler)
    assert handler.calls == [True]                    # ...but the socket was set first
    assert patches.TCP_NODELAY.needed()               # the guard looks past the wrapper


# --------------------------------------------------------------------------- widget messages

def test_upstream_still_has_no_public_debounce_setting():
    assert patches.no_public_debounce(), (
        "Panel has a public debounce setting (or a shorter default) now: use it and delete "
        "patches.WIDGET_DEBOUNCE")


def test_upstream_still_walks_pn_state_for_every_busy_event():
    assert repro.busy_event_toggles_state_params() > 0, (
        "Panel's busy events no longer toggle pn.state's parameters: delete patches.BUSY_BOOKKEEPING")


def test_after_the_process_workarounds_widgets_answer_quickly_and_skip_busy_events():
    patches.install_process()
    for cls in (pn.widgets.FloatSlider, pn.widgets.IntSlider, pn.widgets.Checkbox, pn.widgets.Select,
                pn.widgets.RadioButtonGroup, pn.widgets.Button):
        w = cls()
        shortened = patches.WIDGET_DEBOUNCE.has_bug()        # not on Panel 1.10 (see the guard)
        assert shortened is (patches._version(pn) < (1, 10))
        assert w._debounce == (patches.CONTROL_DEBOUNCE_MS if shortened else 50)
        assert {"value", "active", "clicks"} <= set(w._busy__ignore)
    assert patches.WRITE_RACE.installed and pdoc._dispatch_msgs.__wrapped__ is not None


def test_a_slider_move_records_no_busy_event_once_installed(monkeypatch):
    patches.install_process()
    recorded = []
    monkeypatch.setattr(pn.state, "_add_busy_event", recorded.append)
    monkeypatch.setattr(pn.state, "_remove_busy_event", lambda event_id: None)
    slider = pn.widgets.FloatSlider(label="p", start=0, end=1)
    slider._process_events({"value": 0.3})
    assert slider.value == 0.3 and recorded == []
    pn.pane.HTML("x")._process_events({"text": "y"})       # other objects: Panel as usual
    assert len(recorded) == 1


# --------------------------------------------------------------------------- script-tag embeds

def test_upstream_still_resets_the_absolute_resource_base_of_a_script_tag_session(monkeypatch):
    """Panel's Location, given the autoload.js path of a script-tag session, turns the
    absolute resource base Panel derived for it back into a relative one."""
    from panel.io.location import Location

    class Doc:
        session_context = SimpleNamespace(server_context=object())
        _template_variables: dict = {}

    doc = Doc()
    monkeypatch.setitem(pn.state._servers, "deeptricks-test", (SimpleNamespace(port=5006, prefix=""), None, None))
    with set_curdoc(doc):
        pn.state.rel_path = "http://tricks.example.org:5006"
        loc = Location()
        with edit_readonly(loc):
            loc.port = "5006"
        loc.pathname = "/dropout/autoload.js"
        rel = pn.state.rel_path
        pn.state.rel_path = None
    assert rel == "..", (f"Panel {pn.__version__} keeps the absolute base ({rel!r}): delete "
                         "patches.EMBED_RESOURCES and prepare_embedded_session")
    assert patches.EMBED_RESOURCES.has_bug()


# --------------------------------------------------------------------------- malformed messages

def test_bokeh_still_logs_a_malformed_message_with_a_traceback():
    assert repro.malformed_message_escapes(), (
        f"Bokeh {bokeh.__version__} reports a malformed message as a protocol error: "
        "MALFORMED_MESSAGE can go")


def test_the_malformed_message_record_becomes_one_line():
    import json
    import logging

    try:
        json.loads("{not json")
    except ValueError as exc:
        error = exc
    record = logging.LogRecord("bokeh.server.views.ws", logging.ERROR, "ws.py", 1,
                               "Unhandled exception receiving a message: %r: %r", (error, "x" * 10_000),
                               (type(error), error, None))
    assert patches.OneLineMalformed().filter(record)
    assert record.exc_info is None and record.getMessage() == (
        "refused a malformed websocket message (JSONDecodeError); closing its connection")
