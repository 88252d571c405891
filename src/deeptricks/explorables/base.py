"""What the explorable pages use to update: coalesced updates, prefetching of the next
setting, and captions."""

from __future__ import annotations

import logging
import re
import os
import weakref
from functools import partial
from typing import Callable, Sequence

import panel as pn
import param
import tornado.ioloop
from panel.io.state import set_curdoc

from deeptricks.ui.urlsync import flush_url_writes

log = logging.getLogger(__name__)


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
        Coalesced.waiting.add(self)
        doc.add_next_tick_callback(partial(self._run, doc))

    waiting: "weakref.WeakSet[Coalesced]" = weakref.WeakSet()
    """Updates scheduled and not yet run, all sessions of the process (see :class:`Prefetcher`);
    weak, so an update left pending by a closed session does not count once the page is freed."""

    def _run(self, doc) -> None:
        self.pending = False
        Coalesced.waiting.discard(self)
        with set_curdoc(doc), pn.io.hold(doc):
            self._flush()
            flush_url_writes(doc)           # the address bar travels in the same message

    def _flush(self) -> None:
        changed, self.changed = self.changed, set()
        if self.with_changes:
            self.fn(changed)
        else:
            self.fn()


class Prefetcher:
    """Compute, while the server is idle, the settings a learner will most likely ask for next.

    A learner steps a slider with the arrow keys or drags it slowly: the next
    value is one step either side of the current one, most likely in the
    direction it was last moved. After each page update this schedules
    ``warm(values)`` for those neighbours, one at a time, ``delay_ms`` after
    the update (time for the browser to draw it: on a small machine the two
    share the cores). ``warm`` only fills the page's view caches
    (:class:`~deeptricks.explorables.shared.ViewCache`), so when the learner
    does move there the page answers from the cache.

    It never delays a learner: a neighbour is skipped when that session has
    moved on, and all prefetching waits while any session of the process has
    an update waiting (a class on one server keeps the CPU for real requests).
    Outside a server (tests, notebooks) :meth:`schedule` does nothing;
    :meth:`neighbours` says what it would compute. ``DEEPTRICKS_VIEW_CACHE=0``
    (no caches to fill) turns it off too.
    """

    #: (state class, control) whose whole range this process has queued (see ``ranges``)
    _ranges_queued: set = set()

    def __init__(self, state: param.Parameterized, warm: Callable[[dict], None], controls: Sequence[str], *,
                 delay_ms: int = 60, ranges: Sequence[str] = ()):
        """``ranges``: controls whose every value, the others at their defaults, the process
        computes once in the background after its first session of the page, so that a jump
        anywhere on them (a click on the track, a link, a course page's view) is answered
        from the cache too. Off unless ``DEEPTRICKS_RANGE_WARMUP=1``: on Panel 1.10 a session
        closed right after a move then stays alive (tests/test_sessions.py)."""
        self.state, self.warm = state, warm
        self.delay_ms = int(delay_ms)
        self.ranges = tuple(ranges) if os.environ.get("DEEPTRICKS_RANGE_WARMUP", "0") == "1" else ()
        self.last: str | None = None        # the control moved last...
        self.direction = 1                  # ...and which way
        self.generation = 0                 # bumped by every move: queued work for an older one is dropped
        self.done = 0                       # neighbours computed (for tests and benchmarks)
        self.enabled = os.environ.get("DEEPTRICKS_VIEW_CACHE", "1") != "0"
        state.param.watch(self._moved, list(controls))

    def _moved(self, *events) -> None:
        self.generation += 1
        if len(events) != 1:                 # several controls at once (a preset, the URL): no trend
            self.last = None
            return
        event = events[0]
        self.last = event.name
        try:
            self.direction = 1 if event.new >= event.old else -1
        except TypeError:
            self.direction = 1

    def step(self, name: str) -> float | None:
        """The slider step of control ``name`` (``None``: not a stepped number)."""
        p = self.state.param[name]
        if isinstance(p, param.Integer):
            return 1
        if isinstance(p, param.Number) and p.step:
            return p.step
        return None

    def neighbours(self) -> list[dict]:
        """The settings to compute next: the last moved control one step further the same way,
        then one step back (each only within its bounds)."""
        name = self.last
        if name is None or (step := self.step(name)) is None:
            return []
        p = self.state.param[name]
        value = getattr(self.state, name)
        lo, hi = p.bounds if p.bounds else (None, None)
        out = []
        for d in (self.direction, -self.direction):
            v = self._snap(p, value + d * step)
            if (lo is None or v >= lo) and (hi is None or v <= hi):
                values = {c: getattr(self.state, c) for c in self.state.param if c != "name"}
                values[name] = v
                out.append(values)
        return out

    def range_values(self, name: str) -> list[dict]:
        """Every value of control ``name`` on its slider's steps, the other controls at their
        defaults (the settings a link or a click on the track is most likely to ask for)."""
        p = self.state.param[name]
        step = self.step(name)
        if step is None or not p.bounds or None in p.bounds:
            return []
        lo, hi = p.bounds
        n = int(round((hi - lo) / step))
        defaults = {c: self.state.param[c].default for c in self.state.param if c != "name"}
        out = []
        for i in range(n + 1):
            out.append({**defaults, name: self._snap(p, lo + i * step)})
        return out

    @staticmethod
    def _snap(p: param.Parameter, v: float):
        """``v`` rounded as the slider of parameter ``p`` rounds it."""
        return int(v) if isinstance(p, param.Integer) else round(v, 10)

    def schedule(self) -> None:
        """Queue the neighbours of the current setting (call at the end of a page update), and
        the first time in this process, the whole range of the ``ranges`` controls."""
        doc = pn.state.curdoc
        if not self.enabled or doc is None or doc.session_context is None:
            return
        todo = self.neighbours()
        if todo:
            doc.add_timeout_callback(partial(self._run, doc, self.generation, todo), self.delay_ms)
        for name in self.ranges:
            key = (type(self.state), name)
            if key not in Prefetcher._ranges_queued:
                Prefetcher._ranges_queued.add(key)
                loop = tornado.ioloop.IOLoop.current()
                loop.call_later(0.5, partial(Prefetcher._step_range, weakref.ref(self), key, loop,
                                             self.range_values(name)))

    def _run_range(self, loop, todo: list[dict]) -> None:
        """Warm ``todo``, one setting per idle turn of ``loop`` (see :meth:`_step_range`)."""
        Prefetcher._step_range(weakref.ref(self), None, loop, todo)

    @staticmethod
    def _step_range(ref, key, loop, todo: list[dict]) -> None:
        """Warm one setting of a range, then queue the next; wait while updates are due. Only a
        weak reference to the page's prefetcher is held: when its session is freed the warm-up
        stops, and the page's next session starts it again (what is cached stays cached)."""
        self = ref()
        if self is None:
            Prefetcher._ranges_queued.discard(key)
            return
        if not todo:
            return
        if len(Coalesced.waiting):
            loop.call_later(0.05, partial(Prefetcher._step_range, ref, key, loop, todo))
            return
        try:
            self.warm(todo[0])
            self.done += 1
        except Exception:
            log.debug("range warm-up of %r failed", todo[0], exc_info=True)
        del self
        loop.call_later(0.005, partial(Prefetcher._step_range, ref, key, loop, todo[1:]))

    def _run(self, doc, generation: int, todo: list[dict]) -> None:
        if generation != self.generation or doc.session_context is None:
            return                            # the learner moved on: these neighbours are stale
        if len(Coalesced.waiting):            # a real update is waiting somewhere: it goes first
            return
        try:
            self.warm(todo[0])
            self.done += 1
        except Exception:                     # a neighbour the page cannot show: nothing to warm
            log.debug("prefetch of %r failed", todo[0], exc_info=True)
        if len(todo) > 1:
            doc.add_next_tick_callback(partial(self._run, doc, generation, todo[1:]))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*(])")
