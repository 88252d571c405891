"""Pacing live updates to what the learner's browser can draw.

A page that trains live pushes an update every tick (new curve points, a redrawn
boundary). A fast laptop draws ten a second; a phone, or a browser without a GPU,
may draw three. Without pacing the server keeps sending ten, the browser's queue of
unapplied updates grows, and everything the learner does waits behind it: a click on
"Next" answered after ten seconds.

:class:`Pacer` keeps at most one update in flight. The page calls :meth:`Pacer.ready`
before it pushes and :meth:`Pacer.sent` after; the browser answers each update once it
has applied it and reached its next animation frame. Until then the page goes on
training and simply sends the points it gathered with the next update. A browser that
never answers (a view without the pacer, an old tab) gets an update every
``max_wait`` seconds; outside a server (tests, notebooks) every push goes through.
"""

from __future__ import annotations

import time

import param
from panel.custom import JSComponent

_ESM = r"""
export function render({ model }) {
  const answer = () => {
    const n = model.seq;
    // applied now; answered once the browser gets to draw a frame (it cannot while it is busy)
    requestAnimationFrame(() => setTimeout(() => model.send_msg({ drawn: n }), 0));
  };
  model.on("seq", answer);
  const e = document.createElement("span");
  e.style.display = "none";
  e.setAttribute("aria-hidden", "true");
  return e;
}
"""


class Pacer(JSComponent):
    """At most one live update in flight (see the module)."""

    seq = param.Integer(0, doc="Number of the last update sent (set by the server).")

    _esm = _ESM

    def __init__(self, *, max_wait: float = 1.0, **params):
        params.setdefault("width", 0)
        params.setdefault("height", 0)
        params.setdefault("margin", 0)
        super().__init__(**params)
        self.max_wait = float(max_wait)
        self.drawn = 0                     # the last update the browser answered
        self._sent_at = 0.0
        self.skipped = 0                   # pushes held back so far (for benchmarks and tests)

    def _handle_msg(self, msg) -> None:
        n = msg.get("drawn") if isinstance(msg, dict) else None
        if isinstance(n, int) and not isinstance(n, bool) and self.drawn <= n <= self.seq:
            self.drawn = n

    @property
    def shown(self) -> bool:
        """True when the pacer is on a page in some browser (it has a Bokeh model)."""
        return bool(self._models)

    def ready(self, now: float | None = None) -> bool:
        """May the page push an update now?"""
        if not self.shown or self.drawn >= self.seq:
            return True
        now = time.monotonic() if now is None else now
        if now - self._sent_at >= self.max_wait:
            return True
        self.skipped += 1
        return False

    def sent(self, now: float | None = None) -> None:
        """Call right after a pushed update (inside the same ``hold``, last): the browser answers it."""
        if not self.shown:
            return
        self._sent_at = time.monotonic() if now is None else now
        self.seq += 1
