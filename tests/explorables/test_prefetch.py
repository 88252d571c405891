"""The prefetcher computes the neighbouring slider settings ahead, without changing what a page shows."""

import numpy as np
import param
import pytest

from deeptricks.explorables import base, batch_norm, dropout
from deeptricks.explorables.base import Coalesced, Prefetcher
from deeptricks.explorables.batch_norm import BatchNormPage, BatchNormState
from deeptricks.explorables.batch_norm_model import BatchNormModel
from deeptricks.explorables.dropout import DropoutPage, DropoutState


class Controls(param.Parameterized):
    rate = param.Number(0.5, bounds=(0.0, 0.9), step=0.05)
    depth = param.Integer(10, bounds=(1, 12))
    mode = param.Selector(default="a", objects=["a", "b"])


def make(**kw):
    s = Controls(**kw)
    seen = []
    return s, Prefetcher(s, seen.append, ["rate", "depth", "mode"]), seen


def test_neighbours_follow_the_last_move_first_then_the_other_side():
    s, pf, _ = make()
    assert pf.neighbours() == []                      # nothing moved yet: no trend to follow
    s.rate = 0.55                                     # up one step
    assert [n["rate"] for n in pf.neighbours()] == [0.6, 0.5]
    s.rate = 0.5                                      # and back down
    assert [n["rate"] for n in pf.neighbours()] == [0.45, 0.55]
    # the other controls keep their current values in each neighbour
    assert all(n["depth"] == 10 and n["mode"] == "a" for n in pf.neighbours())


def test_neighbours_use_the_sliders_rounding_and_stay_in_bounds():
    s, pf, _ = make(rate=0.85)
    s.rate = 0.9
    assert [n["rate"] for n in pf.neighbours()] == [0.85]        # 0.95 is out of bounds
    s.rate = 0.15
    s.rate = 0.1                                                  # 0.1 - 0.05 is 0.05000000000000001 unrounded
    assert [n["rate"] for n in pf.neighbours()] == [0.05, 0.15]
    s.depth = 11
    s.depth = 12
    assert [n["depth"] for n in pf.neighbours()] == [11]
    assert all(isinstance(n["depth"], int) for n in pf.neighbours())


def test_selectors_and_multi_control_updates_have_no_neighbours():
    s, pf, _ = make()
    s.mode = "b"
    assert pf.neighbours() == []
    s.param.update(rate=0.3, depth=4)                 # a preset or a URL: no direction to guess
    assert pf.neighbours() == []


def test_schedule_does_nothing_outside_a_server():
    s, pf, seen = make()
    s.rate = 0.55
    pf.schedule()
    assert seen == [] and pf.done == 0


class FakeDoc:
    """Just enough of a Bokeh document for the prefetcher: callbacks run when we say."""

    def __init__(self):
        self.session_context = object()
        self.queue = []

    def add_timeout_callback(self, cb, ms):
        self.queue.append(cb)

    def add_next_tick_callback(self, cb):
        self.queue.append(cb)

    def run_all(self):
        while self.queue:
            self.queue.pop(0)()


@pytest.fixture
def in_session(monkeypatch):
    """A prefetcher in a (fake) server session, just after the rate moved up to 0.55."""
    s, pf, seen = make()
    doc = FakeDoc()
    monkeypatch.setattr(type(base.pn.state), "curdoc", property(lambda self: doc))
    s.rate = 0.55
    pf.schedule()
    return s, pf, seen, doc


def test_queued_work_computes_each_neighbour_once_and_stops_when_the_learner_moves(in_session):
    s, pf, seen, doc = in_session
    doc.run_all()
    assert [n["rate"] for n in seen] == [0.6, 0.5] and pf.done == 2
    seen.clear()
    s.rate = 0.6
    pf.schedule()
    s.rate = 0.65                                     # moved on before the queued work ran
    doc.run_all()
    assert seen == []


def test_prefetching_waits_while_any_session_has_an_update_waiting(in_session):
    s, pf, seen, doc = in_session
    busy = Coalesced(lambda: None)
    Coalesced.waiting.add(busy)
    try:
        doc.run_all()
    finally:
        Coalesced.waiting.discard(busy)
    assert seen == []


def test_a_dropout_neighbour_from_the_cache_equals_a_fresh_computation(monkeypatch):
    monkeypatch.setattr(dropout, "VIEWS", dropout.ViewCache(64))
    page = DropoutPage(DropoutState(p=0.3, layer=2))
    page.state.p = 0.35
    (ahead, behind) = page.prefetch.neighbours()
    assert ahead["p"] == 0.4 and behind["p"] == 0.3
    page.prefetch.warm(ahead)
    misses = dropout.VIEWS.misses
    page.state.p = 0.4                               # served from the cache...
    assert dropout.VIEWS.misses == misses
    monkeypatch.setattr(dropout, "VIEWS", dropout.ViewCache(64))          # nothing cached any more
    fresh = DropoutPage(DropoutState(p=0.4, layer=2))  # ...and identical to a page computed there
    pairs = [(page.units.source, fresh.units.source)] + [
        (page.hists.sources[s], fresh.hists.sources[s]) for s in page.hists.sources]
    for got, want in pairs:
        assert got.data.keys() == want.data.keys()
        for col in got.data:
            np.testing.assert_array_equal(np.asarray(got.data[col]), np.asarray(want.data[col]))