LEAD_WORDS = 40
"""A caption shows at most about this many words; the rest waits behind "more"."""

_CAPTION_CSS = """
details { margin: 2px 0 0 0; }
details summary { cursor: pointer; color: #0072B2; width: fit-content; font-size: 13px; }
details p { margin: 4px 0 0 0; }
p { margin: 0 0 4px 0; }
"""


def split_caption(text: str) -> tuple[str, str]:
    """``(lead, rest)``: the first sentence or two (what to look at, up to about
    :data:`LEAD_WORDS` words) and the explanation that follows."""
    sentences = _SENTENCE_END.split(text.strip())
    lead, words = [], 0
    for i, sentence in enumerate(sentences):
        n = len(sentence.split())
        if lead and (words + n > LEAD_WORDS or len(lead) == 2 or sentence.startswith("**Try:**")):
            return " ".join(lead), " ".join(sentences[i:])
        lead.append(sentence)
        words += n
    return " ".join(lead), ""


def caption(text: str, **kwargs) -> pn.pane.Markdown:
    """An explanatory paragraph under a plot: its lead shown, the rest behind "more"."""
    lead, rest = split_caption(text)
    body = lead if not rest else f"{lead}\n\n<details><summary>more</summary>\n\n{rest}\n\n</details>"
    return pn.pane.Markdown(body, sizing_mode="stretch_width", margin=(0, 8, 6, 8),
                            styles={"color": "#3d444d", "font-size": "14px"}, disable_math=True,
                            stylesheets=[_CAPTION_CSS], **kwargs)
