"""What `deeptricks serve` tunes in the server process: the garbage collector's frozen
start-up objects, freed memory handed back, Bokeh's settings resolved once; and how a
page's code finds the server's event loop."""

import gc

from deeptricks.server import loop as server_loop_module, patches, tuning


class Recorder:
    pass


def test_freezing_start_up_objects_moves_them_out_of_collections():
    try:
        tuning.freeze_startup_objects()
        assert gc.get_freeze_count() > 10_000        # the imported libraries
        cycle = Recorder()                            # garbage made later is still collected
        cycle.me = cycle
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()


def test_freed_memory_is_handed_back_without_error():
    tuning.release_free_memory()                        # glibc: malloc_trim; elsewhere nothing


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
        found["bare"] = server_loop_module.server_loop()   # no session: nothing to find, no error
        with set_curdoc(doc):
            found["session"] = server_loop_module.server_loop()
            patches._closed_socket_fix()

    try:
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert found == {"bare": None, "session": loop}
        assert loop.get_exception_handler() is patches._closed_socket_handler
    finally:
        loop.close()
    assert pn.state.curdoc is None or pn.state.curdoc is not doc


def test_bokeh_settings_read_per_message_are_resolved_once_with_the_same_values(monkeypatch):
    from bokeh.settings import SettingProvenance, settings

    names = tuning._HOT_SETTINGS
    before = {n: getattr(settings, n)() for n in names}
    monkeypatch.setenv("BOKEH_PRETTY", "true")        # the environment still decides, once
    pretty = settings.pretty()                         # what Bokeh makes of it
    try:
        fixed = tuning.resolve_bokeh_settings()
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
