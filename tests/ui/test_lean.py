"""deeptricks.ui.lean: Bokeh's property containers keep their owners in a tuple, in a slot, and still
notify them."""

import gc

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ColumnsPatchedEvent, ColumnsStreamedEvent, \
    ModelChangedEvent
from bokeh.models import ColumnDataSource, Div
from bokeh.plotting import figure

from deeptricks.ui import lean


@pytest.fixture(params=["lean", "bokeh"])
def mode(request):
    """Every behaviour below holds with the lean containers and with Bokeh's own."""
    if request.param == "bokeh":
        lean.uninstall()
    else:
        assert lean.install()
    yield request.param
    lean.install()


def _events(doc):
    seen = []
    doc.on_change(lambda event: seen.append(event))
    return seen


def test_install_is_on_after_importing_the_ui_package():
    assert lean.installed()
    assert ColumnDataSource(data={"x": [1]}).data._owners     # registered, in a tuple
    assert isinstance(ColumnDataSource(data={"x": [1]}).data._owners, tuple)


def test_in_place_list_and_dict_mutations_notify_the_document(mode):
    doc = Document()
    div = Div(text="a", tags=[1], styles={"color": "red"})
    doc.add_root(div)
    seen = _events(doc)
    div.tags.append(2)
    div.styles["margin"] = "0"
    changes = [e for e in seen if isinstance(e, ModelChangedEvent)]
    assert [e.attr for e in changes] == ["tags", "styles"]
    assert changes[0].new == [1, 2] and changes[1].new == {"color": "red", "margin": "0"}


def test_stream_and_patch_reach_the_document(mode):
    doc = Document()
    src = ColumnDataSource(data={"x": [0.0, 1.0], "y": [1.0, 2.0]})
    fig = figure()
    fig.line("x", "y", source=src)
    doc.add_root(fig)
    seen = _events(doc)
    src.stream({"x": [2.0], "y": [3.0]})
    src.patch({"y": [(0, 9.0)]})
    src.data = {"x": np.arange(3.0), "y": np.ones(3)}
    kinds = [type(e) for e in seen]
    assert ColumnsStreamedEvent in kinds and ColumnsPatchedEvent in kinds
    assert ColumnDataChangedEvent in kinds or ModelChangedEvent in kinds
    assert list(src.data["x"]) == [0.0, 1.0, 2.0]


def test_a_replaced_value_forgets_its_owner_and_stops_notifying(mode):
    doc = Document()
    div = Div(text="a", tags=[1])
    doc.add_root(div)
    old = div.tags
    assert any(o is div for o, _ in old._owners)
    div.tags = [5]
    assert not any(o is div for o, _ in old._owners)
    seen = _events(doc)
    old.append(3)                          # no longer the model's value: nothing to tell
    assert seen == [] and div.tags == [5]


def test_one_value_shared_by_two_models_notifies_both(mode):
    doc = Document()
    a, b = Div(text="a"), Div(text="b")
    doc.add_root(a)
    doc.add_root(b)
    shared = [1]
    a.tags = shared
    b.tags = a.tags                        # the same container object, now owned twice
    assert a.tags is b.tags and len(a.tags._owners) == 2
    seen = _events(doc)
    a.tags.append(2)
    assert sorted(e.model.text for e in seen if isinstance(e, ModelChangedEvent)) == ["a", "b"]


def test_registering_the_same_owner_twice_keeps_one_entry(mode):
    div = Div(text="a", tags=[1])
    c = div.tags
    (owner, descriptor), = c._owners
    c._register_owner(owner, descriptor)
    assert len(c._owners) == 1


def _bytes_per_owned_container() -> float:
    """Memory of an empty container made by a model's ``tags`` property and owned by the
    model, as when a model's default is first read (tracemalloc, 500 of them)."""
    import tracemalloc

    div = Div(text="a")
    descriptor = div.lookup("tags")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made = [descriptor.property.wrap([]) for _ in range(500)]
        for c in made:
            c._register_owner(div, descriptor)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / len(made)


def test_a_lean_container_is_smaller():
    """A container with one owner: no instance dict and no set, under half of Bokeh's bytes."""
    lean.install()
    c = Div(text="a", tags=[]).tags
    assert isinstance(c, lean.LEAN_CLASSES["PropertyValueList"]) and len(c._owners) == 1
    assert not any(isinstance(r, dict) for r in gc.get_referents(c))   # no __dict__ was made
    lean_bytes = _bytes_per_owned_container()
    lean.uninstall()
    try:
        bokeh_bytes = _bytes_per_owned_container()
    finally:
        lean.install()
    assert lean_bytes < bokeh_bytes / 2


@pytest.mark.parametrize("value", [[1, 2], {"color": "red"}, {"x": [1.0]}])
def test_every_kind_bokeh_makes_is_lean(value):
    from bokeh.core.property.wrappers import PropertyValueContainer

    if isinstance(value, list):
        c = Div(text="a", tags=value).tags
    elif "x" in value:
        c = ColumnDataSource(data=value).data
    else:
        c = Div(text="a", styles=value).styles
    assert isinstance(c, PropertyValueContainer) and type(c) in lean.LEAN_CLASSES.values()
    assert c == value


def test_a_container_of_bokehs_own_class_is_wrapped_anew_and_still_notifies(mode):
    from bokeh.core.property.wrappers import PropertyValueList

    doc = Document()
    div = Div(text="a")
    doc.add_root(div)
    div.tags = PropertyValueList([1])      # made outside Bokeh's properties
    seen = _events(doc)
    div.tags.append(2)
    assert div.tags == [1, 2] and [e.attr for e in seen if isinstance(e, ModelChangedEvent)] == ["tags"]


def test_switched_off_by_the_environment(monkeypatch):
    lean.uninstall()
    try:
        monkeypatch.setenv("DEEPTRICKS_LEAN_BOKEH", "0")
        assert lean.install() is False and not lean.installed()
        assert isinstance(Div(text="a", tags=[1]).tags._owners, set)
    finally:
        monkeypatch.delenv("DEEPTRICKS_LEAN_BOKEH")
        assert lean.install()
