"""Panel panes make their wrapping layout only when something asks for it.

Every Panel pane (``HTML``, ``Markdown``, ``Bokeh``, ``Alert`` ...) builds, as
it is created, a ``Row`` holding itself: ``pane.layout``. Panel uses it when a
pane is shown on its own (``pane.servable()``, ``pn.panel(obj)``, the root of
a document) or indexed like a layout. A pane placed inside a page's columns
never needs it, yet the ``Row`` costs about 10 kB per pane per session, its
parameters watched like any Panel object's (the lab page has 34 panes).

:func:`install` makes ``layout`` a property that builds the same ``Row``,
from the same arguments and in step with the pane's current size and
margins, the first time it is read; it also registers then, and not before,
Panel's watcher that keeps the two in step. Set ``DEEPTRICKS_LEAN_PANEL=0`` to
leave Panel as it is.
"""

from __future__ import annotations

import os

from panel.pane.base import PaneBase
from panel.viewable import Layoutable

_ORIGINAL = {name: PaneBase.__dict__[name] for name in ("__init__", "_sync_layoutable")}


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


def _get_layout(self):
    d = self.__dict__
    layout = d.get("_dt_layout")
    if layout is None:
        layout = d["_dt_layout"] = self.default_layout(self, **d.pop("_dt_layout_kwargs", {}))
        self._internal_callbacks.append(self.param.watch(self._sync_layoutable, list(Layoutable.param)))
        _ORIGINAL["_sync_layoutable"](self)
    return layout


def _set_layout(self, value) -> None:
    self.__dict__["_dt_layout"] = value
    self.__dict__.pop("_dt_layout_kwargs", None)


def _sync_layoutable(self, *events) -> None:
    if self.__dict__.get("_dt_layout") is not None:
        _ORIGINAL["_sync_layoutable"](self, *events)


def install() -> bool:
    """Make pane layouts lazy (once); ``False`` if switched off or if Panel no longer fits."""
    if os.environ.get("DEEPTRICKS_LEAN_PANEL", "1") == "0":
        return False
    if installed():
        return True
    PaneBase.__init__ = _init
    PaneBase._sync_layoutable = _sync_layoutable
    PaneBase.layout = property(_get_layout, _set_layout, doc="The layout holding the pane, made on first use.")
    if not _works():
        uninstall()
        return False
    return True


def _works() -> bool:
    """A pane still renders, and its layout, made late, matches what Panel makes at once."""
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
        root = pn.Column(pn.pane.Markdown("*y*")).get_root(doc)
        return layout.height == 32 and len(root.children) == 1
    except Exception:
        return False


def uninstall() -> None:
    """Panel's own behaviour again (for tests); panes made meanwhile keep their layouts."""
    for name, f in _ORIGINAL.items():
        setattr(PaneBase, name, f)
    if "layout" in PaneBase.__dict__:
        del PaneBase.layout


def installed() -> bool:
    return PaneBase.__dict__.get("__init__") is _init
