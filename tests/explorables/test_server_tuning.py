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
