"""A page made of views: the full explorable, and each of its sections served alone.

A page class that mixes in :class:`Sectioned` declares its views (``VIEWS``, a tuple of
:class:`deeptricks.ui.views.View`) and supplies two things: ``controls_by_name()``, the
sidebar's controls keyed by the state parameter they set, and ``section(name)``, the
objects of one section. :meth:`Sectioned.layout` assembles the full page from every
section in order. :meth:`Sectioned.view` assembles one section alone, with only the
controls that move it. Both go through the same two methods, so the page and its views
cannot drift apart.
"""

from __future__ import annotations

import urllib.parse

import panel as pn

from deeptricks.ui import page as page_template, section_title, teacher, url_sync
from deeptricks.ui.urlsync import embed_session_args
from deeptricks.ui.views import View, ViewFooter, on_page, view_template

_OFF = {"0", "false", "no", "off"}
VIEW_KEYS = ("view", "caption", *teacher.KEYS)
"""Keys of a view's link that are about the view itself, not the page's settings."""


FOCUS_CSS = """
:host(.dt-focus) .dt-section-title { background: #fff1d0; box-shadow: inset 0 0 0 2px #E69F00;
  border-radius: 4px; padding-right: 10px; transition: background-color 0.3s; }
:host(.dt-focus) .dt-section-title::after { content: "  ← the guided path's figure"; font-weight: 400;
  font-size: 13px; color: #8a5a00; }
"""


def query_value(key: str) -> str | None:
    """The raw value of ``key`` in the current session's link (or script tag's arguments), if any."""
    args = embed_session_args()
    if args is not None:
        raw = args.get(key)
        return raw[0].decode("utf-8", "replace") if raw else None
    loc = pn.state.location if pn.state.curdoc is not None and pn.state.curdoc.session_context else None
    if loc is None:
        return None
    values = urllib.parse.parse_qs((loc.search or "").lstrip("?")).get(key)
    return values[0] if values else None


