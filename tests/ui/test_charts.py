import numpy as np
import pytest

from deeptricks.ui import CurveChart, LayerLineChart, theme
from deeptricks.ui.charts import CLAMPED_HIGH, FLOORED, NONFINITE, OK

from ui_checks import assert_source_finite


def finite_range(r):
    return np.isfinite([r.start, r.end]).all() and r.end > r.start


def test_layer_chart_linear(rng):
    c = LayerLineChart(("plain", "residual"), name="lc", title="std", y_label="std")
    fig, srcs = c.figure, dict(c.sources)
    for _ in range(3):
        c.update({"plain": rng.normal(size=8), "residual": rng.normal(size=8)})
    assert c.figure is fig and all(c.sources[s] is srcs[s] for s in srcs)
    d = c.sources["plain"].data
    assert list(d["x"]) == list(range(1, 9))
    assert d["marker"] == [OK] * 8
    assert c.figure.x_range.start == 0.5 and c.figure.x_range.end == 8.5
    assert finite_range(c.figure.y_range) and c.flags == []
    ys = np.concatenate([c.sources[s].data["y"] for s in srcs])
    assert c.figure.y_range.start < ys.min() and c.figure.y_range.end > ys.max()
    assert {r.name for r in fig.renderers} >= {"lc-plain-line", "lc-plain-points", "lc-residual-line"}
    assert c.legend is not None and [i.label["value"] for i in c.legend.items] == ["plain", "residual"]
    assert c.lines["plain"].glyph.line_color == theme.PLAIN


def test_layer_chart_log_floors_non_positive():
    c = LayerLineChart(("plain", "residual"), log_y=True)
    c.update({"plain": [1.0, 1e-3, 0.0, -2.0, np.nan, np.inf], "residual": [1.0] * 6})
    d = c.sources["plain"].data
    y = np.asarray(d["y"])
    assert np.all(y > 0) and np.isfinite(y).all()
    assert d["marker"][:4] == [OK, OK, FLOORED, FLOORED]
    assert d["marker"][4:] == [NONFINITE, NONFINITE]
    assert y[2] == y[3] == c.floor_used < 1e-3
    assert d["text"][2:5] == ["0", "-2", "nan"]
    assert c.figure.y_range.start > 0 and finite_range(c.figure.y_range)
    assert any("drawn at" in f for f in c.flags) and c._caption.visible
    c.update({"plain": [1.0, 2.0], "residual": [3.0, 4.0]})
    assert c.flags == [] and not c._caption.visible


def test_the_flag_caption_is_made_only_when_a_chart_first_flags_something():
    c = LayerLineChart(("a",), log_y=True)
    c.update({"a": [1.0, 2.0]})
    assert c._caption_pane is None and list(c._layout) == [c.pane]     # nothing to say: no pane
    c.update({"a": [1.0, 0.0]})
    assert c._caption_pane is not None and list(c._layout) == [c.pane, c._caption_pane]
    assert c._caption.visible and "drawn at" in c._caption.object
    c.update({"a": [1.0, 2.0]})
    assert not c._caption.visible and len(c._layout) == 2                # then hidden, not removed


def test_log_floor_caps_decades_and_fixed_floor():
    c = LayerLineChart("g", log_y=True, max_decades=10)
    c.update({"g": [1.0, 1e-40]})
    assert c.floor_used == pytest.approx(1e-10)
    assert c.sources["g"].data["marker"] == [OK, FLOORED]
    c2 = LayerLineChart("g", log_y=True, log_floor=1e-6)
    c2.update({"g": [0.0, 0.0]})  # nothing positive at all
    assert list(c2.sources["g"].data["y"]) == [1e-6, 1e-6] and finite_range(c2.figure.y_range)


@pytest.mark.parametrize("vals", [
    [], [0.0, 0.0], [np.nan, np.nan], [1e30, -1e30], [1e308, -1e308, np.inf], [5.0],
])
@pytest.mark.parametrize("log", [False, True])
def test_layer_chart_extremes(vals, log):
    c = LayerLineChart(("a", "b"), log_y=log)
    c.update({"a": vals, "b": vals[::-1]})
    for s in c.sources.values():
        assert_source_finite(s)
    assert finite_range(c.figure.x_range) and finite_range(c.figure.y_range)
    if log:
        assert c.figure.y_range.start > 0


def test_fixed_y_range_clamps():
    c = LayerLineChart("acc", y_range=(0, 1))
    c.update({"acc": [0.5, 1.5, -1.0]})
    d = c.sources["acc"].data
    assert list(d["y"]) == [0.5, 1.0, 0.0]
    assert d["marker"][1] == CLAMPED_HIGH
    assert (c.figure.y_range.start, c.figure.y_range.end) == (0, 1)
    with pytest.raises(ValueError):
        LayerLineChart("x", log_y=True, y_range=(0, 1))


def test_custom_x_and_plain_list():
    c = LayerLineChart("v")
    c.update([3.0, 4.0], x=[0, 10])
    assert list(c.sources["v"].data["x"]) == [0, 10] and c.legend is None


