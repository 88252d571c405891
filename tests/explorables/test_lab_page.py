"""The lab page without a browser: buttons drive the session, ticks stream into the plots'
sources in place, settings rebuild cleanly, presets and links load, nothing non-finite is drawn.

Outside a server there is no periodic callback: the tests call ``_tick`` themselves."""

import numbers
import urllib.parse

import numpy as np
import param
import pytest

from deeptricks.explorables.lab import URL_PARAMS, LabPage, LabState
from deeptricks.explorables.lab_model import PRESETS


class FakeLocation(param.Parameterized):
    search = param.String(default="")


@pytest.fixture
def built():
    pg = LabPage(LabState(depth=3, width=8, n_train=64))
    pg.layout()
    return pg


def n_points(chart, series):
    return len(chart.sources[series].data["x"])


def image(pg, i=0):
    return np.array(pg.boundaries[i].image_source.data["image"][0])


def all_sources(pg):
    srcs = [b.image_source for b in pg.boundaries] + [b.train_source for b in pg.boundaries]
    for chart in [pg.loss, pg.acc, *pg.pct, *pg.grad, pg.grad_now, pg.lesion]:
        srcs += list(chart.sources.values())
    for grid in pg.hists:
        srcs += [*grid.sources.values(), grid.label_source]
    return srcs


def assert_finite(pg):
    for src in all_sources(pg):
        for key, col in src.data.items():
            for v in col:
                arr = np.asarray(v)
                if arr.dtype.kind in "fiu":
                    assert np.isfinite(arr).all(), (src.name, key)
                elif isinstance(v, numbers.Number):
                    assert np.isfinite(v), (src.name, key)


def test_start_streams_curves_and_changes_the_boundary(built):
    pg = built
    src, fig = pg.loss.sources["train"], pg.boundaries[0].figure
    before = image(pg)
    assert n_points(pg.loss, "train") == 1                # the untrained net, at step 0
    assert "ready" in pg.status.object and not pg.start_button.disabled and pg.pause_button.disabled
    pg.start()                                            # trains a first batch and draws at once
    assert pg.session.running and pg.session.step_count > 0
    for _ in range(3):
        pg._tick()
    assert pg.loss.sources["train"] is src and pg.boundaries[0].figure is fig
    assert n_points(pg.loss, "train") == 1 + pg.session.step_count // 10
    assert not np.allclose(image(pg), before)
    assert "training" in pg.status.object and pg.start_button.disabled and not pg.pause_button.disabled
    assert n_points(pg.pct[0], "50th") == pg.session.step_count // 10
    assert f"step {pg.session.step_count:,}" in fig.title.text
    assert_finite(pg)


def test_pause_step_reset(built):
    pg = built
    pg.start()
    pg._tick()
    pg.pause()
    n = pg.session.step_count
    pg._tick()                                            # a stray tick after pausing does nothing
    assert pg.session.step_count == n and "paused" in pg.status.object
    assert "with every block" in pg.lesion_text.object
    pg.step()
    assert pg.session.step_count == n + 1 and f"Step {n + 1:,}" in pg.status.object
    pg.reset()
    assert pg.session.step_count == 0 and "ready" in pg.status.object
    assert n_points(pg.loss, "train") == 1 and n_points(pg.pct[0], "50th") == 0


def test_changing_the_architecture_mid_training_rebuilds_and_keeps_running(built):
    pg = built
    pg.start()
    pg._tick()
    pg.state.depth = 5
    assert pg.session.running and pg.session.step_count == 0
    assert len(pg.session.runs[0].net.blocks) == 5
    assert n_points(pg.loss, "train") == 1
    pg._tick()
    assert pg.session.step_count > 0
    assert "5×8" in pg.boundary_titles[0].object
    pg.state.dataset = "circles"
    assert pg.session.runs[0].data.name == "circles" and pg.session.step_count == 0
    np.testing.assert_array_equal(pg.boundaries[0].train_source.data["x"],
                                  pg.session.runs[0].data.X_train[:, 0])


