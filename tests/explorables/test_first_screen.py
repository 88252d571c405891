"""Each page's first document holds its first screen; the sections below it follow.

In a server session the pages build the Bokeh models of the sections below the first screen
only once the browser reports the first screen drawn (``ui.layout.after_first_render``):
a smaller first document is drawn sooner. These tests build each page in a stand-in
session, check what the first document holds (the controls and plots that the first
screen shows, and that the load benchmark and the session tests drive), then run what Panel
runs when the browser reports the document drawn and check that the rest arrives.
"""

from __future__ import annotations

import weakref

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Plot, Slider
from panel.io.state import set_curdoc

from deeptricks.explorables.registry import EXPLORABLES
from deeptricks.ui.layout import PENDING_CLASS

# What a learner sees first, and what benchmarks/load.py and tests/test_sessions.py drive
# over a bare websocket: (slider titles, data sources) that must be in the first document.
FIRST_SCREEN = {
    "dropout": (["Dropout rate p"], ["dropout-units-source"]),
    "batch_norm": (["Weight scale (init gain)"], ["bn-right-values-source"]),
    "layer_norm": (["Batch size"], ["ln-shrink-bn-source"]),
    "residual": (["Depth (blocks)"], ["residual-grad-residual-source"]),
    "lab": (["Noise"], []),
}


class _Context:
    """Stands in for Bokeh's session context (only the request's arguments are read)."""

    request = type("Request", (), {"arguments": {}})()


def _titles(doc) -> list[str]:
    return [str(m.title) for m in doc.models if isinstance(m, Slider)]


def _names(doc, kind) -> set[str]:
    return {m.name for m in doc.models if isinstance(m, kind) and m.name}


@pytest.mark.parametrize("slug", [e.slug for e in EXPLORABLES])
def test_the_first_document_is_the_first_screen_and_the_rest_follows(slug):
    explorable = next(e for e in EXPLORABLES if e.slug == slug)
    doc, ctx = Document(), _Context()
    doc._session_context = weakref.ref(ctx)
    try:
        with set_curdoc(doc):
            doc.add_root(explorable.page().get_root(doc))
        first_models, first_plots = len(doc.models), _names(doc, Plot)
        sliders, sources = FIRST_SCREEN[slug]
        for title in sliders:
            assert any(t.startswith(title) for t in _titles(doc)), (title, _titles(doc))
        assert set(sources) <= _names(doc, ColumnDataSource)
        pending = [m for m in doc.models if PENDING_CLASS in getattr(m, "css_classes", ())]
        assert len(pending) == 1 and pending[0].children == []

        pn.state._on_load(doc)      # what Panel runs when the browser reports the document drawn

        assert not [m for m in doc.models if PENDING_CLASS in getattr(m, "css_classes", ())]
        assert pending[0].children, "the sections below the first screen arrived"
        assert len(doc.models) > first_models and len(_names(doc, Plot)) > len(first_plots)
    finally:
        for registry in (pn.state._loaded, pn.state._onload):
            registry.pop(doc, None)
