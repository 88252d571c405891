"""Names and states for screen readers on the controls Bokeh draws without them.

Bokeh 3.9 renders a slider's handle (``role="slider"``), a checkbox and the
buttons of a button group without an accessible name or state: a screen
reader announces "slider" or "checkbox", not "Dropout rate p, 0.5". The page
template adds :data:`A11Y_JS` to each session's document; when the page is
ready, a few times in the seconds after, and whenever a layout's children
change (controls built later) it gives

* each slider handle ``aria-label`` = the slider's title (for Panel's
  ``DiscreteSlider``, the text above it, and ``aria-valuetext`` = the value shown;
  for a slider whose title formats its value in the browser, such as a
  :func:`~deeptricks.ui.controls.choice_slider`, ``aria-valuetext`` = the value
  the title shows),
* each checkbox ``aria-label`` = its label,
* each button group ``role="group"`` with ``aria-label`` = its name (see
  :class:`RadioButtonGroup`) and each of its buttons ``aria-pressed``,
* each toggle button ``aria-pressed``,

and keeps the pressed states in step with the models. Keyboard use needs
nothing extra: every one of these controls takes focus with Tab, and the
sliders move with the arrow keys.
"""

from __future__ import annotations

import panel as pn
from bokeh.models import CustomJS


class RadioButtonGroup(pn.widgets.RadioButtonGroup):
    """Panel's button group, with its ``name`` passed to the Bokeh model as the group's label."""

    _rename = {**pn.widgets.RadioButtonGroup._rename, "name": "name"}


A11Y_JS = r"""
const labelled = new WeakSet();
function root_of(view) { return view.shadow_el ?? view.el.shadowRoot ?? view.el; }
function label_view(view) {
  const m = view.model;
  if (m == null || view.el == null) return;
  const root = root_of(view);
  const type = m.type.split(".").pop();          // Panel's own models are namespaced
  if ("step" in m.properties && "title" in m.properties) {            // sliders
    const handles = root.querySelectorAll(".noUi-handle");
    if (m.title) {
      handles.forEach((h) => h.setAttribute("aria-label", m.title));
      if (m.format?.type == "CustomJSTickFormatter") {
        // the title shows a value computed in the browser (an option of ui.controls.choice_slider,
        // whose handle moves over indices; the residual page's scale, whose handle moves in log10):
        // say what the title shows, not the handle's own number
        const sync = () => {
          const shown = root.querySelector(".bk-slider-value")?.textContent;
          if (shown) handles.forEach((h) => h.setAttribute("aria-valuetext", shown.trim()));
        };
        sync();
        if (!labelled.has(m)) m.properties.value.change.connect(() => setTimeout(sync, 0));
      }
    } else {
      // Panel's DiscreteSlider: an untitled index slider under a text "Label: <b>value</b>"
      const sibs = view.parent?.model?.children ?? [];
      const text_model = sibs[sibs.indexOf(m) - 1];
      const sync = () => {
        const div = document.createElement("div");
        div.innerHTML = String(text_model?.text ?? text_model?.value ?? "");
        const [name, ...rest] = div.textContent.split(":");
        handles.forEach((h) => {
          if (name.trim()) h.setAttribute("aria-label", name.trim());
          if (rest.length) h.setAttribute("aria-valuetext", rest.join(":").trim());
        });
      };
      sync();
      if (!labelled.has(m) && text_model != null) {
        for (const p of ["text", "value"]) if (p in text_model.properties) text_model.properties[p].change.connect(sync);
      }
    }
  } else if (type == "Checkbox" || type == "Switch") {
    for (const input of root.querySelectorAll("input")) {
      if (m.label) input.setAttribute("aria-label", m.label);
    }
  } else if (type == "RadioButtonGroup" || type == "CheckboxButtonGroup") {
    const group = root.querySelector(".bk-btn-group") ?? root;
    group.setAttribute("role", "group");
    if (m.name) group.setAttribute("aria-label", m.name);
    const sync = () => {
      const active = type == "RadioButtonGroup" ? [m.active] : m.active;
      root.querySelectorAll("button").forEach((b, i) =>
        b.setAttribute("aria-pressed", String(active.includes(i))));
    };
    sync();
    if (!labelled.has(m)) m.properties.active.change.connect(sync);
  } else if (type == "Toggle") {
    const sync = () => root.querySelectorAll("button").forEach(
      (b) => b.setAttribute("aria-pressed", String(Boolean(m.active))));
    sync();
    if (!labelled.has(m)) m.properties.active.change.connect(sync);
  } else {
    return;
  }
  labelled.add(m);
}
function label_all() {
  if (typeof Bokeh === "undefined" || Bokeh.index == null) return;
  for (const view of Bokeh.index.query(() => true)) {
    try { label_view(view); } catch (e) { /* a view without a DOM yet */ }
  }
}
label_all();
for (const ms of [100, 500, 1500, 4000]) setTimeout(label_all, ms);
// Controls made later (a layout's children change: the lab builds net B's on first use) are
// named as their views appear.
window._dt_a11y_docs ??= new WeakSet();
for (const doc of Bokeh.documents ?? []) {
  if (window._dt_a11y_docs.has(doc)) continue;
  window._dt_a11y_docs.add(doc);
  let again = null;
  doc.on_change((event) => {
    if (event.attr != "children" || again != null) return;
    again = setTimeout(() => { again = null; label_all(); setTimeout(label_all, 500); }, 100);
  });
}
"""


def enable_accessibility() -> None:
    """Add :data:`A11Y_JS` to the current session's document (no-op outside a server session)."""
    doc = pn.state.curdoc
    if doc is None or getattr(doc, "session_context", None) is None:
        return
    if getattr(doc, "_dt_a11y", False):
        return
    doc.js_on_event("document_ready", CustomJS(code=A11Y_JS))
    doc._dt_a11y = True