def test_compare_mode_shows_b_and_overlays_the_curves(built):
    pg = built
    assert len(pg.boundary_halves) == 1 and not pg.loss.lines["B train"].visible   # B's views: not yet built
    assert len(pg.pct_pair) == len(pg.grad_pair) == len(pg.hist_area) == 1
    pg.state.param.update(compare=True, b_norm="layer", b_depth=4)
    assert len(pg.pct_pair) == len(pg.grad_pair) == len(pg.hist_area) == 2
    ses = pg.session
    assert ses.compare and ses.runs[1].config.norm == "layer" and ses.runs[1].config.depth == 4
    assert pg.boundary_halves[1].visible and pg.loss.lines["B train"].visible
    labels = [item.label["value"] for item in pg.loss.legend.items]
    assert labels == ["A train", "A test", "B train", "B test"]
    assert pg.loss.lines["B test"].glyph.line_dash == [6] or pg.loss.lines["B test"].glyph.line_dash
    pg.start()
    pg._tick()
    assert n_points(pg.loss, "B train") == n_points(pg.loss, "train") > 1
    pg.pause()
    assert len(pg.lesion.sources["B"].data["x"]) == 4 and len(pg.lesion.sources["A"].data["x"]) == 3
    assert pg.hists[1].__panel__().visible and not pg.hists[0].__panel__().visible
    pg.state.compare = False
    assert not pg.session.compare and not pg.boundary_halves[1].visible
    assert pg.hists[0].__panel__().visible and not pg.hists[1].__panel__().visible


def test_divergence_stops_with_a_visible_message_and_finite_sources(built):
    pg = built
    pg.state.param.update(norm="none", optimizer="sgd", lr=5.0, gain=3.0, batch_size=64)
    pg.start()
    for _ in range(30):
        if not pg.session.running:
            break
        pg._tick()
    assert pg.session.status == "stopped"
    assert pg.stop_note.visible and "NaN or infinite" in pg.stop_note.object
    assert "stopped" in pg.status.object and pg.start_button.disabled
    assert_finite(pg)
    pg.reset()
    assert not pg.stop_note.visible


def test_choosing_the_layer_redraws_the_percentiles_from_history(built):
    pg = built
    pg.start()
    for _ in range(3):
        pg._tick()
    pg.pause()
    pg.state.layer = 3
    pts = pg.session.runs[0].stat_points()
    expected = [p.percentiles[2][1] for p in pts]
    np.testing.assert_allclose(pg.pct[0].sources["50th"].data["y"], expected)
    assert "Block 3" in pg.pct[0].figure.title.text
    pg.state.depth = 2                                     # the chosen layer no longer exists: clamped
    assert pg.state.layer == 2


def test_a_preset_loads_its_settings_and_caption():
    pg = LabPage()
    pg.layout()
    pg.state.preset = "degradation"
    s, p = pg.state, PRESETS["degradation"]
    a, b = p.configs()
    assert pg.session.config_a == a and pg.session.config_b == b
    assert pg.preset_box.visible and p.title in pg.preset_box.object
    assert not pg.restore_button.visible
    s.b_residual = True
    assert "B: residual connections" in pg.preset_box.object and pg.restore_button.visible
    pg.restore_button.clicks += 1
    assert s.b_residual is False and not pg.restore_button.visible
    s.preset = "none"
    assert not pg.preset_box.visible


def test_a_link_opens_a_preset_and_explicit_values_win():
    loc = FakeLocation(search="?preset=ensemble&lr=0.01&depth=400&act=banana")
    pg = LabPage()
    pg.layout(location=loc)
    s = pg.state
    assert s.preset == "ensemble" and s.compare and s.b_residual
    assert s.lr == 0.01 and s.depth == 50                  # explicit value, and a clamped one
    assert s.activation == "relu"
    assert pg.url.alert.visible and "act" in pg.url.alert.object
    query = urllib.parse.parse_qs(loc.search.lstrip("?"))
    assert query["preset"] == ["ensemble"] and query["depth"] == ["50"] and query["b_res"] == ["true"]
    assert set(URL_PARAMS.values()) <= set(query)
    s.width = 64
    assert urllib.parse.parse_qs(loc.search.lstrip("?"))["width"] == ["64"]


