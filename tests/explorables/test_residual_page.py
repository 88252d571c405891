"""The residual page without a browser: state changes reach the plots' data sources; each view
builds alone, shows only its controls, and its caption holds on the model."""

import math

import numpy as np
import pytest
from bokeh.models import ColumnDataSource
from panel.io.location import Location

from deeptricks.explorables.residual import URL_PARAMS, ResidualPage, ResidualState, _log_ticks, page
from deeptricks.explorables.residual_model import RUN_NAMES, TRAIN_STEPS
from deeptricks.ui import URLSync, coerce_query


@pytest.fixture
def built():
    pg = ResidualPage()
    pg.layout()
    return pg


def _y(chart, series):
    return np.asarray(chart.sources[series].data["y"], float)


def _all_sources(pg):
    charts = (pg.grad_chart, pg.paths_chart, pg.change_chart, pg.train_chart)
    return [s for c in charts for s in c.sources.values()] + [pg.grad_yours, pg.change_yours]


def test_page_builds_with_named_sources():
    layout = page(ResidualState())
    names = {m.name for m in layout.get_root().select({"type": ColumnDataSource})}
    for name in ("residual-grad-plain-source", "residual-grad-residual-source", "residual-grad-yours-source",
                 "residual-paths-shortcut-source", "residual-paths-block-source",
                 "residual-change-plain-source", "residual-change-residual-source",
                 "residual-change-yours-source", "residual-train-deep-plain-source"):
        assert name in names


def test_default_view_shows_vanishing_plain_gradient(built):
    plain, res = _y(built.grad_chart, "plain"), _y(built.grad_chart, "residual")
    assert plain.size == res.size == 50
    assert plain[0] < 1e-3 * plain[-1]
    assert res[-1] / 10 < res[0] < 10 * res[-1]
    np.testing.assert_allclose(built.grad_yours.data["y"], res)     # the band follows the residual net
    assert "plain" in built.grad_text.object and "1.6e-25" in built.grad_text.object


def test_depth_change_updates_sources_in_place(built):
    figs = [c.figure for c in (built.grad_chart, built.paths_chart, built.change_chart, built.train_chart)]
    sources = _all_sources(built)
    built.state.depth = 80
    assert [c.figure for c in (built.grad_chart, built.paths_chart, built.change_chart,
                               built.train_chart)] == figs
    assert _all_sources(built) == sources
    assert len(built.grad_chart.sources["plain"].data["y"]) == 80
    assert built.grad_chart.figure.x_range.end == pytest.approx(80.5)


def test_residual_switch_moves_your_net_without_recomputing(built):
    views = built.state.views()
    built.state.residual = False
    assert built.state.views() is views                               # cached: nothing recomputed
    np.testing.assert_allclose(built.grad_yours.data["y"], _y(built.grad_chart, "plain"))
    assert len(built.paths_chart.sources["shortcut"].data["y"]) == 0  # a plain block has no shortcut
    np.testing.assert_allclose(_y(built.paths_chart, "block"), _y(built.grad_chart, "plain"))
    assert "Your net is plain" in built.paths_text.object
    built.state.residual = True
    assert len(built.paths_chart.sources["shortcut"].data["y"]) == 50
    assert (_y(built.paths_chart, "block") < _y(built.paths_chart, "shortcut")).all()


def test_small_block_weights_make_blocks_identities(built):
    built.state.param.update(activation="tanh", gain=0.01)
    assert _y(built.change_chart, "residual").max() < 0.02
    assert _y(built.change_chart, "plain").min() > 0.5
    assert not built.sigmoid_note.visible
    built.state.activation = "sigmoid"
    assert built.sigmoid_note.visible


def test_gain_slider_is_logarithmic_and_linked(built):
    built.gain_slider.value = -1.0
    assert built.state.gain == pytest.approx(0.1)
    built.gain_slider.value = math.log10(2.0)
    assert built.state.gain == pytest.approx(2.0)
    built.state.gain = 0.3
    assert built.gain_slider.value == pytest.approx(math.log10(0.3))
    assert built.state.gain == 0.3                                   # not rounded away


