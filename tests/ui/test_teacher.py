"""Teacher links: hide= and lock= on the controls of a page, by the names its links use."""

import panel as pn
import pytest

from deeptricks.explorables import sections
from deeptricks.explorables.dropout import DropoutPage
from deeptricks.explorables.lab import LabPage
from deeptricks.ui import teacher


def test_names_are_split_trimmed_and_kept_once():
    assert teacher.parse_names(" depth, width,,depth ,optimizer") == ["depth", "width", "optimizer"]
    assert teacher.parse_names(None) == [] and teacher.parse_names("") == []


def test_hide_and_lock_by_link_key_or_parameter_name():
    slider = pn.widgets.FloatSlider(label="rate")
    group = pn.Column(pn.pane.Markdown("Mode"), pn.widgets.RadioButtonGroup(options=["a", "b"]))
    box = pn.widgets.Checkbox(label="scale")
    controls = {"p": slider, "mode": group, "scaled": box}
    notes = teacher.apply(controls, {"p": "p", "mode": "mode", "scaled": "scale"}, hide="scale", lock="p,mode")
    assert notes == []
    assert not box.visible and slider.visible and slider.disabled
    assert all(w.disabled for w in group.select(pn.widgets.Widget)) and group.visible
    teacher.apply(controls, {"p": "p"}, hide="scaled", lock=None)          # the parameter's own name
    assert not box.visible


def test_a_name_the_page_lacks_is_named_in_a_note_with_the_names_it_has():
    controls = {"p": pn.widgets.FloatSlider(), "_note": pn.pane.Markdown("")}
    notes = teacher.apply(controls, {"p": "p"}, hide="depth,_note", lock="p")
    assert len(notes) == 1 and "`depth`" in notes[0] and "`_note`" in notes[0] and "its controls: p" in notes[0]
    assert controls["p"].disabled and controls["_note"].visible


def _link(monkeypatch, **query):
    monkeypatch.setattr(sections, "query_value", lambda key: query.get(key))


def _controls(layout):
    return {w.name: w for w in layout.select(pn.widgets.Widget)}


def test_a_page_from_a_teachers_link(monkeypatch):
    _link(monkeypatch, hide="scale", lock="p")
    layout = DropoutPage().layout()
    widgets = _controls(layout)
    rate = next(w for n, w in widgets.items() if n.startswith("Dropout rate"))
    assert rate.disabled and rate.visible
    scale = [w for w in layout.select(pn.widgets.Checkbox) if "scal" in w.name.lower()]
    assert scale and not any(w.visible for w in scale)


def test_a_view_from_a_teachers_link_and_the_lab(monkeypatch):
    _link(monkeypatch, lock="p", hide="nonsense")
    view = DropoutPage().view("units")
    rate = next(w for w in view.select(pn.widgets.FloatSlider) if w.name.startswith("Dropout rate"))
    assert rate.disabled
    alerts = [a for a in view.select(pn.pane.Alert) if a.name == "teacher-link-note"]
    assert alerts and alerts[0].visible and "`nonsense`" in alerts[0].object

    _link(monkeypatch, hide="depth,width,optimizer", lock="lr")
    layout = LabPage().layout(guide=False)
    sliders = {w.label.split(":")[0]: w for w in layout.select(pn.widgets.Widget)
               if isinstance(w, (pn.widgets.FloatSlider, pn.widgets.IntSlider, pn.widgets.DiscreteSlider))}
    depth = [w for k, w in sliders.items() if k.startswith("Depth")]
    assert depth and not any(w.visible for w in depth)
    rate = [w for k, w in sliders.items() if k.startswith("Learning rate")]
    assert rate and all(w.disabled for w in rate)
    assert all(w.visible and not w.disabled for k, w in sliders.items() if k.startswith("Noise"))


def test_controls_drawn_beside_their_figures_are_reached_too(monkeypatch):
    """The batch-size slider and the mode switch of the batch-norm page, and layer norm's depth and
    gain sliders, sit beside their figures, not in the sidebar: a link hides and locks them too,
    on the page and in a view, and the note lists them among the names it knows."""
    from deeptricks.explorables.batch_norm import BatchNormPage
    from deeptricks.explorables.layer_norm import LayerNormPage

    def sliders(layout, label):
        return [w for w in layout.select(pn.widgets.Widget)
                if isinstance(w, (pn.widgets.IntSlider, pn.widgets.FloatSlider)) and w.label.startswith(label)]

    _link(monkeypatch, hide="batch", lock="mode,warmup")
    layout = BatchNormPage().layout(guide=False)
    assert sliders(layout, "Batch size") and not any(w.visible for w in sliders(layout, "Batch size"))
    assert sliders(layout, "Running-average") and all(w.disabled for w in sliders(layout, "Running-average"))
    modes = [w for w in layout.select(pn.widgets.RadioButtonGroup) if "eval" in " ".join(map(str, w.options)).lower()]
    assert modes and all(w.disabled for w in modes)

    _link(monkeypatch, lock="depth", hide="gain,nonsense")
    view = LayerNormPage().view("depth")
    assert all(w.disabled for w in sliders(view, "Depth")) and sliders(view, "Depth")
    gain = [w for w in view.select(pn.widgets.FloatSlider)]
    assert gain and not any(w.visible for w in gain)
    note = next(a for a in view.select(pn.pane.Alert) if a.name == "teacher-link-note")
    assert "`nonsense`" in note.object and "depth" in note.object and "gain" in note.object


@pytest.mark.parametrize("key", teacher.KEYS)
def test_the_full_page_link_of_a_view_drops_the_teachers_keys(key):
    assert key in sections.VIEW_KEYS


def test_every_lesson_link_in_the_embedding_guide_names_real_controls():
    import importlib
    import re
    import urllib.parse
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "embedding.md").read_text()
    links = re.findall(r"`/(\w+)(?:/\w+)?\?([^`]*(?:hide|lock)=[^`]*)`", guide)
    assert {slug for slug, _ in links} >= {"dropout", "batch_norm", "layer_norm", "residual", "lab"}
    for slug, q in links:
        module = importlib.import_module(f"deeptricks.explorables.{slug}")
        page_cls = next(v for k, v in vars(module).items() if k.endswith("Page") and hasattr(v, "URL_PARAMS"))
        query = dict(urllib.parse.parse_qsl(q))
        notes = teacher.apply(page_cls().controls_by_name(), module.URL_PARAMS,
                              hide=query.get("hide"), lock=query.get("lock"))
        assert notes == [], (slug, q, notes)


def test_the_lab_with_its_guided_path_still_names_a_misspelt_control(monkeypatch):
    _link(monkeypatch, hide="depht")
    layout = LabPage().layout()
    alerts = [a for a in layout.select(pn.pane.Alert) if a.name == "teacher-link-note"]
    assert alerts and alerts[0].visible and "`depht`" in alerts[0].object
