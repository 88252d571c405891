"""Sessions share one model per process, yet each page shows exactly its own settings."""

import numpy as np

from deeptricks.explorables.batch_norm import BatchNormPage, BatchNormState
from deeptricks.explorables.dropout import DropoutPage, DropoutState
from deeptricks.explorables.layer_norm import LayerNormState
from deeptricks.explorables.batch_norm_model import BatchNormModel
from deeptricks.explorables.dropout_model import DropoutModel


def bars(grid):
    return {s: np.asarray(src.data["top"]).copy() for s, src in grid.sources.items()}


def test_pages_share_the_model():
    assert BatchNormState().model is BatchNormState().model
    assert DropoutState().model is DropoutState().model
    assert LayerNormState().model is LayerNormState().model


def test_interleaved_batch_norm_sessions_each_see_their_own_net():
    a, b = BatchNormPage(BatchNormState(gain=2.0, depth=20)), BatchNormPage(BatchNormState(gain=0.5))
    a.state.activation = "tanh"          # a recomputes with tanh at gain 2 ...
    b.state.depth = 15                   # ... then b moves the shared model to ReLU at gain 0.5
    a.state.bn = False                   # a's next update must put its own net back first
    fresh = BatchNormPage(BatchNormState(gain=2.0, depth=20, activation="tanh", bn=False))
    for x, y in ((a.left, fresh.left), (a.right, fresh.right)):
        got, want = bars(x), bars(y)
        assert got.keys() == want.keys()
        for s in got:
            np.testing.assert_array_equal(got[s], want[s])
    alone = BatchNormModel().compute(15, gain=0.5)
    assert b.left.row_text[14][1].endswith(alone.left.notes[14])   # "⚠ vanished · …"


def test_interleaved_dropout_sessions_keep_their_masks():
    a, b = DropoutPage(DropoutState(p=0.3)), DropoutPage(DropoutState(p=0.7))
    b.state.mask_seed = 5                # b draws new masks in the shared model
    a.state.layer = 2                    # a must compute with its own masks (seed 0)
    alone = DropoutModel()
    want = alone.compute(0.3, layer=2)
    np.testing.assert_array_equal(a.units.source.data["value"], want.grid)
    alone.resample(5)
    np.testing.assert_array_equal(b.units.source.data["value"], alone.compute(0.7).grid)


def test_view_cache_keeps_the_newest_entries(monkeypatch):
    from deeptricks.explorables.shared import ViewCache

    cache, calls = ViewCache(max_entries=2), []
    compute = lambda k: (lambda: calls.append(k) or k * 10)   # noqa: E731
    assert [cache.get(k, compute(k)) for k in (1, 2, 1, 3, 2)] == [10, 20, 10, 30, 20]
    assert calls == [1, 2, 3, 2]          # 1 was fresh when 3 came, so 2 was the one dropped
    assert len(cache) == 2 and (cache.hits, cache.misses) == (1, 4)
    monkeypatch.setenv("DEEPTRICKS_VIEW_CACHE", "0")
    off = ViewCache()
    off.get(1, compute(1)), off.get(1, compute(1))
    assert calls[-2:] == [1, 1] and len(off) == 0


def test_a_revisited_setting_comes_from_the_cache_unchanged():
    from deeptricks.explorables import batch_norm

    page = BatchNormPage(BatchNormState(gain=1.35, depth=12))
    first = bars(page.right)
    page.state.gain = 1.4
    hits = batch_norm.VIEWS.hits
    page.state.gain = 1.35
    assert batch_norm.VIEWS.hits > hits
    again = bars(page.right)
    assert all(np.array_equal(first[s], again[s]) for s in first)
    # and the cached text matches a fresh computation
    fresh = BatchNormPage(BatchNormState(gain=1.35, depth=12))
    assert page.spread_text.object == fresh.spread_text.object