def test_batch_norm_prefetch_leaves_the_shared_model_as_it_was(monkeypatch):
    monkeypatch.setattr(batch_norm, "VIEWS", batch_norm.ViewCache(64))
    page = BatchNormPage(BatchNormState(gain=1.5, depth=8))
    m = page.state.model
    page.state.gain = 1.55
    before = (m.gain, m.plain, m.train, m.eval, m.weights)
    for values in page.prefetch.neighbours():
        page.prefetch.warm(values)
    assert (m.gain, m.plain, m.train, m.eval, m.weights) == before       # the same objects, not copies
    assert all(a is b for a, b in zip((m.plain, m.train, m.eval), before[1:4]))
    misses = batch_norm.VIEWS.misses
    page.state.gain = 1.6                            # the neighbour ahead: from the cache
    assert batch_norm.VIEWS.misses == misses
    want = BatchNormModel().compute(8, gain=1.6, act="relu", x_axis="log")
    np.testing.assert_allclose(page.spread.sources["with BatchNorm"].data["y"], want.right.spread, rtol=1e-6)


def test_preserved_restores_the_model_even_when_the_block_fails():
    m = BatchNormModel()
    m.compute(5, gain=1.0)
    plain = m.plain
    with pytest.raises(RuntimeError):
        with m.preserved():
            m.compute(6, gain=2.5, act="tanh")
            raise RuntimeError("boom")
    assert (m.gain, m.activation) == (1.0, "relu") and m.plain is plain and m.plain.depth == 5


def test_no_prefetching_when_the_view_caches_are_off(monkeypatch, in_session):
    monkeypatch.setenv("DEEPTRICKS_VIEW_CACHE", "0")
    s, pf, seen, doc = in_session
    doc.run_all()
    seen.clear()
    off = Prefetcher(s, seen.append, ["rate"])
    s.rate = 0.6
    off.schedule()
    doc.run_all()
    assert seen == [] and not off.enabled


class _Loop:
    """Runs call_later callbacks at once, in order (a loop with no clock)."""

    def __init__(self):
        self.queue = []

    def call_later(self, delay, fn):
        self.queue.append(fn)

    def drain(self, limit=1000):
        n = 0
        while self.queue and n < limit:
            self.queue.pop(0)()
            n += 1
        return n


def test_a_range_covers_every_step_with_the_other_controls_at_their_defaults():
    s = Controls(rate=0.2, depth=3, mode="b")
    pf = Prefetcher(s, lambda v: None, ["rate"], ranges=["rate", "depth"])
    rates = pf.range_values("rate")
    assert [v["rate"] for v in rates] == [round(0.05 * i, 10) for i in range(19)]
    assert all(v["depth"] == 10 and v["mode"] == "a" for v in rates)        # defaults, not current
    assert [v["depth"] for v in pf.range_values("depth")] == list(range(1, 13))
    assert pf.range_values("mode") == []


def test_a_jump_anywhere_on_the_dropout_rate_is_answered_from_the_cache():
    """The whole range of p, warmed in the background for the default settings, then a jump
    to any rate computes nothing new and shows what a fresh computation gives."""
    page = DropoutPage()
    dropout.VIEWS._items.clear()                            # nothing computed ahead but the warm-up
    loop = _Loop()
    page.prefetch._run_range(loop, page.prefetch.range_values("p"))
    assert loop.drain() == 19 and page.prefetch.done == 19
    misses = dropout.VIEWS.misses
    for p in (0.9, 0.05, 0.65):
        page.state.p = p
    assert dropout.VIEWS.misses == misses                   # every jump found its view
    fresh = DropoutState(p=0.65).model.compute(0.65, mode="train")
    assert np.array_equal(page.state.views().grid, fresh.grid)


def test_the_range_warm_up_waits_while_an_update_is_due(monkeypatch):
    page = DropoutPage()
    loop = _Loop()
    done = page.prefetch.done
    waiting = Coalesced(lambda: None)
    Coalesced.waiting.add(waiting)
    try:
        page.prefetch._run_range(loop, page.prefetch.range_values("p")[:2])
        assert loop.drain(limit=5) == 5 and page.prefetch.done == done     # it only re-queued itself
    finally:
        Coalesced.waiting.discard(waiting)
    loop.drain()
    assert page.prefetch.done == done + 2
