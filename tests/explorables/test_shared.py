"""Sessions share one model per process, yet each page shows exactly its own settings."""

import numpy as np

from deeptricks.explorables.batch_norm import BatchNormPage, BatchNormState
from deeptricks.explorables.dropout import DropoutPage, DropoutState
from deeptricks.explorables.layer_norm import LayerNormPage, LayerNormState
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
