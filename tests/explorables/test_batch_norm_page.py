"""The batch-norm page without a browser: state changes reach the plots' data sources."""

import numbers

import numpy as np
import pytest

from deeptricks.explorables.batch_norm import URL_PARAMS, BatchNormPage, BatchNormState
from deeptricks.ui import coerce_query


@pytest.fixture(scope="module")
def built():
    pg = BatchNormPage()
    pg.layout()
    return pg


@pytest.fixture(autouse=True)
def reset(built):
    defaults = {k: p.default for k, p in built.state.param.objects().items() if k in URL_PARAMS}
    built.state.param.update(**defaults)
    yield


def tops(grid, k):
    """Bar heights of the k-th shown row."""
    return np.asarray(grid.row(grid.shown_layers[k])["top"], float)


def note(grid, k):
    """The note drawn at the right of the k-th shown row."""
    return grid.row_text[grid.shown_layers[k]][1]


def all_sources(pg):
    srcs = [s for g in (pg.left, pg.right) for s in (*g.sources.values(), g.label_source)]
    srcs += list(pg.spread.sources.values()) + list(pg.modes.sources.values())
    srcs += [pg.one_source, pg.ref_source, pg.curve_source, pg.now_source]
    return srcs


def figures(pg):
    return [pg.left.figure, pg.right.figure, pg.spread.figure, pg.modes.figure, pg.one_fig, pg.curve_fig]


def test_switch_changes_the_right_column_in_place(built):
    figs, srcs = figures(built), all_sources(built)
    with_bn = [tops(built.right, k) for k in range(10)]
    assert "With BatchNorm" in built.right_title.object
    built.state.bn = False
    without = [tops(built.right, k) for k in range(10)]
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(with_bn, without))
    for k in range(10):                                   # now the right net is the left net
        np.testing.assert_array_equal(without[k], tops(built.left, k))
    assert "BatchNorm off" in built.right_title.object
    assert len(built.spread.sources["with BatchNorm"].data["y"]) == 0
    assert figures(built) == figs and all(a is b for a, b in zip(all_sources(built), srcs))
    built.state.bn = True
    np.testing.assert_array_equal(tops(built.right, 9), with_bn[9])


def test_deep_net_shows_a_named_subset_of_layers(built):
    built.state.depth = 30
    assert len(built.left.shown_layers) == 12
    assert built.left.shown_layers[0] == 0 and built.left.shown_layers[-1] == 29
    assert "Showing 12 of 30 layers" in built.left._caption.object
    assert built.right.shown_layers == built.left.shown_layers
    assert len(built.spread.sources["without BatchNorm"].data["y"]) == 30


def test_drift_and_collapse_are_labelled(built):
    built.state.param.update(depth=30, gain=2.0, x_axis="shared")
    last = note(built.left, 11)
    assert last.startswith("\u26a0") and last.endswith("% off")
    assert note(built.right, 11) == "std 1"
    built.state.param.update(activation="sigmoid", depth=60)
    assert "collapsed" in note(built.left, 11)
    assert "every example gives the same values" in built.spread_text.object


def test_batch_of_one_shows_the_explanation(built):
    built.state.batch = 1
    assert built.batch_note.visible and "batch of one" in built.batch_note.object.lower()
    assert len(built.one_source.data["y"]) == 0
    assert len(built.ref_source.data["y"]) == 6            # the plot is not blank
    built.state.mode = "eval"
    assert not built.batch_note.visible
    ys = np.asarray(built.one_source.data["y"]).reshape(20, 6)
    assert (ys == ys[0]).all()                              # eval mode: the batch does not matter
    assert len(built.now_source.data["batch"]) == 0


def test_spread_readout_follows_the_batch_size(built):
    built.state.batch = 4
    small = np.asarray(built.one_source.data["y"]).reshape(20, 6).std(axis=0).mean()
    built.state.batch = 256
    big = np.asarray(built.one_source.data["y"]).reshape(20, 6).std(axis=0).mean()
    assert big < 0.3 * small
    assert "batch of 256" in built.one_text.object
    assert list(built.now_source.data["batch"]) == [256]


def test_eval_mode_needs_warm_up(built):
    built.state.mode = "eval"
    assert "eval mode" in built.right_title.object
    cold = np.asarray(built.modes.sources["eval mode"].data["y"])
    train = np.asarray(built.modes.sources["training mode"].data["y"])
    assert cold[-1] > 10 * train[-1]
    assert not note(built.right, 9).startswith("std 1")
    built.state.warmup = 200
    warm = np.asarray(built.modes.sources["eval mode"].data["y"])
    np.testing.assert_allclose(warm, train, rtol=0.02)
    assert float(note(built.right, 9).removeprefix("std ")) == pytest.approx(1.0, abs=0.02)
    assert "matches training mode" in built.modes_text.object


