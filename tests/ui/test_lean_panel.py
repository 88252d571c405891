"""deeptricks.ui.lean_panel: a pane's wrapping Row is made when first asked for, and is then the
same as Panel's."""

import collections
import gc
import html
import re
import tracemalloc

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.plotting import figure

from deeptricks.ui import lean_panel


@pytest.fixture(params=["lean", "panel"])
def mode(request):
    """Every behaviour below holds with lazy layouts and with Panel's own."""
    if request.param == "panel":
        lean_panel.uninstall()
    else:
        assert lean_panel.install()
    yield request.param
    lean_panel.install()


def test_on_after_importing_the_ui_package():
    assert lean_panel.installed()


def test_a_pane_shown_in_a_column_never_makes_its_layout():
    panes = [pn.pane.HTML("a"), pn.pane.Markdown("*b*"), pn.pane.Bokeh(figure()), pn.pane.Alert("c")]
    pn.Column(*panes).get_root(Document())
    assert all("_dt_layout" not in p.__dict__ and "layout" not in p.__dict__ for p in panes)


def test_the_layout_holds_the_pane_and_follows_its_size(mode):
    pane = pn.pane.HTML("x", width=120, margin=(1, 2), sizing_mode="fixed")
    pane.width = 150                                  # changed before anyone asked for the layout
    layout = pane.layout
    assert isinstance(layout, pn.Row) and list(layout) == [pane] and pane[0] is pane
    assert layout.width == 154                        # Panel adds the pane's margins
    pane.height = 30
    assert layout.height == 32
    assert pane.layout is layout


def test_a_lone_pane_and_pn_panel_render_as_before(mode):
    fig = figure(name="lone")
    pane = pn.panel(fig)
    assert isinstance(pane, pn.pane.Bokeh)            # unpacked from its layout
    root = pane.get_root(Document())                  # Bokeh panes render through their layout
    assert root.select_one({"name": "lone"}) is fig
    md = pn.pane.Markdown("**z**").get_root(Document())
    assert "<strong>z</strong>" in html.unescape(md.text)


def test_a_replaced_bokeh_object_reaches_the_page(mode):
    pane = pn.pane.Bokeh(figure(name="first"))
    col = pn.Column(pane)
    root = col.get_root(Document())
    pane.object = figure(name="second")
    assert [c.name for c in root.children] == ["second"]


def _models(build):
    doc = Document()
    doc.add_root(build().get_root(doc))
    auto = re.compile(r"^[A-Z][A-Za-z]*\d{5}$")        # Panel's numbered default names
    return collections.Counter((type(m).__name__, None if m.name and auto.match(m.name) else m.name)
                               for m in doc.models)


def test_a_page_has_the_same_bokeh_models_either_way():
    from deeptricks.explorables.registry import by_slug

    lean = _models(lambda: by_slug("batch_norm").page())
    lean_panel.uninstall()
    try:
        plain = _models(lambda: by_slug("batch_norm").page())
    finally:
        lean_panel.install()
    assert lean == plain


def _pane_bytes() -> float:
    pn.pane.HTML("warm")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        panes = [pn.pane.HTML("x") for _ in range(100)]
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(panes) == 100
    return (after - before) / 100


def test_a_pane_costs_less_without_its_row():
    lean_bytes = _pane_bytes()
    lean_panel.uninstall()
    try:
        panel_bytes = _pane_bytes()
    finally:
        lean_panel.install()
    assert lean_bytes < 0.7 * panel_bytes


def test_switched_off_by_the_environment(monkeypatch):
    lean_panel.uninstall()
    try:
        monkeypatch.setenv("DEEPTRICKS_LEAN_PANEL", "0")
        assert lean_panel.install() is False and not lean_panel.installed()
        assert "_dt_layout" not in pn.pane.HTML("x").__dict__ and isinstance(pn.pane.HTML("x").layout, pn.Row)
    finally:
        monkeypatch.delenv("DEEPTRICKS_LEAN_PANEL")
        assert lean_panel.install()


def test_changes_from_the_browser_reach_widgets_through_one_shared_callback(mode):
    slider = pn.widgets.IntSlider(start=0, end=9)
    select = pn.widgets.Select(options=["a", "b"])
    root = pn.Column(slider, select).get_root(Document())
    model = slider._models[root.ref["id"]][0]
    model.value = 7                                   # what a browser message does
    select._models[root.ref["id"]][0].value = "b"
    assert slider.value == 7 and select.value == "b"
    callbacks = [cb for cbs in model._callbacks.values() for cb in cbs]
    assert len(callbacks) > 5
    assert (len({id(cb) for cb in callbacks}) == 1) == (mode == "lean")


def test_a_pane_that_sets_its_own_layout_keeps_it_in_step(mode):
    """Panel's Param pane replaces ``layout`` with a layout of its own widgets."""
    import param

    class P(param.Parameterized):
        x = param.Number(1.0, bounds=(0, 2))

    pane = pn.Param(P(), width=200)
    assert isinstance(pane.layout, pn.layout.ListPanel) and len(pane.layout.select(pn.widgets.FloatSlider)) == 1
    pane.width = 260
    left_right = pane.margin[1] * 2                  # Panel adds the pane's margins, as for any pane
    assert pane.layout.width == 260 + left_right
    pane.get_root(Document())
