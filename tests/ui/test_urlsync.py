import math
import urllib.parse

import param
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panel.io.location import Location

from deeptricks.ui import coerce_query, serialize_value, url_sync
from deeptricks.ui.urlsync import flush_url_writes


class State(param.Parameterized):
    p = param.Number(0.5, bounds=(0.0, 0.9))
    depth = param.Integer(10, bounds=(1, 100))
    lr = param.Number(0.1, bounds=(0, None), inclusive_bounds=(False, True))
    width = param.Integer(8)
    bn = param.Boolean(False)
    mode = param.Selector(default="train", objects=["train", "eval"])
    act = param.Selector(default=0.0, objects={"relu": 0.0, "tanh": 1.0})
    label = param.String("run")
    fixed = param.Number(1.0, constant=True)


PARAMS = ["p", "depth", "lr", "width", "bn", "mode", "act", "label", "fixed"]


@pytest.mark.parametrize("raw, expected, n_notes", [
    ({"p": "abc"}, {}, 1),
    ({"p": "5"}, {"p": 0.9}, 1),
    ({"p": "-1e9"}, {"p": 0.0}, 1),
    ({"p": "nan"}, {}, 1),
    ({"p": "inf"}, {}, 1),
    ({"p": " 0.25 "}, {"p": 0.25}, 0),
    ({"depth": "-3"}, {"depth": 1}, 1),
    ({"depth": "12.0"}, {"depth": 12}, 0),
    ({"depth": "2.7"}, {"depth": 3}, 1),
    ({"depth": "1e400"}, {}, 1),
    ({"lr": "0"}, {}, 0),  # checked separately: nudged above the open bound
    ({"width": "123456789012345678901"}, {"width": 123456789012345678901}, 0),
    ({"bn": "ON"}, {"bn": True}, 0),
    ({"bn": "0"}, {"bn": False}, 0),
    ({"bn": "maybe"}, {}, 1),
    ({"mode": "EVAL"}, {"mode": "eval"}, 0),
    ({"mode": "test"}, {}, 1),
    ({"act": "tanh"}, {"act": 1.0}, 0),
    ({"act": "1"}, {"act": 1.0}, 0),
    ({"label": "x" * 500}, {}, 1),
    ({"fixed": "2"}, {}, 1),
    ({"p": ""}, {}, 1),
    ({"p": ["0.1", "0.2"]}, {"p": 0.2}, 0),
    ({"p": [b"0.3"]}, {"p": 0.3}, 0),
    ({"p": []}, {}, 0),
    ({"unknown": "1"}, {}, 0),
    ({"p": "\u00b2"}, {}, 1),  # crashes Panel's own parse_query
])
def test_coerce_examples(raw, expected, n_notes):
    values, notes = coerce_query(State(), raw, PARAMS)
    if "lr" in raw:
        assert values["lr"] > 0 and len(notes) == 1
        return
    assert values == expected
    assert len(notes) == n_notes, notes


def test_param_to_key_mapping_and_default_params():
    values, notes = coerce_query(State(), {"drop": "0.2", "p": "0.7"}, {"p": "drop"})
    assert values == {"p": 0.2} and notes == []
    values, _ = coerce_query(State(), {"depth": "3", "name": "evil"})
    assert values == {"depth": 3}
    assert coerce_query(State(), None) == ({}, [])
    assert coerce_query(State(), {"p": object()}, ["p"])[0] == {}


junk = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["nan", "-inf", "1e999", "0x10", "1_000", "\u00b2", "true", "ON", "eval",
                     "tanh", "", " ", "-0", "1e-400", "9" * 60, "\x00", "0.9", "100", "1.5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.binary(max_size=20),
    st.lists(st.text(max_size=10), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(PARAMS + ["other"]), junk, max_size=8))