def full_page_href(slug: str) -> str | None:
    """Where "open the full explorable" points from a view of ``slug``, without the query.

    In a script-tag embed: the app server's absolute URL (the course page's own address
    would be wrong). In a page or iframe: the view's own path, one level up. Outside a
    server (tests, notebooks): ``None``, no link."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return None
    if embed_session_args() is not None:
        base = pn.state.rel_path or ""
        return f"{base}/{slug}" if base.startswith(("http://", "https://")) else None
    path = (pn.state.location.pathname or "").rstrip("/")     # /<prefix>/<slug>/<view>
    head = path.rpartition("/")[0]
    return head if head.rpartition("/")[2] == slug else path   # else served as /<slug>?view=...


class Sectioned:
    """Mixin for an explorable's page class (see the module's docstring).

    The class sets ``SLUG``, ``TITLE``, ``INTRO``, ``VIEWS`` and ``URL_PARAMS``; the
    instance has ``state``."""

    SLUG: str
    TITLE: str
    INTRO: str
    MORE: str = ""
    """The rest of the introduction, behind a "more about this page" disclosure."""
    VIEWS: tuple[View, ...]
    URL_PARAMS: dict
    NOTES_BELOW_CONTROLS: tuple = ()
    PATH: tuple = ()
    """The guided path's steps (:class:`deeptricks.explorables.guide.Step`), if the page has one."""
    LEADING: tuple = ()
    """Controls a step's "Show me" sets before the others (one that resets the rest, like a preset)."""
    alone: str | None = None
    """The view this page object was built for, or None for the full page (see :meth:`shows`)."""

    # -- what a page supplies -------------------------------------------------
    def controls_by_name(self) -> dict[str, object]:
        """The sidebar's controls in order, each keyed by the state parameter it sets
        (keys starting with ``_`` are notes, shown on the page only)."""
        raise NotImplementedError

    def section(self, name: str) -> list:
        """The objects of section ``name`` (wrap page-only ones in ``ui.views.PageOnly``)."""
        raise NotImplementedError

    def shows(self, name: str) -> bool:
        """Whether section ``name`` is on screen: every section on the full page, only its own in
        a view. A page's updates skip the figures of the sections a view does not show, so a move
        in a view costs what that view's figures cost."""
        return self.alone is None or self.alone == name

    def beside(self, name: str, control):
        """``control``, drawn beside its figure rather than in the sidebar, for state parameter
        ``name``: registered so that a teacher's ``hide=`` and ``lock=`` reach it too."""
        self.__dict__.setdefault("_beside", {})[name] = control
        return control

    def teacher_note(self, controls: dict) -> pn.pane.Alert:
        """Apply the link's ``hide=`` and ``lock=`` (:mod:`deeptricks.ui.teacher`) to ``controls``
        and to the controls drawn beside the figures (:meth:`beside`; build the sections first);
        the alert lists names the page does not have."""
        return teacher.note({**self.__dict__.get("_beside", {}), **controls}, self.URL_PARAMS,
                            hide=query_value("hide"), lock=query_value("lock"))

    def page_notes(self) -> list:
        """Notes above the main area besides the link's (none by default)."""
        return []

    # -- assembled ------------------------------------------------------------
    @classmethod
    def view_named(cls, name: str) -> View:
        for v in cls.VIEWS:
            if v.name == name:
                return v
        raise KeyError(f"{cls.SLUG} has no view {name!r}; its views: {', '.join(v.name for v in cls.VIEWS)}")

    def _sync(self):
        return url_sync(self.state, self.URL_PARAMS)

    def layout(self, *, guide: bool = True) -> pn.Column:
        """The full page: every section in order, the sidebar with every control, and (with
        ``guide`` and a ``PATH``) the guided path's step card above them."""
        sync = self._sync()
        main, later = [], []
        self._sections = {}
        for v in self.VIEWS:
            title = section_title(v.title, v.color, name=f"{self.SLUG}-{v.name}-title".replace("_", "-"),
                                  stylesheets=(FOCUS_CSS,))
            self._sections[v.name] = title
            objects = [title, *on_page(self.section(v.name))]
            (main if v.first_screen else later).extend(objects)
        controls = self.controls_by_name()
        sidebar = list(controls.values())
        notes = [sync, self.teacher_note(controls), *self.page_notes()]
        card = None
        if guide and self.PATH:
            from .guide import GuidedPath

            self.guide = GuidedPath(self, self.PATH)
            card, notes = self.guide.card, [*notes, self.guide.sync]
        return page_template(self.TITLE, self.INTRO, sidebar, main, later=later or None, more=self.MORE,
                             notes=notes, name=self.SLUG.replace("_", "-"), guide=card)

    def highlight(self, name: str | None) -> None:
        """Mark section ``name``'s heading as the one the guided path is about (None: no mark)."""
        for key, title in getattr(self, "_sections", {}).items():
            classes = ["dt-focus"] if key == name else []
            if title.css_classes != classes:
                title.css_classes = classes

    def facts(self) -> dict:
        """The numbers the guided path's texts quote, for the current controls."""
        return {}

    def first_step(self) -> int:
        """The step a link without ``?step=`` opens at."""
        return 1

    def view(self, name: str, *, caption: bool | None = None, link: str | None = None) -> pn.Column:
        """Section ``name`` alone, with the controls that move it (``caption``: show the
        view's sentence; by default unless the link says ``caption=0``; ``link``: a fixed
        address for "open the full explorable", e.g. an exported page's, instead of the
        served page in the view's current settings)."""
        v = self.view_named(name)
        if v.query:
            self.state.param.update(**v.query)
        sync = self._sync()
        if caption is None:
            caption = (query_value("caption") or "").lower() not in _OFF
        self.alone = name
        self.prepare_view(name)
        controls = self.controls_by_name()
        section = self.section(name)                 # before the link's hide=/lock=: it may draw controls
        teacher_alert = self.teacher_note(controls)
        self._view_controls = {c: controls[c] for c in v.controls}
        shown = list(self._view_controls.values())
        tag = f"{self.SLUG}-{name}".replace("_", "-")
        footer = ViewFooter(v.caption if caption else "", self.TITLE, name=f"{tag}-foot")
        href = full_page_href(self.SLUG) if link is None else None
        if link is not None:
            footer.set_link(link)
        elif href is not None:
            def follow(*_):
                pairs = urllib.parse.parse_qsl(sync.query_string().lstrip("?"), keep_blank_values=True)
                query = urllib.parse.urlencode([(k, v) for k, v in pairs if k not in VIEW_KEYS])
                footer.set_link(href + (f"?{query}" if query else ""))

            follow()
            self.state.param.watch(follow, list(self.URL_PARAMS))
        return view_template(v, shown, section, footer=footer,
                             notes=[sync, teacher_alert, *self.page_notes()], name=tag)

    def prepare_view(self, name: str) -> None:
        """Adjust figures for view ``name`` alone before it is assembled (compact sizes);
        nothing by default."""