@pytest.mark.parametrize("settings", [
    dict(depth=60, gain=3.0, activation="relu", x_axis="fit"),
    dict(depth=60, gain=3.0, activation="relu", x_axis="log", mode="eval", warmup=0),
    dict(depth=60, gain=1.5, activation="sigmoid", x_axis="shared", bn=False),
    dict(depth=60, gain=0.25, activation="tanh", x_axis="fit", batch=1),
    dict(depth=1, gain=0.25, activation="relu", batch=2),
])
def test_no_nonfinite_values_reach_a_source(built, settings):
    built.state.param.update(**settings)
    for src in all_sources(built):
        lengths = {len(v) for v in src.data.values()}
        assert len(lengths) <= 1, src.name
        for key, col in src.data.items():
            arr = np.asarray(col)
            if arr.dtype.kind in "fiu":
                assert np.isfinite(arr).all(), (src.name, key)
            elif arr.dtype == object:
                assert all(np.isfinite(v) for v in col if isinstance(v, numbers.Number)), (src.name, key)
    for fig in figures(built):
        for r in (fig.x_range, fig.y_range):
            assert np.isfinite([r.start, r.end]).all() and r.end > r.start, fig.name


@pytest.mark.parametrize("query,expected,noted", [
    ({"depth": ["30"], "bn": ["false"], "batch": ["1"]}, {"depth": 30, "bn": False, "batch": 1}, False),
    ({"depth": ["500"]}, {"depth": 60}, True),
    ({"gain": ["-1"], "act": ["softmax"]}, {"gain": 0.25}, True),
    ({"x": ["fit"], "mode": ["eval"], "warmup": ["1e9"]}, {"x_axis": "fit", "mode": "eval", "warmup": 200}, True),
    ({"batch": ["0"], "depth": ["2.5"]}, {"batch": 1, "depth": 2}, True),
    ({"gain": ["nan"], "bn": ["maybe"]}, {}, True),
])
def test_url_query_is_clamped_or_ignored_with_a_note(query, expected, noted):
    values, notes = coerce_query(BatchNormState(), query, URL_PARAMS)
    assert values == pytest.approx(expected) if expected else values == {}
    assert bool(notes) == noted


# -- the views: each section alone ---------------------------------------------------

import panel as pn  # noqa: E402

from deeptricks.explorables import batch_norm  # noqa: E402
from deeptricks.explorables.registry import by_slug  # noqa: E402
from page_checks import visible_text  # noqa: E402

VIEW_CONTROLS = {
    "compare": {"depth", "gain", "activation", "bn", "x_axis"},
    "batch-noise": {"batch"},
    "running-stats": {"warmup"},
}
OTHER_VALUE = dict(depth=12, gain=1.0, activation="tanh", bn=False, x_axis="fit", batch=32, mode="eval",
                   warmup=10)
"""For each control, a value other than its default (to find the widget that follows it)."""


@pytest.fixture(scope="module")
def alone():
    """Each view built alone, on a page of its own: ``{name: (page, view)}``."""
    built = {}
    for name in VIEW_CONTROLS:
        pg = BatchNormPage()
        built[name] = (pg, pg.view(name))
    return built


@pytest.fixture
def view_of(alone):
    """``view_of(name)``: that view's page and layout, its controls back at their defaults."""
    def get(name):
        pg, v = alone[name]
        pg.state.param.update(**{k: p.default for k, p in pg.state.param.objects().items() if k in URL_PARAMS})
        return pg, v
    return get


def bound_widgets(pg, root) -> dict:
    """``{param: [widgets in root that follow it]}``, found by moving each control in turn."""
    widgets = root.select(pn.widgets.Widget)
    found = {}
    for name, other in OTHER_VALUE.items():
        before = [w.value for w in widgets]
        setattr(pg.state, name, other)
        found[name] = [w for w, b in zip(widgets, before) if w.value != b]
        setattr(pg.state, name, pg.state.param[name].default)
    return found


def test_the_views_are_registered_in_page_order():
    names = [v.name for v in by_slug("batch_norm").views()]
    assert names == ["compare", "batch-noise", "running-stats"]
    for v in BatchNormPage.VIEWS:
        assert v.summary and "\n" not in v.summary
        assert v.caption.endswith(".") and ". " not in v.caption      # one sentence
    assert [v.name for v in BatchNormPage.VIEWS if v.first_screen] == ["compare"]


@pytest.mark.parametrize("name", list(VIEW_CONTROLS))
def test_a_view_shows_exactly_its_controls_and_no_page_frame(view_of, name):
    pg, v = view_of(name)
    assert v.name == f"batch-norm-{name}"
    found = bound_widgets(pg, v)
    assert {p for p, ws in found.items() if ws} == VIEW_CONTROLS[name]
    assert all(len(ws) == 1 for p, ws in found.items() if p in VIEW_CONTROLS[name]), "each control once"
    assert len(v.select(pn.widgets.Widget)) == len(VIEW_CONTROLS[name]), "no widget that moves nothing"
    names = {o.name for o in v.select()}
    assert not {n for n in names if n and n.endswith(("-header", "-footer", "-sidebar"))}
    text = visible_text(v.get_root())
    assert batch_norm.INTRO[:40] not in text and "All explorables" not in text
    assert BatchNormPage.view_named(name).caption in v.objects[-1].object        # its one sentence


