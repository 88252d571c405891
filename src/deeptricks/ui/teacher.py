"""Teacher links: ``hide=`` and ``lock=`` strip a page or a view down for a lesson.

``/lab?preset=dropout&hide=depth,width,optimizer&lock=lr`` shows the lab without its depth,
width and optimizer controls and with the learning rate greyed out. The names are the keys
the page's own links use (``p`` on the dropout page, ``depth`` in the lab; the state
parameter's name works too). Both stay in the address while the learner moves the other
controls, so a reload keeps them. A locked control cannot be moved from the page, and the
server refuses a change to it from the browser (``deeptricks.server.guard``), so a learner
cannot move it by hand either; the page itself still can (a guided path's "Show me" moves a
locked control, which is the teacher's choice).

A name the page does not know is listed in a note above the page, so a typo in a lesson's
link shows at once.
"""

from __future__ import annotations

from collections.abc import Mapping

import panel as pn

from .layout import note_alert, set_note

KEYS = ("hide", "lock")


def parse_names(raw: str | None) -> list[str]:
    """``"depth, width,,optimizer"`` -> ``["depth", "width", "optimizer"]`` (order kept, no repeats)."""
    if not raw:
        return []
    return list(dict.fromkeys(n.strip() for n in str(raw).split(",") if n.strip()))[:64]


def apply(controls: Mapping[str, object], url_params: Mapping[str, str], *, hide: str | None,
          lock: str | None) -> list[str]:
    """Hide and lock the named controls (``controls``: state parameter -> control, as a page's
    ``controls_by_name()``; ``url_params``: state parameter -> link key). Returns the notes on
    names the page does not have (empty when every name was found)."""
    by_key = {key: name for name, key in url_params.items()}
    notes = []
    for what, raw in (("hide", hide), ("lock", lock)):
        unknown = []
        for n in parse_names(raw):
            name = by_key.get(n, n)
            control = controls.get(name) if not name.startswith("_") else None
            if control is None:
                unknown.append(n)
                continue
            if what == "hide":
                control.visible = False
            else:
                for w in control.select(pn.widgets.Widget):     # the widget, or those of a column
                    w.disabled = True
        if unknown:
            known = ", ".join(url_params[n] for n in controls if n in url_params)
            notes.append(f"`{what}=`: this page has no control named {', '.join(f'`{u}`' for u in unknown)} "
                         f"(its controls: {known}).")
    return notes


def note(controls: Mapping[str, object], url_params: Mapping[str, str], *, hide: str | None,
         lock: str | None) -> pn.pane.Alert:
    """:func:`apply`, and an alert above the page with its notes (hidden when there are none)."""
    alert = note_alert("teacher-link-note")
    set_note(alert, "\n\n".join(apply(controls, url_params, hide=hide, lock=lock)))
    return alert
