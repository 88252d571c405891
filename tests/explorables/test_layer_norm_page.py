"""The layer-norm page without a browser: state changes reach the plots' data sources."""

import numbers

import numpy as np
import panel as pn
import pytest
from bokeh.models import Plot

from deeptricks.explorables.layer_norm import URL_PARAMS, LayerNormPage, LayerNormState, view
from deeptricks.explorables.layer_norm_model import MAX_DEPTH, N_EXAMPLES, N_FEATURES, POOL
from deeptricks.explorables.registry import by_slug
from deeptricks.ui import coerce_query


@pytest.fixture(scope="module")
def built():
    pg = LayerNormPage()
    pg.layout()
    return pg


@pytest.fixture(autouse=True)
def reset(built):
    defaults = {k: p.default for k, p in built.state.param.objects().items() if k in URL_PARAMS}
    built.state.param.update(**defaults)
    yield


def all_sources(pg):
    srcs = [pg.raw_source, pg.raw_box, pg.norm_source, pg.norm_box, pg.bn_source, pg.bn_ref, pg.ln_source]
    srcs += [s for g in (pg.left, pg.right) for s in (*g.sources.values(), g.label_source)]
    return srcs + list(pg.spread.sources.values())


def figures(pg):
    return [pg.raw_fig, pg.norm_fig, pg.bn_fig, pg.ln_fig, pg.left.figure, pg.right.figure,
            pg.spread.figure]


def test_highlight_follows_method_and_index(built):
    built.state.param.update(method="layer", example=4)
    assert list(built.raw_box.data["y"]) == [4] and list(built.raw_box.data["w"]) == [12]
    faded = np.asarray(built.raw_source.data["alpha"]).reshape(8, 12)
    assert (faded[3] == 1).all() and (np.delete(faded, 3, axis=0) < 1).all()
    assert "example 4" in built.table_text.object
    rows = np.asarray(built.norm_source.data["value"]).reshape(8, 12)
    np.testing.assert_allclose(rows.mean(axis=1), 0, atol=1e-9)
    built.state.param.update(method="batch", feature=7)
    assert list(built.raw_box.data["x"]) == [7] and list(built.raw_box.data["h"]) == [8]
    cols = np.asarray(built.norm_source.data["value"]).reshape(8, 12)
    np.testing.assert_allclose(cols.mean(axis=0), 0, atol=1e-9)
    assert "feature 7" in built.table_text.object and "After batch norm" in built.norm_fig.title.text


def test_shrinking_the_batch_moves_batch_norm_only(built):
    figs, srcs = figures(built), all_sources(built)
    bn8, ln8 = list(built.bn_source.data["y"]), list(built.ln_source.data["y"])
    built.state.batch = 3
    assert list(built.bn_source.data["y"]) != bn8
    assert list(built.ln_source.data["y"]) == ln8
    assert figures(built) == figs and all(a is b for a, b in zip(all_sources(built), srcs))


def test_batch_of_one_explains_and_keeps_layer_norm(built):
    ln = list(built.ln_source.data["y"])
    built.state.batch = 1
    assert built.shrink_note.visible and "batch of one" in built.shrink_note.object
    assert len(built.bn_source.data["y"]) == 0 and len(built.bn_ref.data["y"]) == 12
    assert list(built.ln_source.data["y"]) == ln
    built.state.batch = 2
    assert not built.shrink_note.visible


def test_deep_stack_layer_norm_column_stays_standard(built):
    built.state.param.update(depth=40, gain=2.0)
    assert len(built.left.shown_layers) == 12 and built.left.shown_layers[-1] == 39
    assert all(built.right.row_text[i][1] == "std 1" for i in built.right.shown_layers)
    y = np.asarray(built.spread.sources["layer norm"].data["y"])
    assert len(y) == 40 and np.all((y > 0.5) & (y < 1.5))    # per example, not per feature: near 1
    assert np.asarray(built.spread.sources["no normalization"].data["y"])[-1] > 1e6


@pytest.mark.parametrize("settings", [dict(depth=60, gain=3.0), dict(depth=60, gain=0.25, batch=1),
                                      dict(depth=1, batch=64, method="batch", feature=12)])
def test_no_nonfinite_values_reach_a_source(built, settings):
    built.state.param.update(**settings)
    for src in all_sources(built):
        assert len({len(v) for v in src.data.values()}) <= 1, src.name
        for key, col in src.data.items():
            arr = np.asarray(col)
            if arr.dtype.kind in "fiu":
                assert np.isfinite(arr).all(), (src.name, key)
            elif arr.dtype == object:
                assert all(np.isfinite(v) for v in col if isinstance(v, numbers.Number)), (src.name, key)