def test_curve_stream_and_replace():
    c = CurveChart(("train", "test"), name="cc")
    src = c.sources["train"]
    for step in range(5):
        c.stream(step, {"train": 1.0 / (step + 1), "test": 2.0 / (step + 1), "other": 1.0})
    assert c.sources["train"] is src and len(src.data["x"]) == 5
    assert c.figure.x_range.end == 4 and c.figure.y_range.end >= 2.0
    c.stream(5, {"train": np.nan, "test": 0.1})
    assert len(src.data["x"]) == 5 and len(c.sources["test"].data["x"]) == 6
    assert c.flags == ["train: inf/nan from step 5 on (not drawn)"]
    c.replace({"train": (np.arange(3), [3.0, np.inf, 1.0])})
    assert list(src.data["x"]) == [0.0, 2.0] and len(c.sources["test"].data["x"]) == 0
    assert "step 1" in c.flags[0]
    c.clear()
    assert c.flags == [] and len(src.data["x"]) == 0
    for s in c.sources.values():
        assert_source_finite(s)


def test_curve_log_and_rollover():
    c = CurveChart("loss", log_y=True, log_floor=1e-6, rollover=3)
    for step, v in enumerate([1.0, 0.0, 1e-9, 0.5]):
        c.stream(step, {"loss": v})
    d = c.sources["loss"].data
    assert len(d["x"]) == 3 and min(d["y"]) == 1e-6
    assert "2 values" in c.flags[0]
    assert c.figure.y_range.start > 0 and finite_range(c.figure.y_range)


def test_an_empty_chart_says_why():
    c = CurveChart(("loss",), empty_text="No points yet.")
    c.replace({})
    assert c.empty_note.visible and c.empty_note.text == "No points yet."
    c.stream(1, {"loss": 0.5})
    assert not c.empty_note.visible
    c.clear()
    assert c.empty_note.visible
    quiet = LayerLineChart(("a",))
    quiet.update({"a": []})
    assert not quiet.empty_note.visible          # no text given: nothing to show


def test_steady_layout_keeps_the_caption_line_and_the_axis_width():
    c = LayerLineChart(("a",), log_y=True).steady_layout(left_px=70)
    assert c.figure.min_border_left == 70
    c.update({"a": [1.0, 0.1, 0.01]})
    assert c.flags == [] and c._caption.visible and "visibility: hidden" in c._caption.object
    c.update({"a": [1.0, 0.0, 0.01]})                    # a zero cannot go on a log axis: flagged
    assert c.flags and c._caption.visible and "visibility: hidden" not in c._caption.object
    c.update({"a": [1.0, 0.1, 0.01]})
    assert c.flags == [] and c._caption.visible and "visibility: hidden" in c._caption.object


def test_a_charts_renderers_share_their_stateless_models_and_derive_unused_glyphs():
    from bokeh.models import GlyphRenderer

    c = CurveChart(("a", "b", "c"), name="share-test")
    rends = [r for r in c.figure.renderers if isinstance(r, GlyphRenderer)]
    assert len(rends) == 3
    assert all(r.nonselection_glyph == "auto" and r.muted_glyph == "auto" for r in rends)
    assert len({id(r.view.filter) for r in rends}) == 1               # one AllIndices
    assert len({id(r.data_source.selection_policy) for r in rends}) == 1
    assert len({id(r.data_source.selected) for r in rends}) == 3      # selections stay per source
    c.replace({"a": ([0, 1], [1.0, 2.0]), "b": ([0, 1], [3.0, 4.0])})
    assert list(c.sources["a"].data["y"]) == [1.0, 2.0] and list(c.sources["c"].data["y"]) == []


def test_legend_lists_only_series_that_have_points():
    """Bokeh draws no colour swatch for a series without data, so the legend leaves such a
    series out until its first point (a bare label would match nothing on the plot)."""
    c = CurveChart(("train", "test", "B train"), name="cc", title="loss", empty_text="No points yet.")
    entries = lambda: [i.label["value"] for i in c.legend.items if i.visible]  # noqa: E731
    assert entries() == [] and c.empty_note.visible
    c.stream(0, {"train": 1.0})
    assert entries() == ["train"] and not c.empty_note.visible
    c.stream(1, {"train": 0.9, "test": 1.1, "B train": 0.8})
    assert entries() == ["train", "test", "B train"]
    c.list_in_legend("B train", False)            # a series the page hides keeps no entry...
    assert entries() == ["train", "test"]
    c.stream(2, {"B train": 0.7})
    assert entries() == ["train", "test"]
    c.list_in_legend("B train", True)             # ...until it is shown again
    assert entries() == ["train", "test", "B train"]
    c.clear()
    assert entries() == [] and c.empty_note.visible
    layer = LayerLineChart(("plain", "residual"), name="lc")
    assert [i.visible for i in layer.legend.items] == [False, False]
    layer.update({"plain": [1.0, 2.0], "residual": [1.0, 1.0]})
    assert [i.visible for i in layer.legend.items] == [True, True]
