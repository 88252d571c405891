"""Lighter Panel objects: what each Panel pane, widget and layout holds per session.

1. Panes make their wrapping layout only when something asks for it.

Every Panel pane (``HTML``, ``Markdown``, ``Bokeh``, ``Alert`` ...) builds, as
it is created, a ``Row`` holding itself: ``pane.layout``. Panel uses it when a
pane is shown on its own (``pane.servable()``, ``pn.panel(obj)``, the root of
a document) or indexed like a layout. A pane placed inside a page's columns
never needs it, yet the ``Row`` costs about 10 kB per pane per session, its
parameters watched like any Panel object's (the lab page has 34 panes).

:func:`install` makes ``layout`` a property that builds the same ``Row``,
from the same arguments and in step with the pane's current size and
margins, the first time it is read; it also registers then, and not before,
Panel's watcher that keeps the two in step.

2. One change callback per Bokeh model instead of one per property.

To hear the browser's changes, Panel registers a callback on every property of
every Bokeh model it makes (about twenty per model), and builds a new
``functools.partial`` (with its argument tuple) for each. They are all the same
function with the same arguments, since Bokeh passes the property's name when
it calls. :func:`install` lets the properties of one model share one.

Set ``DEEPTRICKS_LEAN_PANEL=0`` to leave Panel as it is.
"""

from __future__ import annotations

import os
from functools import partial

from panel.pane.base import PaneBase
from panel.reactive import Syncable
from panel.viewable import Layoutable

_ORIGINAL = {name: PaneBase.__dict__[name] for name in ("__init__", "_sync_layoutable")}
_ORIGINAL_LINK = Syncable.__dict__["_link_props"]


def _init(self, object=None, **params) -> None:
    # Panel's PaneBase.__init__ (1.9 and 1.10), except that the layout is left for later
    self._object_changing = False
    super(PaneBase, self).__init__(object=object, **params)
    if not hasattr(self, "_internal_callbacks"):
        self._internal_callbacks = []
    applies = self.applies(self.object, **(params if self._applies_kw else {}))
    if (isinstance(applies, bool) and not applies) and self.object is not None:
        self._type_error(self.object)
    self.__dict__["_dt_layout_kwargs"] = {
        k: v for k, v in params.items() if k in Layoutable.param and k not in self._skip_layoutable}


def _watch_layoutable(self) -> None:
    # the watcher Panel registers at creation, registered once a layout exists
    if not self.__dict__.get("_dt_layout_watched"):
        self.__dict__["_dt_layout_watched"] = True
        self._internal_callbacks.append(self.param.watch(self._sync_layoutable, list(Layoutable.param)))


def _get_layout(self):
    d = self.__dict__
    layout = d.get("_dt_layout")
    if layout is None:
        layout = d["_dt_layout"] = self.default_layout(self, **d.pop("_dt_layout_kwargs", {}))
        _watch_layoutable(self)
        _ORIGINAL["_sync_layoutable"](self)
    return layout


def _set_layout(self, value) -> None:
    # a pane that brings its own layout (Panel's Param pane does): kept in step from now on
    self.__dict__["_dt_layout"] = value
    self.__dict__.pop("_dt_layout_kwargs", None)
    if value is not None:
        _watch_layoutable(self)


def _sync_layoutable(self, *events) -> None:
    if self.__dict__.get("_dt_layout") is not None:
        _ORIGINAL["_sync_layoutable"](self, *events)


def _link_props(self, model, properties, doc, root, comm=None) -> None:
    # Panel's Syncable._link_props (1.9 and 1.10), with one callback per (model, subpath)
    from panel.config import config

    ref = root.ref["id"]
    if config.embed:
        return
    shared: dict = {}
    for p in properties:
        if isinstance(p, tuple):
            _, p = p
        m = model
        if "." in p:
            *parts, p = p.split(".")
            for sp in parts:
                m = getattr(m, sp)
            subpath = ".".join(parts)
        else:
            subpath = None
        cb = shared.get((id(m), subpath))
        if cb is None:
            cb = shared[(id(m), subpath)] = (partial(self._comm_change, doc, ref, comm, subpath) if comm
                                             else partial(self._server_change, doc, ref, subpath))
        m.on_change(p, cb)


def install() -> bool:
    """Make pane layouts lazy (once); ``False`` if switched off or if Panel no longer fits."""
    if os.environ.get("DEEPTRICKS_LEAN_PANEL", "1") == "0":
        return False
    if installed():
        return True
    PaneBase.__init__ = _init
    PaneBase._sync_layoutable = _sync_layoutable
    PaneBase.layout = property(_get_layout, _set_layout, doc="The layout holding the pane, made on first use.")
    Syncable._link_props = _link_props
    if not _works():
        uninstall()
        return False
    return True


def _works() -> bool:
    """A pane still renders, its layout, made late, matches what Panel makes at once, and a
    change from the browser still reaches a widget."""
    try:
        import panel as pn
        from bokeh.document import Document

        pane = pn.pane.HTML("x", width=120, margin=(1, 2))
        if "_dt_layout" in pane.__dict__:
            return False
        pane.width = 150                         # before the layout exists
        layout = pane.layout
        if not (isinstance(layout, pn.Row) and list(layout) == [pane] and layout.width == 154):
            return False
        pane.height = 30                         # after: the watcher keeps them in step
        doc = Document()
        slider = pn.widgets.IntSlider(start=0, end=5)
        root = pn.Column(pn.pane.Markdown("*y*"), slider).get_root(doc)
        slider._models[root.ref["id"]][0].value = 3      # as the browser would
        return layout.height == 32 and len(root.children) == 2 and slider.value == 3
    except Exception:
        return False


def uninstall() -> None:
    """Panel's own behaviour again (for tests); panes made meanwhile keep their layouts."""
    for name, f in _ORIGINAL.items():
        setattr(PaneBase, name, f)
    if "layout" in PaneBase.__dict__:
        del PaneBase.layout
    Syncable._link_props = _ORIGINAL_LINK


def installed() -> bool:
    return PaneBase.__dict__.get("__init__") is _init
