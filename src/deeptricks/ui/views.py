"""Views: one figure of a page with exactly the controls that move it, embeddable alone.

An explorable page is a sequence of sections. Each section is also a **view**, which a
course page can embed on its own beside the sentence it illustrates. It has no page
title, introduction, sidebar or footer: just its controls above the figure, one short
caption, and a small link to the full explorable in the same state.

:class:`View` says what a view is: its name, title and caption, and which of the page's
controls move it. The page supplies the objects. The page and the view are built from
the same definitions, so a view is never a copy of page code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import panel as pn

from . import theme
from .a11y import enable_accessibility


@dataclass(frozen=True)
class View:
    """One embeddable section of an explorable."""

    name: str                         # the route: /<explorable>/<name>
    title: str                        # the section's heading on the page
    summary: str                      # one line for ``deeptricks embed --list``
    caption: str                      # the one sentence the view shows under its figure
    controls: tuple[str, ...] = ()    # the page's controls that move it, in the order shown
    color: str | None = None          # the heading's colour bar on the page
    first_screen: bool = False        # on the page, part of the first screen
    query: dict = field(default_factory=dict)   # settings the view opens with (a preset's view)


class PageOnly:
    """A section's object shown on the full page and left out of its view (a long caption)."""

    def __init__(self, obj):
        self.obj = obj


def on_page(objects) -> list:
    """The section's objects as the full page shows them."""
    return [o.obj if isinstance(o, PageOnly) else o for o in objects]


def in_view(objects) -> list:
    """The section's objects as its view shows them."""
    return [o for o in objects if not isinstance(o, PageOnly)]


_VIEW_CSS = """
:host { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.dt-view-foot { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 2px 16px; }
.dt-view-caption { flex: 1 1 320px; font-size: 14px; line-height: 1.45; color: #3d444d; }
.dt-view-caption p { margin: 0; }
.dt-view-link { flex: 0 0 auto; margin-left: auto; font-size: 13px; white-space: nowrap; }
.dt-view-link a { color: #0072B2; text-decoration: none; }
.dt-view-link a:hover, .dt-view-link a:focus { text-decoration: underline; }
"""

_VIEW_CONTROLS_CSS = """
:host { background: #f6f8fa; border-radius: 8px; padding: 0 4px 4px 4px; }
"""


class ViewFooter:
    """The view's one-sentence caption (optional) and its "open the full explorable" link,
    on one line when they fit (see :meth:`set_link`)."""

    def __init__(self, caption: str, title: str, *, name: str = "view-foot"):
        """``title``: the explorable's, for the link's accessible name."""
        from .layout import inline_markdown

        self.caption_html = f'<div class="dt-view-caption">{inline_markdown(caption)}</div>' if caption else ""
        self.title = title
        self.pane = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[_VIEW_CSS], margin=(2, 8, 4, 8),
                                 name=name)
        self.set_link(None)

    def set_link(self, href: str | None) -> None:
        """Point the link at ``href`` (``None``: no link, e.g. in a notebook)."""
        link = "" if href is None else (
            f'<div class="dt-view-link"><a href="{escape(href, quote=True)}" target="_blank" rel="noopener" '
            f'aria-label="Open the full {escape(self.title, quote=True)} explorable in a new tab">'
            f'Open the full explorable \u2197</a></div>')
        text = f'<div class="dt-view-foot">{self.caption_html}{link}</div>' if (self.caption_html or link) else ""
        if self.pane.object != text:
            self.pane.object = text


SIZE_JS = r"""
// Inside a frame, tell the parent page how tall the view is, whenever that changes
// (frames.js on the parent page sizes the iframe; see deeptricks/assets/embed/frames.js).
if (window.parent !== window && !window.__deeptricksSize) {
  window.__deeptricksSize = true;
  let last = 0;
  const height = () => {
    let bottom = 0;
    const walk = (el) => {
      for (const child of el.children) {
        if (getComputedStyle(child).display === "contents") { walk(child); continue; }
        const r = child.getBoundingClientRect();
        if (r.height > 0) bottom = Math.max(bottom, r.bottom + window.scrollY);
      }
    };
    walk(document.body);
    const style = getComputedStyle(document.body);
    return Math.ceil(bottom + parseFloat(style.marginBottom || "0") + parseFloat(style.paddingBottom || "0"));
  };
  const post = () => {
    const h = height();
    if (h > 0 && Math.abs(h - last) > 1) {
      last = h;
      window.parent.postMessage({type: "deeptricks:size", height: h}, "*");
    }
  };
  const observer = new ResizeObserver(post);
  const watch = () => {
    observer.observe(document.body);
    for (const v of Bokeh.index.query(() => true)) if (v.el instanceof Element) observer.observe(v.el);
  };
  watch(); post();
  for (const ms of [100, 400, 1200, 3000]) setTimeout(() => { watch(); post(); }, ms);
}
"""


def report_size_to_parent() -> None:
    """In a server session, add :data:`SIZE_JS` to the document (once): the view, framed by a
    course page, reports its height so the frame can fit it."""
    from bokeh.models import CustomJS

    doc = pn.state.curdoc
    if doc is None or getattr(doc, "session_context", None) is None or getattr(doc, "_dt_size", False):
        return
    doc.js_on_event("document_ready", CustomJS(code=SIZE_JS))
    doc._dt_size = True


def _control_box(control) -> pn.Column:
    """A control's slot in the view's row of controls, hidden whenever the control is (a
    control shown only for some settings leaves no gap)."""
    groups = control.select(pn.widgets.RadioButtonGroup) if hasattr(control, "select") else []
    # a row of buttons needs its width (about 62 px a button) or it is clipped beside a neighbour
    basis = max([150, *(62 * len(g.options) + 12 for g in groups)])
    box = pn.Column(control, sizing_mode="stretch_width", margin=0, styles={"flex": f"1 1 {basis}px"},
                    visible=control.visible)
    control.param.watch(lambda event: setattr(box, "visible", event.new), "visible")
    return box


def view_template(view: View, controls: list, objects: list, *, footer: ViewFooter | None = None, notes=None,
                  name: str = "view") -> pn.Column:
    """One view alone: notes (links adjusted), its controls above, the figure, the footer
    (caption and link).

    ``controls`` wrap in rows (each at least 150 px wide), so they sit above the figure
    from 320 px to 760 px wide; the view is at most 760 px wide and as tall as its content."""
    enable_accessibility()
    report_size_to_parent()
    css = theme.stylesheet()
    for w in controls:
        if isinstance(w, pn.widgets.Widget) and w.sizing_mode is None:
            w.sizing_mode = "stretch_width"
    items = [pn.Column(*(notes or []), sizing_mode="stretch_width", margin=0, name=f"{name}-notes")]
    if controls:
        boxes = [_control_box(c) for c in controls]
        items.append(pn.FlexBox(*boxes, gap="0 12px", flex_wrap="wrap", sizing_mode="stretch_width",
                                stylesheets=[css, _VIEW_CONTROLS_CSS], name=f"{name}-controls"))
    items.extend(in_view(objects))
    if footer is not None:
        items.append(footer.pane)
    return pn.Column(*items, sizing_mode="stretch_width", name=name, css_classes=["dt-view"],
                     styles={"max-width": "760px"}, stylesheets=[css])
