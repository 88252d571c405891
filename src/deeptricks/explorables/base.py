"""What every explorable page shares: coalesced updates and the page skeleton."""

from __future__ import annotations

from functools import partial
from typing import Callable

import panel as pn
from panel.io.state import set_curdoc


class Coalesced:
    """Call ``fn`` once per server tick however many changes arrive in that tick.

    During a fast drag several slider events can arrive before the server has
    drawn the first; each marks the page dirty, and one update then runs with
    the latest values, so stale intermediate states are never computed. Outside
    a server (tests, notebooks) the update runs at once.

    With ``with_changes=True`` ``fn`` receives the set of parameter names that
    changed since its last run, so a page recomputes only the views they affect.
    """

    def __init__(self, fn: Callable[..., None], *, with_changes: bool = False):
        self.fn = fn
        self.with_changes = with_changes
        self.changed: set[str] = set()
        self.pending = False

    def __call__(self, *events) -> None:
        self.changed.update(e.name for e in events if getattr(e, "name", None))
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._flush()
            return
        if self.pending:
            return
        self.pending = True
        doc.add_next_tick_callback(partial(self._run, doc))

    def _run(self, doc) -> None:
        self.pending = False
        with set_curdoc(doc), pn.io.hold(doc):
            self._flush()

    def _flush(self) -> None:
        changed, self.changed = self.changed, set()
        if self.with_changes:
            self.fn(changed)
        else:
            self.fn()


def caption(text: str, **kwargs) -> pn.pane.Markdown:
    """A short explanatory paragraph under a plot."""
    return pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(0, 8, 6, 8),
                            styles={"color": "#3d444d", "font-size": "14px"}, disable_math=True,
                            **kwargs)