@pytest.mark.slow
def test_every_preset_builds_a_page_and_takes_a_tick():
    for key in PRESETS:
        pg = LabPage()
        pg.layout()
        pg.state.preset = key
        pg.start()
        assert pg.session.step_count > 0, key
        pg.pause()
        assert_finite(pg)


def test_ticks_train_on_while_the_browser_draws_and_the_next_update_sends_every_point(built):
    pg = built
    pg.pacer.get_root()                     # as if on a page in a browser that has not answered
    pg.start()                              # the first update goes out at once
    sent, points = pg.pacer.seq, n_points(pg.loss, "train")
    steps = pg.session.step_count
    for _ in range(3):
        pg._tick()
    assert pg.session.step_count > steps                  # training went on
    assert pg.pacer.seq == sent and n_points(pg.loss, "train") == points   # nothing more was sent
    pg.pacer._handle_msg({"drawn": sent})                 # the browser has drawn it
    pg._tick()
    assert pg.pacer.seq == sent + 1
    assert n_points(pg.loss, "train") == 1 + pg.session.step_count // 10   # every point, none lost


def test_the_variance_shift_readout_follows_the_placement_of_dropout():
    """A link to the variance-shift preset with a short run: after pausing, the chart has A's
    shift per batch-norm block and B's, and the sentence quotes the largest and the accuracy."""
    loc = FakeLocation(search="?preset=variance-shift&depth=3&b_depth=3&width=16&n=60")
    pg = LabPage()
    pg.layout(location=loc)
    s = pg.state
    assert (s.dropout_at, s.b_dropout_at, s.compare) == ("every", "last", True)
    assert urllib.parse.parse_qs(loc.search.lstrip("?"))["b_drop_at"] == ["last"]
    pg.pause()
    assert len(pg.shift.sources["A"].data["y"]) == 0 and "once the nets have trained" in pg.shift_text.object
    pg.session.run(150)
    pg.pause()
    a, b = (np.asarray(pg.shift.sources[k].data["y"]) for k in "AB")
    assert len(a) == len(b) == 3
    assert a[1] > 1.9 and a[2] > 1.9                        # dropout 0.5 before blocks 2 and 3
    assert np.all(b < 1.2)                                 # B drops only after the last batch norm
    text = pg.shift_text.object
    assert "At step 150." in text and "largest shift" in text and "test accuracy" in text
    s.b_norm = "none"                                      # B without batch norm: nothing to measure
    pg.session.run(20)
    pg.pause()
    assert len(pg.shift.sources["B"].data["y"]) == 0 and "no batch norm" in pg.shift_text.object


def test_the_sweep_trains_net_a_at_each_fraction_and_draws_both_curves(monkeypatch):
    import functools

    from deeptricks.explorables import lab
    monkeypatch.setattr(lab, "CorruptionSweep", functools.partial(lab.CorruptionSweep, steps=60))
    pg = LabPage(LabState(depth=2, width=32, n_train=60))
    pg.layout()
    assert len(pg.sweep_acc.sources["train"].data["x"]) == 0 and pg.sweep_acc.empty_note.visible
    pg.sweep_button.clicks += 1                     # outside a server the sweep runs to the end
    xs = list(pg.sweep_acc.sources["train"].data["x"])
    assert xs == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    test = np.asarray(pg.sweep_acc.sources["test"].data["y"])
    assert test[0] > test[-1] + 0.2                    # true labels against random ones
    assert len(pg.sweep_steps.sources["steps to fit"].data["x"]) == 6
    text = pg.sweep_text.object
    assert "The sweep is done." in text and "60 steps each" in text and "at fraction 0," in text
