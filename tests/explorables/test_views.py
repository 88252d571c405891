"""Every view of every explorable, alone: it builds, shows exactly the controls that move it and
none of the page's frame (title, introduction, sidebar, footer), follows its link's settings, and
can leave out its caption. And each page is still the sum of its views."""

import panel as pn
import pytest
from bokeh.models import Plot

from deeptricks.explorables.registry import EXPLORABLES, view_routes
from deeptricks.ui.views import PageOnly, View

ROUTES = [pytest.param(e, v, id=f"{e.slug}/{v.name}") for e, v in view_routes()]


def test_every_explorable_has_views_with_unique_names_and_their_texts():
    for e in EXPLORABLES:
        views = e.views()
        assert views, e.slug
        names = [v.name for v in views]
        assert len(set(names)) == len(names), e.slug
        for v in views:
            assert isinstance(v, View)
            assert v.name.replace("-", "").isalnum() and v.name == v.name.lower()
            assert v.summary and len(v.summary) < 110 and not v.summary.endswith(".")
            assert v.caption.endswith(".") and len(v.caption.split()) <= 45, (e.slug, v.name)
    assert {f"{e.slug}/{v.name}" for e, v in view_routes()} >= {
        "dropout/units", "dropout/readout", "dropout/layers", "lab/train"}


@pytest.mark.parametrize("explorable,view", ROUTES)
def test_a_view_shows_its_figure_and_only_its_controls(explorable, view):
    built = explorable.view(view.name)
    assert isinstance(built, pn.Column) and "dt-view" in built.css_classes
    texts = " ".join(str(getattr(p, "object", "")) for p in built.select(pn.pane.HTML))
    assert "dt-footer" not in texts and "All explorables" not in texts     # no page footer
    assert not built.select(lambda o: getattr(o, "name", "").endswith("-header"))
    assert not any("dt-controls" in getattr(o, "css_classes", []) for o in built.select(pn.Column))
    controls = [o for o in built.objects if getattr(o, "name", "").endswith("-controls")]
    if view.controls:
        assert len(controls) == 1 and len(controls[0].objects) == len(view.controls)
    else:
        assert controls == []
    root = built.get_root()
    assert list(root.select({"type": Plot})), "a view without a figure"
    assert "dt-view-caption" in texts                                  # its one-sentence caption


@pytest.mark.parametrize("explorable,view", ROUTES[:1])
def test_the_caption_can_be_left_out(explorable, view):
    with_caption = explorable.view(view.name)
    without = explorable.view(view.name, caption=False)
    cap = lambda layout: [p for p in layout.select(pn.pane.HTML) if "dt-view-caption" in str(p.object)]  # noqa: E731
    assert cap(with_caption) and not cap(without)


def test_page_only_objects_stay_off_the_view():
    from deeptricks.ui.views import in_view, on_page

    a, b = pn.pane.Markdown("figure"), pn.pane.Markdown("long caption")
    assert on_page([a, PageOnly(b)]) == [a, b]
    assert in_view([a, PageOnly(b)]) == [a]


def test_a_preset_view_opens_with_its_preset():
    from deeptricks.explorables.lab import LabPage

    page = LabPage()
    page.view("degradation")
    assert page.state.preset == "degradation" and page.state.compare and page.state.b_depth == 30


def test_a_comparing_preset_view_is_compact_and_the_page_is_not():
    """A preset that compares two nets fits both planes and both curves in a course column:
    the status beside the run buttons, no colour bars (the caption tells the colours), the
    curves' legend on one line; the ensemble's view trades the curves for its lesion chart."""
    from bokeh.models import ColorBar

    from deeptricks.explorables.lab import PRESET_VIEW_CAPTION, LabPage

    page = LabPage()
    view = page.view("dropout")
    bar = next(o for o in view.select(pn.FlexBox) if o.name == "lab-run-bar")
    assert _holds(bar, page.status.__panel__())
    assert len(page.boundaries) == 2
    for b in page.boundaries:
        assert all(not c.visible for c in b.figure.select(type=ColorBar))
    assert page.loss.legend.ncols == "auto" and page.acc.legend.ncols == "auto"
    assert PRESET_VIEW_CAPTION.split(";")[0] in str(view.objects[-1].object)
    assert _holds(view, page.curves_slot)

    ensemble = LabPage()
    view = ensemble.view("ensemble")
    assert not _holds(view, ensemble.curves_slot) and _holds(view, ensemble.lesion.__panel__())

    full = LabPage()
    full.state.apply_preset("dropout")
    full.layout()
    assert full.loss.legend.ncols == 2                        # the page keeps A and B in two columns
    assert all(c.visible for b in full.boundaries for c in b.figure.select(type=ColorBar))


def _holds(layout, obj) -> bool:
    return any(o is obj for o in layout.select())


@pytest.mark.parametrize("slug,view,shown,hidden,move", [
    ("dropout", "units", "dropped_source", "readout_source", {"p": 0.8}),
    ("batch_norm", "running-stats", "modes", "spread", {"depth": 30}),
    ("residual", "plus-one", "paths_chart", "grad_chart", {"depth": 20}),
])
def test_a_view_updates_only_its_own_figures(slug, view, shown, hidden, move):
    """A move in a view redraws that view's figures and leaves the page's other sections
    alone; the full page redraws them all."""
    from deeptricks.explorables.registry import by_slug

    def data(obj):
        src = obj if hasattr(obj, "data") else next(iter(obj.sources.values()))
        return {k: list(v) for k, v in src.data.items()}

    cls = by_slug(slug)._page_class()
    alone, full = cls(), cls()
    alone.view(view)
    full.layout()
    for page in (alone, full):
        page.before = {n: data(getattr(page, n)) for n in (shown, hidden)}
        page.state.param.update(**move)
    assert data(getattr(full, hidden)) != full.before[hidden]
    assert data(getattr(alone, hidden)) == alone.before[hidden]          # not on screen: skipped
    assert data(getattr(alone, shown)) != alone.before[shown]
    assert alone.shows(view) and not any(alone.shows(v.name) for v in cls.VIEWS if v.name != view)
    assert all(full.shows(v.name) for v in cls.VIEWS)