@pytest.mark.parametrize("settings", [
    dict(depth=100, activation="sigmoid", gain=0.01),
    dict(depth=100, activation="relu", norm="none", gain=2.0),
    dict(depth=100, activation="relu", norm="batch", gain=2.0),
    dict(depth=1),
])
def test_no_nonfinite_values_reach_a_source(built, settings):
    built.state.param.update(**settings)
    for src in _all_sources(built):
        for key, col in src.data.items():
            arr = np.asarray(col)
            if arr.dtype.kind == "f":
                assert np.isfinite(arr).all(), (src.name, key)
    ys = _y(built.grad_chart, "plain")
    assert (ys > 0).all()                                             # drawable on the log axis


def test_exploding_residual_sum_is_labelled(built):
    built.state.param.update(depth=100, activation="relu", norm="none", gain=2.0)
    assert built.growth_note.visible and "grew" in built.growth_note.object
    built.state.norm = "layer"
    assert "residual net's signal" not in built.growth_note.object


def test_log_ticks_label_short_ranges():
    assert _log_ticks(0.02, 1.3) == [0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    many = _log_ticks(1e-250, 10)
    assert 3 <= len(many) <= 9 and all(t > 0 for t in many)


def test_training_runs_to_completion_and_is_kept_per_setting(built):
    built.state.depth = 6          # a quick comparison: 3, 6 and 6 blocks
    assert all(len(s.data["x"]) == 0 for s in built.train_chart.sources.values())
    built.run_training()
    for name in RUN_NAMES:
        xs = built.train_chart.sources[name].data["x"]
        assert xs[0] == 0 and xs[-1] == TRAIN_STEPS
    assert f"After {TRAIN_STEPS} steps" in built.train_status.object
    assert built.train_button.disabled                               # nothing more to run here
    fig = built.train_chart.figure
    built.state.activation = "tanh"                                   # another setting: empty again
    assert all(len(s.data["x"]) == 0 for s in built.train_chart.sources.values())
    assert "Not run yet" in built.train_status.object and not built.train_button.disabled
    built.state.activation = "sigmoid"                                # back: the kept run reappears
    assert built.train_chart.sources["deep residual"].data["x"][-1] == TRAIN_STEPS
    assert built.train_chart.figure is fig


def test_training_ticks_stream_the_curves(built):
    built.state.depth = 4
    built.active_run = None
    from deeptricks.explorables.residual_model import TrainingComparison
    run = TrainingComparison(*built.state.training_key())
    built.runs[built.state.training_key()] = run
    built.active_run = run
    built._train_tick(budget=0.0)                                      # one chunk
    n1 = len(built.train_chart.sources["deep plain"].data["x"])
    assert 1 < n1 < TRAIN_STEPS // 5 + 1 and "Training" in built.train_status.object
    while built.active_run is not None:
        built._train_tick(budget=0.0)
    assert run.done and f"After {TRAIN_STEPS} steps" in built.train_status.object


def test_url_sets_the_state_and_follows_it():
    state = ResidualState()
    loc = Location(search="?depth=80&residual=false&norm=layer&activation=tanh&scale=0.05")
    sync = URLSync(state, URL_PARAMS, location=loc)
    assert (state.depth, state.residual, state.norm, state.activation, state.gain) == (80, False, "layer",
                                                                                       "tanh", 0.05)
    assert not sync.notes
    state.depth = 30
    assert "depth=30" in loc.search and "scale=0.05" in loc.search


@pytest.mark.parametrize("query,expected,noted", [
    ({"depth": ["80"], "residual": ["false"]}, {"depth": 80, "residual": False}, False),
    ({"depth": ["500"]}, {"depth": 100}, True),
    ({"scale": ["0"]}, {"gain": 0.01}, True),
    ({"norm": ["group"], "activation": ["gelu"], "depth": ["2.5"]}, {"depth": 2}, True),
    ({"residual": ["maybe"]}, {}, True),
])
def test_url_query_is_clamped_or_ignored_with_a_note(query, expected, noted):
    values, notes = coerce_query(ResidualState(), query, URL_PARAMS)
    assert values == pytest.approx(expected) if expected else values == {}
    assert bool(notes) == noted


# -- the views: each section alone ------------------------------------------------------------

VIEW_NAMES = ("gradients", "plus-one", "identity", "training")


def _view(name, state=None):
    pg = ResidualPage(state)
    return pg, pg.view(name)


def _view_controls(col, name):
    """The widget in each cell of the view's control box, in order (one per cell)."""
    import panel as pn

    box = next(o for o in col.objects if o.name == f"residual-{name}-controls")
    cells = [list(cell.select(pn.widgets.Widget)) for cell in box.objects]
    assert all(len(ws) == 1 for ws in cells), cells
    return [ws[0] for ws in cells]


def _nudge(widget) -> None:
    """Move a control to another of its values."""
    import panel as pn

    if isinstance(widget, pn.widgets.IntSlider):
        widget.value = 30 if widget.value != 30 else 40
    elif isinstance(widget, pn.widgets.FloatSlider):          # the block-weight scale, on a log scale
        widget.value = -1.0 if abs(widget.value + 1.0) > 1e-9 else 0.0
    else:
        opts = widget.options
        values = list(opts.values()) if isinstance(opts, dict) else list(opts)
        widget.value = next(v for v in values if v != widget.value)


def _state_values(state):
    return {p: getattr(state, p) for p in URL_PARAMS}


def _figure_data(chart):
    return [np.asarray(src.data["y"], float).tolist() for src in chart.sources.values()]


def test_the_views_are_registered_in_page_order():
    from deeptricks.explorables.registry import by_slug

    views = by_slug("residual").views()
    assert tuple(v.name for v in views) == VIEW_NAMES
    assert [v.first_screen for v in views] == [True, False, False, False]     # the page's first screen
    for v in views:
        assert v.summary and "\n" not in v.summary
        assert v.caption.endswith(".") and ". " not in v.caption                 # one sentence


@pytest.mark.parametrize("name", VIEW_NAMES)
def test_each_view_builds_alone_with_its_controls_and_no_page_around_it(name):
    from deeptricks.explorables.residual import INTRO, view
    from page_checks import visible_text

    col = view(name)                                           # outside a server
    root = col.get_root()
    names = {m.name for m in root.references() if getattr(m, "name", None)}
    assert not names & {"residual-header", "residual-footer", "residual-controls", "residual-later"}
    v = ResidualPage.view_named(name)
    text = visible_text(root)
    assert v.title not in text and INTRO[:40] not in text      # no section title, no introduction
    assert v.caption.split(":")[0] in text                     # the view's own sentence instead
    assert "Open the full" not in text                         # no link outside a server

    # exactly the named controls, in order, each once: moving each one sets its own setting
    pg, col = _view(name)
    widgets = _view_controls(col, name)
    moved = []
    for w in widgets:
        before = _state_values(pg.state)
        _nudge(w)
        after = _state_values(pg.state)
        moved += [p for p in after if after[p] != before[p]]
    assert tuple(moved) == v.controls


@pytest.mark.parametrize("name,chart", [("gradients", "grad_chart"), ("plus-one", "paths_chart"),
                                        ("identity", "change_chart")])
def test_each_views_figure_responds_to_each_of_its_controls(name, chart):
    pg, col = _view(name)
    chart = getattr(pg, chart)
    for w, param_name in zip(_view_controls(col, name), ResidualPage.view_named(name).controls):
        before = _figure_data(chart)
        _nudge(w)
        assert _figure_data(chart) != before, param_name


def test_the_training_views_figure_responds_to_each_of_its_controls_and_its_button():
    import panel as pn

    pg, col = _view("training", ResidualState(depth=4))
    buttons = [b for b in col.select(pn.widgets.Button) if b.label.startswith("Run training")]
    assert buttons == [pg.train_button]                        # the run button is in the view
    buttons[0].clicks += 1                                     # outside a server: trains to the end
    assert pg.train_chart.sources["deep residual"].data["x"][-1] == TRAIN_STEPS
    key = pg.state.training_key()
    for w, param_name in zip(_view_controls(col, "training"), ResidualPage.view_named("training").controls):
        _nudge(w)                                              # another setting: not run yet
        assert all(len(s.data["x"]) == 0 for s in pg.train_chart.sources.values()), param_name
        assert "Not run yet" in pg.train_status.object
        pg.state.param.update(**dict(zip(("depth", "norm", "activation", "gain"), key)))
        assert len(pg.train_chart.sources["deep residual"].data["x"]) > 0    # the kept run is back


def test_a_view_leaves_out_the_your_net_band_and_fits_its_texts():
    pg, _ = _view("gradients")
    for chart, band in ((pg.grad_chart, pg.grad_yours), (pg.change_chart, pg.change_yours)):
        assert not band.tags[0].visible
        assert all(band.tags[0] not in item.renderers for item in chart.legend.items)
    full = ResidualPage()
    full.layout()
    assert full.grad_yours.tags[0].visible                     # the page keeps it
    pg, _ = _view("plus-one", ResidualState(residual=False))
    assert "Your net is plain" in pg.paths_text.object and "above" not in pg.paths_text.object
    assert "blue line above" in ResidualPage(ResidualState(residual=False)).paths_text.object


# -- what each view's caption claims -------------------------------------------------------

def test_gradients_caption_the_plain_gradient_shrinks_at_every_block_the_residual_stays_near_1():
    pg, _ = _view("gradients")
    plain, res = _y(pg.grad_chart, "plain"), _y(pg.grad_chart, "residual")
    assert (pg.state.activation, pg.state.norm) == ("sigmoid", "none")
    assert (np.diff(plain) > 0).all()                           # smaller at every block further down
    assert plain[0] < 1e-20
    assert (0.5 < res).all() and (res < 2).all()                # near 1 all the way down


def test_plus_one_caption_block_term_below_shortcut_so_the_plus_one_carries_the_gradient():
    from deeptricks.ui import theme

    pg, _ = _view("plus-one")
    shortcut, block = _y(pg.paths_chart, "shortcut"), _y(pg.paths_chart, "block")
    assert pg.paths_chart.lines["shortcut"].glyph.line_color == theme.GREEN
    assert pg.paths_chart.lines["block"].glyph.line_color == theme.PURPLE
    assert (block < shortcut).all()
    # where it does, the gradient reaching each block's input is the shortcut term's, give or take 5%
    grad_in = _y(pg.grad_chart, "residual")
    np.testing.assert_allclose(grad_in, shortcut, rtol=0.05)


def test_identity_caption_small_weights_make_residual_blocks_identities_not_plain_ones():
    pg, col = _view("identity")
    assert pg.state.activation == "tanh"                        # the view opens where shrinking works
    start = _y(pg.change_chart, "residual").mean()
    scale = next(w for w in _view_controls(col, "identity") if w is pg.gain_slider)
    scale.value = math.log10(0.01)                              # the slider's far left
    assert pg.state.gain == pytest.approx(0.01)
    res, plain = _y(pg.change_chart, "residual"), _y(pg.change_chart, "plain")
    assert res.max() < 0.02 and res.mean() < start / 10         # the residual blocks pass x on
    assert plain.min() > 0.5                                    # each plain block still replaces it


@pytest.mark.slow
def test_training_caption_deep_plain_stays_at_a_coin_toss_residual_as_low_as_shallow():
    import panel as pn

    pg, col = _view("training")
    assert pg.state.training_key() == (50, "none", "sigmoid", 1.0)     # the start settings
    next(b for b in col.select(pn.widgets.Button) if b is pg.train_button).clicks += 1
    run = pg.runs[pg.state.training_key()]
    _, plain = run.curves["deep plain"]
    assert all(abs(v - math.log(2)) < 0.02 for v in plain[len(plain) // 4:])   # stays near 0.69
    assert run.final_loss("deep residual") <= run.final_loss("shallow plain") + 0.02
