"""What `deeptricks serve` tunes in the server process: TCP_NODELAY on websockets, the
garbage collector's frozen start-up objects, and handing freed memory back."""

import gc

import pytest
from bokeh.server.views.ws import WSHandler

from deeptricks.explorables import base


class Recorder:
    def __init__(self):
        self.calls = []

    def set_nodelay(self, value):
        self.calls.append(value)


def test_websockets_open_with_tcp_nodelay():
    base.install_tcp_nodelay()
    base.install_tcp_nodelay()                        # idempotent: wrapped once
    assert WSHandler.open._deeptricks_nodelay
    assert not getattr(WSHandler.open.__wrapped__, "_deeptricks_nodelay", False)
    handler = Recorder()
    with pytest.raises(Exception):                    # Bokeh's own open() needs a real connection...
        WSHandler.open(handler)
    assert handler.calls == [True]                    # ...but the socket was set first


def test_freezing_start_up_objects_moves_them_out_of_collections():
    try:
        base.freeze_startup_objects()
        assert gc.get_freeze_count() > 10_000        # the imported libraries
        cycle = Recorder()                            # garbage made later is still collected
        cycle.me = cycle
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()


def test_freed_memory_is_handed_back_without_error():
    base.release_free_memory()                        # glibc: malloc_trim; elsewhere nothing


def test_the_server_loop_is_found_from_a_worker_thread(monkeypatch):
    """Bokeh 3.10 builds documents on worker threads, where asyncio has no current loop."""
    import asyncio
    import threading
    from types import SimpleNamespace

    import panel as pn
    from panel.io.state import set_curdoc

    loop = asyncio.new_event_loop()
    doc = SimpleNamespace(session_context=SimpleNamespace(server_context=SimpleNamespace(
        application_context=SimpleNamespace(io_loop=SimpleNamespace(asyncio_loop=loop)))))
    found = {}

    def worker():
        found["bare"] = base.server_loop()              # no session: nothing to find, no error
        with set_curdoc(doc):
            found["session"] = base.server_loop()
            base.install_closed_socket_handler()

    try:
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert found == {"bare": None, "session": loop}
        assert loop.get_exception_handler() is base._closed_socket_handler
    finally:
        loop.close()
    assert pn.state.curdoc is None or pn.state.curdoc is not doc


def test_bokeh_settings_read_per_message_are_resolved_once_with_the_same_values(monkeypatch):
    from bokeh.settings import SettingProvenance, settings

    names = base._HOT_SETTINGS
    before = {n: getattr(settings, n)() for n in names}
    monkeypatch.setenv("BOKEH_PRETTY", "true")        # the environment still decides, once
    pretty = settings.pretty()                         # what Bokeh makes of it
    try:
        fixed = base.resolve_bokeh_settings()
        assert fixed == {**before, "pretty": pretty} and pretty != before["pretty"]
        for n in names:
            value, provenance = getattr(settings, n).get_value_with_provenance()
            assert provenance is SettingProvenance.USER_SET and value == fixed[n]
        monkeypatch.setenv("BOKEH_PRETTY", "false")   # not read again
        assert settings.pretty() == pretty
    finally:
        for n in names:
            getattr(settings, n).unset_value()
    monkeypatch.delenv("BOKEH_PRETTY")
    assert {n: getattr(settings, n)() for n in names} == before


def test_panels_busy_cleanup_starts_as_a_loop_task_not_a_session_callback():
    """Panel 1.10 + Bokeh 3.10: started from a session's worker thread, Panel's busy-event
    cleanup rescheduled itself on the session forever, which kept the session alive
    (scripts/button_session_leak.py). Started by deeptricks it runs on the loop, tied to
    no session (Panel 1.9 has the same cleanup, and there it was already started on the loop)."""
    import asyncio
    import threading
    from types import SimpleNamespace

    import panel as pn
    from panel.io.state import _state, set_curdoc

    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    scheduled = []                                    # what reached the session: must stay empty
    doc = SimpleNamespace(
        session_context=SimpleNamespace(server_context=SimpleNamespace(
            application_context=SimpleNamespace(io_loop=SimpleNamespace(asyncio_loop=loop)))),
        add_next_tick_callback=scheduled.append, add_periodic_callback=scheduled.append)
    has_cleanup = hasattr(pn.state, "_schedule_busy_cleanup")
    previous = getattr(_state, "_busy_cleanup_scheduled", None)   # started by an earlier test
    if has_cleanup:
        _state._busy_cleanup_scheduled = None

    def worker():
        with set_curdoc(doc):                         # a session's event handler, off the loop
            base.start_busy_cleanup_on_loop()

    try:
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)
        cleanup = getattr(_state, "_busy_cleanup_scheduled", None)
        if not has_cleanup:
            assert cleanup is None
            return
        assert cleanup is not None and cleanup.running
        assert isinstance(cleanup._cb, asyncio.Task) and cleanup._cb.get_loop() is loop
        assert cleanup._doc is None

        def click():                                  # what a button click records, from a worker
            with set_curdoc(doc):
                pn.state._add_busy_event("click")
                pn.state._remove_busy_event("click")

        t = threading.Thread(target=click)
        t.start()
        t.join()
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)
        assert scheduled == []
        assert _state._busy_cleanup_scheduled is cleanup
    finally:
        cleanup = getattr(_state, "_busy_cleanup_scheduled", None)
        if cleanup is not None and cleanup is not previous:
            loop.call_soon_threadsafe(cleanup.stop)
        if has_cleanup:
            _state._busy_cleanup_scheduled = previous
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


def test_an_update_queued_as_the_previous_write_completes_is_still_written(monkeypatch):
    """Panel's websocket writer lost the update queued just as the previous writer's write
    completed (that writer removed the document's "blocked" mark before the new one ran, so
    the new one returned at once): the last step of a quick keyboard burst never reached the
    browser. ``scripts/panel_write_race.py`` replays it with Panel's own functions and a fake
    socket; with the fix both updates are written, in order, and nothing stays queued."""
    import sys
    from pathlib import Path

    from panel.io import document as pdoc

    monkeypatch.setattr(pdoc, "_dispatch_msgs", pdoc._dispatch_msgs)   # restored after the test
    base.install_write_queue_fix()
    base.install_write_queue_fix()                                    # idempotent
    assert pdoc._dispatch_msgs._deeptricks_fix
    assert not getattr(pdoc._dispatch_msgs.__wrapped__, "_deeptricks_fix", False)

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "scripts"))
    from panel_write_race import replay

    written, left = replay(workaround=True)
    assert written == [("first",), ("second",)] and not left
    assert pdoc._dispatch_msgs._deeptricks_fix                        # the replay leaves it in place
    sys.modules.pop("panel_write_race", None)
