"""Numerics at the edges of every page's controls: plots stay valid and say what happened.

For every corner of each page's parameter box (all of them for the small pages, the numeric
corners crossed with every activation for the bigger ones) and for the named extremes — a
100-block sigmoid stack, ReLU with weight scale 3 at depth 50 and 60, dropout 0.9, batches of
one, training that blows up — the page must:

* keep NaN and inf out of every data source, with finite, non-empty ranges on every figure;
* never show a broken plot: a visible figure that draws nothing must be explained, either on the
  figure itself or by the page's note for that figure (e.g. "Not run yet", "Training stopped");
* label what happened: "collapsed", "overflow", a warning sign, or the size of the blow-up.
"""

from __future__ import annotations

import itertools
import re

import pytest

from deeptricks.explorables import lab
from page_checks import (assert_page_valid, build, figure_texts, unlabelled_empty_figures, visible_figures,
                         visible_text)

pytestmark = pytest.mark.slow

# A figure that may be empty, and the visible text that must then explain it.
EXPLAINED = {
    "residual-train-figure": "Not run yet",
    "lab-grad-now-figure": "Training stopped",
    "lab-grad-a-figure": "Training stopped",
    "lab-pct-a-figure": "Training stopped",
}


def assert_nothing_broken(b, where) -> str:
    assert_page_valid(b)
    text = visible_text(b.root)
    unexplained = [f for f in unlabelled_empty_figures(b.root) if EXPLAINED.get(f, "\0") not in text]
    assert not unexplained, (where, unexplained)
    return text


def notes_of(b, figure_name: str) -> list[str]:
    """The texts drawn in a figure (title, row labels, notes)."""
    figs = [f for f in visible_figures(b.root) if f.name == figure_name]
    assert figs, f"{figure_name} is not shown"
    return figure_texts(figs[0])


def _exponent(note: str) -> int:
    m = re.search(r"e\+(\d+)", note)
    return int(m.group(1)) if m else 0


# -- dropout: every corner ------------------------------------------------------------

@pytest.fixture(scope="module")
def dropout():
    return build("dropout")


def test_dropout_every_corner(dropout):
    b = dropout
    for (p, mode, scale), (layer, k) in itertools.product(itertools.product((0.0, 0.9), ("train", "test"), (True, False)),
                                                           ((1, 1), (10, 64))):
        b.state.param.update(p=p, mode=mode, scale=scale, layer=layer, k=k)
        text = assert_nothing_broken(b, (p, mode, scale, layer, k))
        labels = " ".join(notes_of(b, "dropout-hist-figure"))
        assert f"layer {layer}" in labels or "layer 10" in labels
        if mode == "train" and p == 0.9:
            # nine units in ten are dark: the page says so with numbers, not an empty grid
            m = re.search(r"(\d+) of 256 units dropped", text)
            assert m and int(m.group(1)) > 200, text[:300]
            zeros = [int(z) for z in re.findall(r"(\d+)% zeros", labels)]
            assert zeros and min(zeros) >= 85, labels


# -- batch norm: numeric corners x activations, and the named extremes ---------------------

@pytest.fixture(scope="module")
def batch_norm():
    return build("batch_norm")


def test_batch_norm_corners(batch_norm):
    b = batch_norm
    extras = itertools.cycle([dict(bn=True, x_axis="log", mode="train", batch=1, warmup=0),
                              dict(bn=False, x_axis="shared", mode="eval", batch=512, warmup=200),
                              dict(bn=True, x_axis="fit", mode="eval", batch=1, warmup=0)])
    for (depth, gain), act in itertools.product(((1, 0.25), (1, 3.0), (60, 0.25), (60, 3.0)),
                                                ("relu", "tanh", "sigmoid")):
        settings = dict(depth=depth, gain=gain, activation=act, **next(extras))
        b.state.param.update(**settings)
        assert_nothing_broken(b, settings)


def test_batch_norm_sigmoid_collapse_and_relu_blow_up_are_labelled(batch_norm):
    b = batch_norm
    b.state.param.update(depth=60, gain=1.5, activation="sigmoid", bn=True, x_axis="shared", mode="train", batch=16)
    left, right = notes_of(b, "bn-left-figure"), notes_of(b, "bn-right-figure")
    assert "\u26a0 collapsed" in left[-1] and "\u26a0 collapsed" not in " ".join(right)
    assert "every example gives the same values" in visible_text(b.root)
    for depth in (50, 60):
        b.state.param.update(depth=depth, gain=3.0, activation="relu", x_axis="log")
        left, right = notes_of(b, "bn-left-figure"), notes_of(b, "bn-right-figure")
        deep = left[-1]
        assert deep.startswith("\u26a0") and ("overflow" in deep or _exponent(deep) >= 10), left
        assert right[-1] == "std 1"                              # BatchNorm keeps it at size 1
        assert_nothing_broken(b, depth)


def test_batch_norm_batch_of_one_explains_itself(batch_norm):
    b = batch_norm
    b.state.param.update(depth=10, gain=1.5, activation="relu", batch=1, mode="train")
    text = assert_nothing_broken(b, "batch 1")
    assert "A batch of one has no batch statistics" in text