@pytest.mark.parametrize("query,expected,noted", [
    ({"method": ["batch"], "feature": ["5"], "batch": ["1"]}, {"method": "batch", "feature": 5, "batch": 1}, False),
    ({"example": ["9"], "batch": ["1000"]}, {"example": 8, "batch": 64}, True),
    ({"method": ["group"], "depth": ["-3"], "gain": ["x"]}, {"depth": 1}, True),
])
def test_url_query_is_clamped_or_ignored_with_a_note(query, expected, noted):
    values, notes = coerce_query(LayerNormState(), query, URL_PARAMS)
    assert values == expected
    assert bool(notes) == noted


# -- the views: each section alone --------------------------------------------------

VIEW_CONTROLS = {          # view: the state parameters its controls set (in its row, or in the section)
    "axes": ("method", "feature", "example"),
    "shrink-batch": ("batch",),
    "depth": ("depth", "gain"),
}
LABELS = {name: LayerNormState.param[name].label for name in URL_PARAMS}


def built_view(name, **state):
    pg = LayerNormPage(LayerNormState(**state))
    return pg, pg.view(name)


def view_widgets(layout) -> dict:
    """The view's widgets by label; each label must appear once."""
    found = [w.name for w in layout.select(pn.widgets.Widget)]
    assert len(found) == len(set(found)), found
    return {w.name: w for w in layout.select(pn.widgets.Widget)}


def texts(layout) -> str:
    return " ".join(str(o.object) for o in layout.select(pn.pane.PaneBase) if isinstance(o.object, str))


def titles(layout) -> list[str]:
    return [str(fig.title.text) for fig in layout.get_root().select({"type": Plot}) if fig.title is not None]


def test_the_registry_lists_the_three_views():
    assert [v.name for v in by_slug("layer_norm").views()] == list(VIEW_CONTROLS)
    for v in LayerNormPage.VIEWS:
        assert v.summary and v.caption and v.caption.count(". ") == 0 and v.caption.endswith(".")
        assert "\n" not in v.summary


@pytest.mark.parametrize("name", list(VIEW_CONTROLS))
def test_a_view_builds_alone_with_exactly_its_controls(name):
    layout = view(name)
    assert layout.name == f"layer-norm-{name}"
    names = {o.name for o in layout.select(pn.viewable.Viewable)}
    assert not {"layer-norm-header", "layer-norm-footer", "layer-norm-controls", "layer-norm-body"} & names
    assert not [o for o in layout.select(pn.Column) if "dt-controls" in o.css_classes]
    shown = texts(layout)
    assert "Try:" not in shown and "These pick the highlighted group" not in shown   # page-only captions
    assert LayerNormPage.view_named(name).caption.split(":")[0] in shown             # the view's sentence
    assert sorted(view_widgets(layout)) == sorted(LABELS[c] for c in VIEW_CONTROLS[name])
    # the controls in the row above the figure are the view's, in its order
    rows = [o for o in layout.objects if o.name == f"layer-norm-{name}-controls"]
    declared = LayerNormPage.view_named(name).controls
    assert len(rows) == (1 if declared else 0)
    if rows:
        in_row = [w.name for box in rows[0].objects for w in box.select(pn.widgets.Widget)]
        assert in_row == [LABELS[c] for c in declared]


def test_a_view_without_its_caption():
    layout = LayerNormPage().view("axes", caption=False)
    assert LayerNormPage.view_named("axes").caption.split(":")[0] not in texts(layout)


def test_axes_view_hides_the_slider_and_slot_of_the_method_not_chosen():
    pg, layout = built_view("axes")
    row = next(o for o in layout.objects if o.name == "layer-norm-axes-controls")
    slots = {box.objects[0].name: box for box in row.objects if isinstance(box.objects[0], pn.widgets.Widget)}
    feature, example = slots[LABELS["feature"]], slots[LABELS["example"]]
    assert (feature.visible, example.visible) == (False, True)
    view_widgets(layout)[LABELS["method"]].value = "batch"
    assert (feature.visible, example.visible) == (True, False)


def test_axes_view_figures_follow_its_controls():
    pg, layout = built_view("axes")
    w = view_widgets(layout)
    w[LABELS["example"]].value = 5
    assert list(pg.raw_box.data["y"]) == [5] and list(pg.norm_box.data["y"]) == [5]
    before = list(pg.norm_source.data["value"])
    w[LABELS["method"]].value = "batch"
    assert pg.state.method == "batch" and list(pg.raw_box.data["h"]) == [N_EXAMPLES]
    assert list(pg.norm_source.data["value"]) != before
    w[LABELS["feature"]].value = 9
    assert list(pg.raw_box.data["x"]) == [9] and "feature 9" in pg.table_text.object