def test_the_module_builds_a_view_with_or_without_its_caption():
    v = batch_norm.view("batch-noise", caption=False)
    assert v.name == "batch-norm-batch-noise"
    assert v.objects[-1].object == ""                # no caption, and no link outside a server


def test_compare_view_follows_its_controls(view_of):
    pg, v = view_of("compare")
    assert len(pg.left.shown_layers) == batch_norm.VIEW_ROWS     # compact: fewer rows than the page
    widgets = bound_widgets(pg, v)
    with_bn = list(pg.right.sources["values"].data["top"])
    left = list(pg.left.sources["values"].data["top"])
    widgets["bn"][0].value = False                    # the view's own checkbox
    assert not pg.state.bn and "BatchNorm off" in pg.right_title.object
    assert list(pg.right.sources["values"].data["top"]) == left != with_bn
    widgets["bn"][0].value = True
    assert list(pg.right.sources["values"].data["top"]) == with_bn
    for name, other in (("depth", 30), ("gain", 2.0), ("activation", "sigmoid"), ("x_axis", "shared")):
        before = {k: list(c) for k, c in pg.left.sources["values"].data.items()}
        widgets[name][0].value = other
        after = {k: list(c) for k, c in pg.left.sources["values"].data.items()}
        assert after != before, name


def test_compare_view_caption_left_drifts_right_keeps_std_1(view_of):
    pg, _ = view_of("compare")

    def notes(grid):
        return [grid.row_text[i][1] for i in grid.shown_layers]

    pg.state.depth = 30                                   # grows
    assert float(notes(pg.left)[-1].split("std ")[1]) > 1e3
    pg.state.gain = 0.25                                  # shrinks
    assert "vanished" in notes(pg.left)[-1]
    pg.state.param.update(gain=1.5, activation="sigmoid", depth=60)    # collapses
    assert "collapsed" in notes(pg.left)[-1]
    for settings in (dict(activation="relu", depth=30), dict(gain=0.25, activation="relu", depth=30),
                     dict(activation="sigmoid", depth=60), dict(activation="tanh", gain=3.0, depth=60)):
        pg.state.param.update(**settings)
        assert all(float(n.removeprefix("std ")) == pytest.approx(1.0, abs=0.01) for n in notes(pg.right)), settings


def test_batch_noise_view_follows_the_batch_slider(view_of):
    pg, v = view_of("batch-noise")
    slider = bound_widgets(pg, v)["batch"][0]
    before = list(pg.one_source.data["y"])
    slider.value = 64
    assert pg.state.batch == 64 and list(pg.one_source.data["y"]) != before
    assert list(pg.now_source.data["batch"]) == [64]
    slider.value = 1
    assert pg.batch_note.visible and "eval mode** below" not in pg.batch_note.object   # no switch below here
    assert "batch of one has no batch statistics" in pg.batch_note.object.lower()


def test_batch_noise_view_caption_smaller_batches_scatter_wider(view_of):
    pg, _ = view_of("batch-noise")
    distance = []
    for b in (2, 4, 16, 64, 256):
        pg.state.batch = b
        dots = np.asarray(pg.one_source.data["y"]).reshape(20, 6)
        distance.append(np.abs(dots - np.asarray(pg.ref_source.data["y"])).mean())   # from the black dash
    assert all(a > b for a, b in zip(distance, distance[1:])), distance


def test_running_stats_view_follows_the_warm_up(view_of):
    pg, v = view_of("running-stats")
    slider = bound_widgets(pg, v)["warmup"][0]
    cold = list(pg.modes.sources["eval mode"].data["y"])
    slider.value = 20
    assert pg.state.warmup == 20 and list(pg.modes.sources["eval mode"].data["y"]) != cold
    assert "After **20** updates" in pg.modes_text.object


def test_running_stats_view_caption_eval_drifts_cold_and_meets_training_when_warm(view_of):
    pg, _ = view_of("running-stats")
    cold = np.asarray(pg.modes.sources["eval mode"].data["y"])
    train = np.asarray(pg.modes.sources["training mode"].data["y"])
    np.testing.assert_allclose(train, 1.0, rtol=0.01)
    assert cold[-1] > 10 * train[-1]
    plain = [float(pg.left.row_text[i][1].removeprefix("std ")) for i in pg.left.shown_layers]
    np.testing.assert_allclose(cold[pg.left.shown_layers], plain, rtol=0.01)    # the plain net's drift
    pg.state.warmup = 36                                  # a few dozen updates
    np.testing.assert_allclose(pg.modes.sources["eval mode"].data["y"], train, rtol=0.05)
