"""Page template and side-by-side layout shared by the explorables."""

from __future__ import annotations

import re
from html import escape

import panel as pn
from panel.models.markup import HTML as _PanelHTML
from panel.viewable import Viewer

from . import theme
from .a11y import enable_accessibility

_MARKDOWN_CSS = """
:host { font-size: 15px; line-height: 1.55; color: #1f2328; }
h1 { font-size: 26px; line-height: 1.25; margin: 4px 0 6px 0; }
p { margin: 0 0 8px 0; max-width: 72ch; }
details.dt-more { margin: -4px 0 6px 0; max-width: 72ch; font-size: 14px; color: #3d444d; }
details.dt-more summary { cursor: pointer; color: #0072B2; width: fit-content; }
details.dt-more p { margin: 4px 0 0 0; }
"""

_CONTROLS_CSS = """
:host { background: #f6f8fa; border-radius: 8px; padding: 4px 6px 10px 6px; }
"""


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def section_title(text: str, color: str | None = None, *, name: str | None = None,
                  stylesheets: tuple = ()) -> pn.pane.HTML:
    """A small heading, with an optional colour bar on its left that ties it to a series."""
    style = f' style="border-left-color:{color}"' if color else ""
    extra = {"name": name} if name else {}
    return pn.pane.HTML(f'<div class="dt-section-title"{style}>{escape(text)}</div>',
                        sizing_mode="stretch_width", margin=(4, 5, 0, 5),
                        stylesheets=[theme.stylesheet(), *stylesheets], **extra)


def control_label(text: str) -> pn.pane.Markdown:
    """A visible label above a control that has none of its own (button groups, radio boxes)."""
    return pn.pane.Markdown(f"**{escape(text)}**", margin=(6, 10, -10, 10),
                            styles={"font-size": "14px"}, disable_math=True)


def comparison(left, right, left_title: str, right_title: str, *,
               left_color: str | None = theme.WITHOUT_TRICK,
               right_color: str | None = theme.WITH_TRICK,
               name: str = "comparison") -> pn.FlexBox:
    """Two views side by side with titles; they stack (left above right) on narrow screens."""
    halves = [
        pn.Column(section_title(t, c), obj, css_classes=["dt-half"], sizing_mode="stretch_width",
                  name=f"{name}-{side}")
        for t, c, obj, side in ((left_title, left_color, left, "left"),
                                (right_title, right_color, right, "right"))
    ]
    return pn.FlexBox(*halves, gap="8px 20px", flex_wrap="wrap", sizing_mode="stretch_width",
                      stylesheets=[theme.stylesheet()], name=name)


_LIVE_TEXT_CSS = """
:host { font-size: 15px; line-height: 1.55; color: #1f2328; }
p { margin: 0 0 8px 0; }
"""


class LiveText(Viewer):
    """A paragraph that a page rewrites on every slider move (set ``.object`` to HTML; see
    :func:`strong`).

    It is Panel's own HTML model, used bare: its ``text`` is set directly. A Markdown pane
    costs Panel a Markdown rendering on every change (with twenty learners on the dropout
    page, a fifth of the server's time), and even an HTML pane goes through Panel's parameter
    machinery: 0.8 ms per change against 0.03 ms. (Bokeh's plain ``Div`` is as cheap on the
    server but makes the browser lay the page out again at each change, ~7 ms.)"""

    def __init__(self, name: str, margin=(0, 8, 4, 8), **kwargs):
        super().__init__(name=name)
        self._source = ""
        self.model = _PanelHTML(text="", sizing_mode="stretch_width", stylesheets=[_LIVE_TEXT_CSS],
                                name=name, margin=margin, run_scripts=False, **kwargs)
        self.pane = pn.pane.Bokeh(self.model, sizing_mode="stretch_width", margin=0)

    @staticmethod
    def _to_html(text: str) -> str:
        return text

    @property
    def object(self) -> str:
        return self._source

    @object.setter
    def object(self, text: str) -> None:
        if text != self._source:
            self._source = text
            # the model takes escaped HTML, as Panel's pane sends it
            self.model.text = escape(self._to_html(text))

    def __panel__(self):
        return self.pane


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])")


def inline_markdown(text: str) -> str:
    """The Markdown the pages' live read-outs use, as HTML: ``**bold**``, ``*italic*``,
    ```code```, and paragraphs split by blank lines. Everything else is text (escaped)."""
    out = []
    for para in re.split(r"\n\s*\n", str(text)):
        if para.strip():
            h = escape(para.strip(), quote=False)
            h = _ITALIC.sub(r"<em>\1</em>", _BOLD.sub(r"<strong>\1</strong>", _CODE.sub(r"<code>\1</code>", h)))
            out.append(f"<p>{h}</p>")
    return "".join(out)


class LiveMarkdown(LiveText):
    """A :class:`LiveText` written in the pages' inline Markdown (see :func:`inline_markdown`):
    ``.object`` is the Markdown, the browser gets the HTML. For read-outs that change on
    every slider move, where a Markdown pane would render on the server each time."""

    _to_html = staticmethod(inline_markdown)

    def __init__(self, name: str, margin=(0, 8, 4, 8), font_size: int = 15, **kwargs):
        super().__init__(name, margin=margin, **kwargs)
        if font_size != 15:
            self.model.styles = {"font-size": f"{int(font_size)}px"}


def readout(name: str, *, top: int = 0) -> LiveMarkdown:
    """The live text under a plot, in 14 px (rewritten on every move: see :class:`LiveText`);
    ``top`` is its margin above."""
    return LiveMarkdown(name, margin=(top, 8, 4, 8), font_size=14)


def strong(text: str) -> str:
    """``text`` in bold, HTML-escaped (for :class:`LiveText`)."""
    return f"<strong>{escape(str(text))}</strong>"