def test_shrink_view_figures_follow_its_slider():
    pg, layout = built_view("shrink-batch")
    slider = view_widgets(layout)[LABELS["batch"]]
    bn, ln = list(pg.bn_source.data["y"]), list(pg.ln_source.data["y"])
    slider.value = 3
    assert pg.state.batch == 3 and list(pg.bn_source.data["y"]) != bn
    assert list(pg.ln_source.data["y"]) == ln
    slider.value = 1
    assert len(pg.bn_source.data["y"]) == 0 and pg.shrink_note.visible
    assert "on the right" not in pg.shrink_note.object        # in a view the charts may be stacked


def test_depth_view_figures_follow_its_sliders():
    pg, layout = built_view("depth")
    w = view_widgets(layout)
    w[LABELS["depth"]].value = 30
    assert len(pg.left.shown_layers) == 8 and pg.left.shown_layers[-1] == 29
    before = list(pg.left.sources["values"].data["right"])
    w[LABELS["gain"]].value = 0.5
    assert pg.state.gain == 0.5 and list(pg.left.sources["values"].data["right"]) != before
    plots = list(layout.get_root().select({"type": Plot}))
    assert pg.left.figure in plots and pg.spread.figure not in plots      # the spread chart is the page's


@pytest.mark.parametrize("name,settings", [
    ("axes", [dict(method="layer", example=1), dict(method="batch", feature=12)]),
    ("shrink-batch", [dict(batch=64), dict(batch=8), dict(batch=1)]),
])
def test_view_titles_fit_a_narrow_view(name, settings):
    """Bokeh titles do not wrap: at 320 px wide a chart has room for about 26 characters."""
    pg, layout = built_view(name)
    for s in settings:
        pg.state.param.update(**s)
        shown = [t for t in titles(layout) if t]
        assert len(shown) == 2 and all(len(t) <= 26 for t in shown), shown


def test_the_page_keeps_its_long_titles(built):
    built.state.batch = 8
    assert built.ln_fig.title.text == "Example 1 in a batch of 8: the same as ever"
    assert built.raw_fig.title.text == "The batch: 8 examples × 12 features"


# -- what the views' captions claim ---------------------------------------------------

def test_axes_caption_framed_group_and_unit_spread():
    """The frame is the column (batch norm) or row (layer norm) averaged; afterwards every
    column, or every row, has mean 0 and standard deviation 1."""
    pg, _ = built_view("axes")
    for method, param_name, n, axis in (("batch", "feature", N_FEATURES, 0), ("layer", "example", N_EXAMPLES, 1)):
        for i in range(1, n + 1):
            pg.state.param.update(method=method, **{param_name: i})
            framed = np.asarray(pg.raw_source.data["alpha"]).reshape(N_EXAMPLES, N_FEATURES) == 1
            rows, cols = np.indices(framed.shape)
            assert (framed == ((cols if method == "batch" else rows) == i - 1)).all()
            out = np.asarray(pg.norm_source.data["value"]).reshape(N_EXAMPLES, N_FEATURES)
            np.testing.assert_allclose(out.mean(axis=axis), 0, atol=1e-9)
            np.testing.assert_allclose(out.std(axis=axis), 1, atol=1e-4)    # up to the epsilon added


def test_shrink_caption_batch_norm_leaves_the_dashes_layer_norm_never_moves():
    pg, _ = built_view("shrink-batch", batch=POOL)
    ln = list(pg.ln_source.data["y"])
    np.testing.assert_allclose(pg.bn_source.data["y"], pg.bn_ref.data["y"])     # on the dashes at 64
    for b in range(POOL - 1, 0, -1):
        pg.state.batch = b
        assert list(pg.ln_source.data["y"]) == ln
        if b == 1:
            assert len(pg.bn_source.data["y"]) == 0
        else:
            assert not np.allclose(pg.bn_source.data["y"], pg.bn_ref.data["y"], atol=1e-3), b


@pytest.mark.parametrize("gain", [0.25, 0.5, 0.9, 0.95, 1.05, 1.1, 1.5, 3.0])
def test_depth_caption_grow_above_one_fade_below_layer_norm_at_one(gain):
    m = LayerNormState().model
    m.set_net(gain, "relu")
    plain, layer = m.columns(("plain", "layer"), MAX_DEPTH)
    growth = plain.std[-1] / plain.std[0]
    assert growth > 1 if gain > 1 else growth < 1
    if abs(gain - 1) >= 0.1:
        assert growth > 10 if gain > 1 else growth < 0.1
    np.testing.assert_allclose(layer.std, 1, atol=1e-3)


def test_depth_view_rows_read_std_1_with_layer_norm():
    pg, _ = built_view("depth")
    for depth, gain in ((1, 1.5), (10, 0.25), (60, 3.0)):
        pg.state.param.update(depth=depth, gain=gain)
        assert pg.right.shown_layers and all(pg.right.row_text[i][1] == "std 1" for i in pg.right.shown_layers)