# -- layer norm ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def layer_norm():
    return build("layer_norm")


def test_layer_norm_corners(layer_norm):
    b = layer_norm
    hi = {k: b.state.param[k].bounds[1] for k in ("feature", "example", "batch")}
    for depth, (gain, method), batch in itertools.product((1, 60), ((0.25, "batch"), (3.0, "layer")), (1, hi["batch"])):
        settings = dict(depth=depth, gain=gain, batch=batch, method=method,
                        feature=hi["feature"] if depth == 60 else 1, example=hi["example"] if gain == 3.0 else 1)
        b.state.param.update(**settings)
        text = assert_nothing_broken(b, settings)
        if batch == 1:
            assert b.page.shrink_note.visible and "one" in b.page.shrink_note.object.lower()
        if depth == 60 and gain == 3.0:                       # the plain stack explodes; say how far
            m = re.search(r"standard deviation of ([0-9.]+e\+(\d+))", text)
            assert m and int(m.group(2)) >= 10, text[:500]


# -- residual: depth 100 ------------------------------------------------------------------

@pytest.fixture(scope="module")
def residual():
    return build("residual")


def test_residual_corners(residual):
    b = residual
    lo, hi = b.state.param["gain"].bounds
    for depth, gain, act, (norm, res) in itertools.product((1, 100), (lo, hi), ("sigmoid", "relu"),
                                                           (("none", False), ("batch", True))):
        b.state.param.update(depth=depth, gain=gain, activation=act, norm=norm, residual=res)
        assert_nothing_broken(b, (depth, gain, act, norm, res))


def test_residual_depth_100_sigmoid_and_blow_up_are_labelled(residual):
    b = residual
    b.state.param.update(depth=100, gain=1.0, activation="sigmoid", norm="none", residual=False)
    text = assert_nothing_broken(b, "sigmoid 100")
    m = re.search(r"Block 1 receives\s+([0-9.]+)e-(\d+)\s*\u00d7", text)
    assert m and int(m.group(2)) >= 20, text[:400]             # the plain net's gradient has vanished
    b.state.param.update(depth=100, gain=2.0, activation="relu", residual=True)
    text = assert_nothing_broken(b, "relu 100 scale 2")
    assert "Exploding signal" in text and ("overflow" in text or re.search(r"grew [0-9.]+e\+\d+", text))


# -- the lab: training at the extremes --------------------------------------------------------

LAB_EXTREMES = [
    # ReLU, weight scale 3, 50 blocks, nothing to rein it in, SGD at a large rate: the signal blows up
    dict(depth=50, width=8, activation="relu", gain=3.0, norm="none", optimizer="sgd", lr=1.0, dropout=0.0),
    # 50 sigmoid blocks, no shortcut: the gradient vanishes
    dict(depth=50, width=8, activation="sigmoid", norm="none", residual=False),
    # dropout 0.9 with batches of one: BatchNorm cannot train, layer norm and no norm can
    dict(dropout=0.9, batch_size=1, norm="batch"),
    dict(dropout=0.9, batch_size=1, norm="layer", b_norm="none", compare=True, b_dropout=0.9),
    # the smallest net on the noisiest, smallest data set
    dict(depth=1, width=4, n_train=10, noise=0.5, dataset="noisy", shuffle_labels=True, lr=1.0, batch_size=256),
]


def _train(pg, min_steps: int = 12, max_ticks: int = 60) -> None:
    """Start and tick until the per-layer charts have a first point (or the run stops)."""
    pg.start()
    for _ in range(max_ticks):
        if not pg.session.running or pg.session.step_count >= min_steps:
            break
        pg._tick()
    for _ in range(lab.SLOW_EVERY):          # the per-layer views redraw every few ticks
        if pg.session.running:
            pg._tick()


@pytest.mark.parametrize("settings", LAB_EXTREMES, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_lab_extremes_train_and_label(settings):
    b = build("lab", **settings)
    pg = b.page
    _train(pg)
    text = assert_nothing_broken(b, settings)
    if pg.session.status == "stopped":
        assert pg.stop_note.visible and "Training stopped" in pg.stop_note.object
        assert "NaN or infinite" in text or "at least 2 examples" in text
    else:
        assert pg.session.step_count > 0
    labels = [t for f in visible_figures(b.root) if f.name.startswith("lab-hist") for t in figure_texts(f)]
    assert labels
    if settings.get("gain") == 3.0 and settings.get("norm") == "none":
        assert max(_exponent(t) for t in labels) >= 10 or any("overflow" in t for t in labels), labels
    if settings.get("batch_size") == 1 and settings.get("norm") == "batch":
        assert pg.session.status == "stopped" and "at least 2 examples" in pg.stop_note.object


def test_lab_paused_before_its_tenth_step_explains_its_empty_charts():
    b = build("lab", depth=2, width=8)
    b.page.step()                             # one step, then paused
    assert b.page.session.step_count == 1
    assert_nothing_broken(b, "paused at step 1")