def test_coerce_never_raises_and_is_valid(raw):
    state = State()
    values, notes = coerce_query(state, raw, PARAMS)
    assert all(isinstance(n, str) for n in notes)
    assert "fixed" not in values
    for name, v in values.items():
        p = state.param[name]
        if isinstance(p, param.Boolean):
            assert isinstance(v, bool)
        elif isinstance(p, param.Integer):
            assert isinstance(v, int) and not isinstance(v, bool)
        elif isinstance(p, param.Number):
            assert isinstance(v, float) and math.isfinite(v)
        if isinstance(p, param.Number) and p.bounds:
            lo, hi = p.bounds
            assert lo is None or v >= lo
            assert hi is None or v <= hi
        if isinstance(p, param.Selector):
            assert v in p.objects
    state.param.update(**values)  # param itself accepts every value


@settings(max_examples=100, deadline=None)
@given(st.floats(0, 0.9), st.integers(1, 100), st.booleans(), st.sampled_from(["train", "eval"]))
def test_serialize_round_trips(p, depth, bn, mode):
    s = State(p=p, depth=depth, bn=bn, mode=mode, act=1.0)
    raw = {k: serialize_value(s.param[k], getattr(s, k)) for k in ("p", "depth", "bn", "mode", "act")}
    values, notes = coerce_query(State(), raw, list(raw))
    assert notes == [] and values == {"p": p, "depth": depth, "bn": bn, "mode": mode, "act": 1.0}


def query(loc):
    return dict(urllib.parse.parse_qsl(loc.search.lstrip("?")))


def test_url_sync_binding_both_ways():
    loc = Location(search="?p=5&depth=abc&bn=on&utm=x&mode=%C2%B2")
    state = State()
    sync = url_sync(state, ["p", "depth", "bn", "mode"], location=loc)
    assert (state.p, state.depth, state.bn, state.mode) == (0.9, 10, True, "train")
    assert len(sync.notes) == 3 and sync.alert.visible
    assert "adjusted" in sync.alert.object
    q = query(loc)
    assert q == {"utm": "x", "p": "0.9", "depth": "10", "bn": "true", "mode": "train"}
    state.depth = 20  # state -> URL
    assert query(loc)["depth"] == "20"
    loc.search = "?p=0.1&depth=-4&mode=eval"  # e.g. the browser reporting its URL
    assert (state.p, state.depth, state.mode) == (0.1, 1, "eval")
    assert query(loc)["depth"] == "1" and len(sync.notes) == 1
    loc.search = "?p=0.2"
    assert state.p == 0.2 and not sync.alert.visible


def test_a_second_binding_on_the_address_keeps_the_firsts_notes():
    """A page and its guided path each bind their keys to one address: the second one's write
    (``step=``) must not make the first re-read the link and forget how it was adjusted."""

    class Path(param.Parameterized):
        step = param.Integer(1, bounds=(0, 5))

    loc = Location(search="?p=5&depth=abc")
    state, path = State(), Path()
    sync = url_sync(state, ["p", "depth"], location=loc)
    assert len(sync.notes) == 2 and sync.alert.visible
    url_sync(path, ["step"], location=loc)
    assert query(loc) == {"p": "0.9", "depth": "10", "step": "1"}
    assert len(sync.notes) == 2 and sync.alert.visible
    loc.search = "?p=0.3&depth=4&step=2"          # the browser going back: both follow
    assert (state.p, state.depth, path.step) == (0.3, 4, 2) and not sync.alert.visible


def test_url_sync_without_server_is_inert():
    sync = url_sync(State(), ["p"])  # pn.state.location is None outside a server
    assert sync.location is None and not sync.alert.visible


# --- sessions opened by a server_document script tag (a course page embedding the explorable)

AUTOLOAD = {"bokeh-autoload-element": [b"e1"], "bokeh-app-path": [b"/dropout"],
            "bokeh-absolute-url": [b"http://tricks.example.org/dropout"]}


