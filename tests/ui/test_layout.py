import panel as pn
import pytest

from deeptricks.ui import comparison, note_alert, page, section_title, set_note, theme


def test_page_structure_and_render():
    slider = pn.widgets.FloatSlider(label="Dropout p", start=0, end=0.9, value=0.5)
    fixed = pn.widgets.IntSlider(label="Depth", start=1, end=10, width=120)
    alert = note_alert("bn-note")
    main = pn.pane.Markdown("main area")
    layout = page("Dropout", "Drop units at random.", [slider, fixed], main, notes=alert,
                  index_url="../index.html")
    assert isinstance(layout, pn.Column) and layout.name == "page"
    header, body, footer = layout.objects
    assert "# Dropout" in header.object and "Drop units" in header.object
    controls, main_col = body.objects
    assert "dt-controls" in controls.css_classes and "dt-main" in main_col.css_classes
    assert slider in controls.objects and slider.sizing_mode == "stretch_width"
    assert fixed.sizing_mode is None  # explicit widths are respected
    select = pn.widgets.Select(options=["a", "b"], label="Mode")  # class default width 300
    page("t", "i", select, main)
    assert select.sizing_mode == "stretch_width"
    assert alert in main_col.objects[0].objects and main in main_col.objects
    assert 'href="../index.html"' in footer.object
    root = layout.get_root()  # builds the Bokeh models without error
    assert root is not None


def test_note_toggling():
    a = note_alert()
    assert not a.visible
    set_note(a, "Batch of one in training mode: the batch statistics are the example itself.")
    assert a.visible and a.object.startswith("Batch of one")
    set_note(a, None)
    assert not a.visible and a.object == ""


def test_comparison():
    left, right = pn.pane.Markdown("L"), pn.pane.Markdown("R")
    c = comparison(left, right, "without BatchNorm", "with BatchNorm")
    assert isinstance(c, pn.FlexBox) and c.flex_wrap == "wrap"
    halves = c.objects
    assert len(halves) == 2 and all("dt-half" in h.css_classes for h in halves)
    assert left in halves[0].objects and right in halves[1].objects
    assert theme.WITHOUT_TRICK in halves[0].objects[0].object
    assert "&lt;b&gt;" in section_title("<b>").object  # titles are escaped
    c.get_root()


def test_live_text_sets_panels_html_model_directly():
    from html import unescape

    from deeptricks.ui import LiveText, strong

    t = LiveText("readout")
    t.object = f"<p>{strong('Slope <1>:')} 0.93</p>"
    assert t.object == "<p><strong>Slope &lt;1&gt;:</strong> 0.93</p>"
    assert unescape(t.model.text) == t.object          # Panel's HTML model takes escaped HTML
    changes = []
    t.model.on_change("text", lambda attr, old, new: changes.append(new))
    t.object = t.object                                 # the same text: nothing sent
    assert changes == []
    t.object = "<p>new</p>"
    assert len(changes) == 1 and t.model.name == "readout"
    assert pn.panel(t).object is t.model                # what a layout shows is that model


@pytest.mark.parametrize("md, html", [
    ("**Without BatchNorm** the spread", "<p><strong>Without BatchNorm</strong> the spread</p>"),
    ("Choose *residual* under *Your net*.", "<p>Choose <em>residual</em> under <em>Your net</em>.</p>"),
    ("use `x + F(x)` & <b>not</b> 2*3*4 or a * b",
     "<p>use <code>x + F(x)</code> &amp; &lt;b&gt;not&lt;/b&gt; 2*3*4 or a * b</p>"),
    ("one\n\ntwo **2**", "<p>one</p><p>two <strong>2</strong></p>"),
    ("", ""),
])
def test_inline_markdown(md, html):
    from deeptricks.ui.layout import inline_markdown

    assert inline_markdown(md) == html


def test_inline_markdown_agrees_with_panels_markdown_pane_on_what_the_pages_write():
    """The live read-outs used to be Markdown panes: the same text must come out the same."""
    import re
    from html import unescape

    from deeptricks.ui.layout import inline_markdown

    for md in ["**Eval mode:** all 20 batches give the same value (spread 0).",
               "Block 1 receives **3.2e-05 ×** the gradient that block 50 receives in the **plain** net.",
               "**Your net is plain:** it has no shortcut. Choose *residual* under *Your net* to add it."]:
        pane = pn.pane.Markdown(md, disable_math=True)
        rendered = unescape(pane.get_root().text)
        squash = lambda h: re.sub(r"\s+", " ", re.sub(r"<p[^>]*>", "<p>", h)).strip()
        assert squash(inline_markdown(md)) in squash(rendered)


def test_live_markdown_keeps_the_markdown_and_sends_html():
    from html import unescape

    from deeptricks.ui import LiveMarkdown

    t = LiveMarkdown("readout", font_size=14)
    t.object = "**A** and *b*"
    assert t.object == "**A** and *b*"
    assert unescape(t.model.text) == "<p><strong>A</strong> and <em>b</em></p>"
    assert t.model.styles["font-size"] == "14px"


def _session_doc():
    """A Bokeh document that looks like a server session's to Panel (not yet drawn)."""
    import weakref

    from bokeh.document import Document

    class Context:   # stands in for Bokeh's session context: only the request's arguments are read
        request = type("Request", (), {"arguments": {}})()

    doc, ctx = Document(), Context()
    doc._session_context = weakref.ref(ctx)
    return doc, ctx


def _later_column(built: pn.Column) -> pn.Column:
    main_col = built.objects[1].objects[1]
    return main_col.objects[-1]


def test_later_sections_are_there_at_once_outside_a_server():
    from deeptricks.ui.layout import PENDING_CLASS

    below = pn.pane.Markdown("below the first screen")
    slider = pn.widgets.IntSlider(label="Batch size", start=1, end=64)
    built = page("T", "intro", [], [pn.pane.Markdown("first screen")], later=[below, pn.Column(slider)])
    later = _later_column(built)
    assert later.objects[0] is below and slider in later.objects[1].objects
    assert PENDING_CLASS not in later.css_classes and later.min_height is None
    built.get_root()


def test_in_a_session_later_sections_are_sent_once_the_first_screen_is_drawn():
    from bokeh.models import Slider
    from panel.io.state import set_curdoc

    from deeptricks.ui.layout import PENDING_CLASS

    doc, _ctx = _session_doc()
    below = pn.pane.Markdown("below the first screen")
    slider = pn.widgets.IntSlider(label="Batch size", start=1, end=64)
    with set_curdoc(doc):
        built = page("T", "intro", [], [pn.pane.Markdown("first screen")], later=[below, slider])
        later = _later_column(built)
        assert later.objects == [] and PENDING_CLASS in later.css_classes and later.min_height > 0
        doc.add_root(built.get_root(doc))
        assert not below._models and not any(isinstance(m, Slider) for m in doc.models)
    try:
        pn.state._on_load(doc)     # what Panel runs when the browser reports the document drawn
        assert later.objects == [below, slider]
        assert PENDING_CLASS not in later.css_classes and later.min_height is None
        assert below._models and any(isinstance(m, Slider) and m.title == "Batch size" for m in doc.models)
    finally:
        for registry in (pn.state._loaded, pn.state._onload):
            registry.pop(doc, None)
