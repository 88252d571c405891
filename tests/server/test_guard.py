"""The client guard (deeptricks.server.guard): each change a browser's patch may carry is
screened against what its control offers before Bokeh applies it. Here on a real page's
document, with patches in their JSON form as they arrive; the browser test
(tests/browser/test_hostile.py) sends them from Chromium to a running server."""

from __future__ import annotations

import logging

import pytest
from bokeh.document import Document
from bokeh.models import AbstractSlider, ColumnDataSource
from pyviz_comms import Comm

from deeptricks.explorables.dropout import DropoutPage
from deeptricks.server import guard, repro


@pytest.fixture
def page():
    """A dropout page in its own document: (page, document, models by what they are)."""
    p = DropoutPage()
    layout = p.layout()
    doc = Document()
    doc.add_root(layout.get_root(doc, Comm()))
    models = {"p": _model(p.controls_by_name, doc, "Dropout rate"),
              "layer": _model(p.controls_by_name, doc, "Layer")}
    return p, doc, models


def _model(_, doc, title):
    found = [m for m in doc.models if isinstance(m, AbstractSlider) and title in str(m.title)]
    assert len(found) == 1, found
    return found[0]


def _change(model, attr, new):
    return {"kind": "ModelChanged", "model": {"id": model.id}, "attr": attr, "new": new}


def _group(doc, labels):
    return next(m for m in doc.models if list(getattr(m, "labels", []) or []) == labels)


@pytest.mark.parametrize("new,why", [
    ({"type": "number", "value": "nan"}, "finite"),
    ({"type": "number", "value": "-inf"}, "finite"),
    (5.0, "outside 0.0..0.9"),
    (1e308, "outside"),
    (-0.1, "outside"),
    ("0.5", "finite number"),
    (True, "finite number"),
    ([0.1, 0.2], "not a finite number"),
    ({"type": "object", "name": "Range1d", "id": "p9999"}, "models not in the document"),
])
def test_a_slider_value_it_does_not_offer_is_refused(page, new, why):
    _, doc, m = page
    kept, refused = guard.screen(doc, [_change(m["p"], "value", new)])
    assert kept == [] and len(refused) == 1
    assert why in refused[0].why and refused[0].attr == "value" and refused[0].model_id == m["p"].id


def test_values_the_controls_offer_pass(page):
    _, doc, m = page
    mode = _group(doc, ["train", "test"])
    events = [_change(m["p"], "value", 0.3), _change(m["p"], "value_throttled", 0.9),
              _change(m["layer"], "value", 7), _change(mode, "active", 1),
              {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {}}]
    kept, refused = guard.screen(doc, events)
    assert refused == [] and kept == events


def test_whole_numbers_buttons_and_switches(page):
    _, doc, m = page
    mode = _group(doc, ["train", "test"])
    checkbox = next(x for x in doc.models if type(x).__name__ == "Checkbox")
    bad = [_change(m["layer"], "value", 3.5), _change(mode, "active", 99), _change(mode, "active", -1),
           _change(mode, "active", "train"), _change(checkbox, "active", "yes"), _change(checkbox, "active", 1)]
    kept, refused = guard.screen(doc, bad)
    assert kept == [] and [r.why.split(" ")[-1] for r in refused][:3] == ["number", "2", "2"]
    assert guard.screen(doc, [_change(checkbox, "active", False)])[1] == []


def test_the_server_owns_the_data_the_document_and_its_models(page):
    p, doc, _ = page
    source = p.dropped_source
    bad = [
        _change(source, "data", {"type": "map", "entries": [["col", [1]], ["row", [1]]]}),
        {"kind": "ColumnsStreamed", "model": {"id": source.id}, "attr": "data", "data": {}},
        {"kind": "ColumnsPatched", "model": {"id": source.id}, "attr": "data", "patches": {}},
        {"kind": "RootAdded", "model": {"id": "p1"}},
        {"kind": "TitleChanged", "title": "x" * 100},
        {"kind": "ModelChanged", "model": {"id": "no-such-model"}, "attr": "value", "new": 1},
        _change(source, "no_such_property", 1),
        "not an event",
    ]
    kept, refused = guard.screen(doc, bad)
    assert kept == [] and len(refused) == len(bad)
    assert "owns the plots' data" in refused[0].why and "no such model" in refused[5].why


def test_the_guard_answers_in_one_line_and_puts_the_value_back(page, caplog):
    """Through the patched handler, as a session applies a client's patch: valid changes in
    the same patch go through, each refused one is a single log line, and the browser is sent
    the server's value."""
    p, doc, m = page

    class Message:
        content = {"events": [_change(m["p"], "value", {"type": "number", "value": "nan"}),
                              _change(m["layer"], "value", 4)]}

    class Connection:
        def ok(self, message):
            return "ok"

        def error(self, message, text):
            return "error"

    class Session:
        id, document = "a-session-id-here", doc

    applied, sent = [], []

    def apply(self, message, connection):
        applied.extend(message.content["events"])
        return connection.ok(message)

    doc.on_change(lambda event: sent.append((getattr(event, "attr", None), getattr(event, "new", None))))
    with caplog.at_level(logging.WARNING, logger="deeptricks.guard"):
        assert guard.guarded(apply)(Session(), Message(), Connection()) == "ok"
    assert applied == [_change(m["layer"], "value", 4)]
    lines = [r for r in caplog.records if r.name == "deeptricks.guard"]
    assert len(lines) == 1 and "nan is not a finite number" in lines[0].getMessage()
    assert lines[0].exc_info is None
    assert ("value", 0.5) in sent and p.state.p == 0.5              # the server's value, sent again

    def broken(self, message, connection):
        raise ValueError("unreadable")
    Message.content = {"events": [_change(m["layer"], "value", 2)]}
    assert guard.guarded(broken)(Session(), Message(), Connection()) == "error"
    Message.content = {"events": "not a list"}
    assert guard.guarded(apply)(Session(), Message(), Connection()) == "ok"
    assert Message.content["events"] == []


def test_bokeh_still_applies_any_client_patch():
    """The guard exists because Bokeh applies a client's rewrite of a data source and a NaN
    slider value; when this fails, Bokeh refuses such patches itself and the guard can shrink."""
    assert repro.client_patch_writes_data()


def test_the_guard_is_installed_on_bokehs_session_once():
    from bokeh.server.session import ServerSession

    assert guard.install() and guard.install()
    assert ServerSession._handle_patch.__wrapped__.deeptricks_guard
    assert not getattr(ServerSession._handle_patch.__wrapped__, "__wrapped__", None)


def test_a_locked_control_refuses_every_change_from_the_browser():
    """A teacher's ``lock=`` disables a control; the browser may not move it even by a patch."""
    import panel as pn

    p = DropoutPage()
    layout = p.layout()
    doc = Document()
    doc.add_root(layout.get_root(doc, Comm()))
    slider = next(w for w in layout.select(pn.widgets.FloatSlider) if "Dropout rate" in w.name)
    model = _model(None, doc, "Dropout rate")
    widgets = {model.id: slider}
    assert guard.screen(doc, [_change(model, "value", 0.3)], widgets)[1] == []
    slider.disabled = True
    kept, refused = guard.screen(doc, [_change(model, "value", 0.3)], widgets)
    assert kept == [] and "locked" in refused[0].why