def note_alert(name: str = "note", alert_type: str = "warning") -> pn.pane.Alert:
    """A hidden alert for situational notes; show it with :func:`set_note`."""
    return pn.pane.Alert("", alert_type=alert_type, visible=False, name=name,
                         sizing_mode="stretch_width", margin=(4, 5))


def set_note(alert: pn.pane.Alert, message: str | None) -> None:
    """Show ``message`` in ``alert``, or hide the alert when ``message`` is empty."""
    message = message or ""
    if alert.object != message:
        alert.object = message
    if alert.visible != bool(message):
        alert.visible = bool(message)


def page(
    title: str,
    intro_markdown: str,
    controls,
    main,
    *,
    notes=None,
    index_url: str = "./",
    index_label: str = "All explorables",
    footer_text: str = "",
    name: str = "page",
    later=None,
    guide=None,
    more: str = "",
) -> pn.Column:
    """The shared page: header, controls (beside the main area, or above it on phones),
    notes/warnings, the main area and a footer linking back to the index.

    ``controls``, ``main``, ``later`` and ``notes`` may each be one object or a list.
    ``later`` is the rest of the main area, below the first screen: in a server session it
    is sent once the browser has drawn the first screen (see :func:`after_first_render`).
    ``guide``: the guided path's step card, between the header and the controls (on a
    phone it comes before them). ``more``: the rest of the introduction, folded away under
    "More about this page".
    """
    from .views import report_size_to_parent

    enable_accessibility()
    report_size_to_parent()
    css = theme.stylesheet()
    controls = _as_list(controls)
    for w in controls:  # widgets without an explicit width fill the sidebar (or the phone)
        if (isinstance(w, pn.widgets.Widget) and w.sizing_mode is None
                and w.width in (None, type(w).width)):
            w.sizing_mode = "stretch_width"
    fold = (f'\n\n<details class="dt-more"><summary>More about this page</summary>'
            f'{inline_markdown(more)}</details>' if more else "")
    header = pn.pane.Markdown(f"# {title}\n\n{intro_markdown}{fold}", sizing_mode="stretch_width",
                              stylesheets=[_MARKDOWN_CSS], name=f"{name}-header",
                              margin=(0, 5), disable_math=True)
    controls_col = pn.Column(*controls, css_classes=["dt-controls"],
                             sizing_mode="stretch_width", stylesheets=[_CONTROLS_CSS],
                             name=f"{name}-controls")
    notes_col = pn.Column(*_as_list(notes), sizing_mode="stretch_width", name=f"{name}-notes",
                          margin=0)
    main = _as_list(main)
    if later:
        main.append(after_first_render(_as_list(later), name=f"{name}-later"))
    main_col = pn.Column(notes_col, *main, css_classes=["dt-main"],
                         sizing_mode="stretch_width", name=f"{name}-main", margin=0)
    body = pn.FlexBox(controls_col, main_col, gap="12px 20px", flex_wrap="wrap",
                      align_items="flex-start", sizing_mode="stretch_width",
                      stylesheets=[css], name=f"{name}-body")
    extra = f" &nbsp;\u00b7&nbsp; {escape(footer_text)}" if footer_text else ""
    footer = pn.pane.HTML(
        f'<div class="dt-footer"><a href="{escape(index_url, quote=True)}">'
        f'\u2190 {escape(index_label)}</a>{extra}</div>',
        sizing_mode="stretch_width", stylesheets=[css], name=f"{name}-footer", margin=(16, 5, 8, 5),
    )
    top = [header] if guide is None else [header, guide]
    root = pn.Column(*top, body, footer, sizing_mode="stretch_width", name=name,
                     styles={"max-width": "1280px", "margin": "0 auto"}, stylesheets=[css])
    return root


PENDING_CLASS = "dt-pending"
"""CSS class of a section still waiting to be sent (tests wait until none is left)."""

# A placeholder drawn by CSS alone: Panel's loading spinner is an image on the app server,
# which a course page on another origin is not allowed to load.
_PENDING_CSS = """
:host(.dt-pending)::before {
  content: "Loading the rest of the page…"; display: block; padding: 28px 12px;
  color: #57606a; font-size: 14px; border-radius: 8px;
  background: linear-gradient(90deg, #f6f8fa 30%, #e8ecf0 50%, #f6f8fa 70%) 0 0 / 300% 100%;
  animation: dt-pending 1.4s linear infinite;
}
@keyframes dt-pending { from { background-position: 100% 0; } to { background-position: 0 0; } }
"""


def after_first_render(items: list, *, name: str = "later", min_height: int = 400) -> pn.Column:
    """A column that receives ``items`` once the browser has drawn the page's first screen.

    Everything in a page's first document is built, sent, unpacked and drawn before the
    learner sees anything, and the sections below the first screen are about half of
    that work (on the dropout page 160 of 235 Bokeh models: 0.5 s of a 1.6 s page load).
    So in a server session this column starts empty, showing "Loading the rest of the
    page…" over a minimum height (the footer does not jump), and Panel's ``onload``, which
    runs when the browser reports the document drawn, puts ``items`` in it: the server then
    builds their models and sends them as one update. Outside a server session (a static
    export, a test) the column is filled at once.

    The ``items`` exist from the start, and the page updates them as usual; only their
    Bokeh models wait.
    """
    col = pn.Column(sizing_mode="stretch_width", margin=0, name=name, css_classes=[PENDING_CLASS],
                    min_height=min_height, stylesheets=[_PENDING_CSS])

    def fill() -> None:
        col.param.update(objects=list(items), css_classes=[], min_height=None)

    pn.state.onload(fill)
    return col