class _Context:
    """Stands in for Bokeh's session context: only ``.request.arguments`` is read."""

    def __init__(self, arguments):
        self.request = type("Request", (), {"arguments": arguments})()


def _session_doc(arguments):
    import weakref

    from bokeh.document import Document

    doc, ctx = Document(), _Context(arguments)
    doc._session_context = weakref.ref(ctx)
    return doc, ctx  # keep ctx alive while doc is used


def test_embed_session_args_only_for_autoload_sessions():
    from deeptricks.ui.urlsync import embed_session_args

    doc, _ctx = _session_doc({**AUTOLOAD, "p": [b"0.9"], "mode": [b"test"]})
    assert embed_session_args(doc) == {"p": [b"0.9"], "mode": [b"test"]}
    page, _ctx2 = _session_doc({"p": [b"0.9"]})          # a normal page load or an iframe
    assert embed_session_args(page) is None
    from bokeh.document import Document
    assert embed_session_args(Document()) is None        # no session at all
    assert embed_session_args(None) is None              # outside a server: no current document


def test_session_args_set_the_state_and_leave_the_embedding_page_alone():
    loc = Location(search="?week=3&p=0.1")               # the course page's own address
    state = State()
    sync = url_sync(state, ["p", "depth", "bn", "mode"], location=loc,
                    session_args={"p": [b"5"], "depth": [b"12"], "bn": [b"on"], "mode": [b"nope"]})
    assert (state.p, state.depth, state.bn, state.mode) == (0.9, 12, True, "train")
    assert len(sync.notes) == 2 and sync.alert.visible   # p clamped, mode ignored
    assert sync.location is None and loc.search == "?week=3&p=0.1"
    state.depth = 30                                     # state changes are not written anywhere
    assert loc.search == "?week=3&p=0.1"
    loc.search = "?p=0.2"                                # nor is the course page's URL read
    assert state.p == 0.9


def test_url_sync_finds_an_embedded_sessions_args_by_itself():
    from panel.io.state import set_curdoc

    doc, _ctx = _session_doc({**AUTOLOAD, "p": [b"0.3"], "depth": [b"7"]})
    state = State()
    with set_curdoc(doc):
        course_page = Location(search="?p=0.8&depth=2")
        sync = url_sync(state, ["p", "depth"], location=course_page)   # as the lab passes its location
        assert (state.p, state.depth) == (0.3, 7) and sync.notes == []
        assert course_page.search == "?p=0.8&depth=2" and sync.location is None
        state.p = 0.5
        assert course_page.search == "?p=0.8&depth=2"
    plain, _ctx2 = _session_doc({"p": [b"0.3"]})         # not embedded: the location is bound as before
    with set_curdoc(plain):
        loc = Location(search="?p=0.6")
        url_sync(state, ["p"], location=loc)
        assert state.p == 0.6
        state.p = 0.4
        flush_url_writes(plain)                # in a session the write waits for the page's update
        assert query(loc)["p"] == "0.4"


def test_in_a_session_the_url_write_joins_the_next_update():
    from panel.io.state import set_curdoc

    doc, _ctx = _session_doc({"p": [b"0.3"]})
    ticks = []
    doc.add_next_tick_callback = ticks.append          # the session's next tick, run by hand below
    state = State()
    with set_curdoc(doc):
        loc = Location(search="?p=0.6")
        url_sync(state, ["p"], location=loc)
        state.p = 0.4
        state.p = 0.5                                    # queued once, written with the latest value
        assert query(loc)["p"] == "0.6" and len(ticks) == 1
        flush_url_writes(doc)                            # what a page's update does in its hold
        assert query(loc)["p"] == "0.5"
        ticks.pop()()                                    # the fallback tick finds nothing left
        assert query(loc)["p"] == "0.5"
        state.p = 0.2                                    # no page update: the tick writes it
        ticks.pop()()
        assert query(loc)["p"] == "0.2"
