"""Guided paths: a page's claim as a few steps, each one to read, predict and see.

A :class:`Step` says what to look at (its text, with live numbers from the page's
:meth:`facts`), which figure it is about, and what "Show me" does: set some controls
(``show``) and, where motion is the point, glide one of them from a start value to an end
value over about a second (``glide``). A step may first ask a :class:`Question`; picking an
answer (or "Show the answer") plays the step and reveals which answer was right, and why.

Each step also states its ``claim`` and a ``check`` on the facts after "Show me": the
tests play every step on the page's model and assert it (``tests/explorables/test_paths.py``).

:class:`GuidedPath` runs a path on a page: it owns the :class:`~deeptricks.ui.steps.StepCard`,
keeps the step in the link (``?step=3``; ``step=0`` is "explore freely"), highlights the
step's section, and refreshes the numbers in the text as the learner moves the controls
(never the other way round: moving a control keeps the learner's place).
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import panel as pn
import param

from deeptricks.ui.layout import inline_markdown
from deeptricks.ui.steps import StepCard
from deeptricks.ui.urlsync import url_sync

from .base import Coalesced

log = logging.getLogger(__name__)

GLIDE_MS = 1000
"""How long "Show me" takes to glide a control from its start to its end value."""
GLIDE_FRAMES = 14
"""At most this many values on the way (the slider's own steps, evenly picked)."""


@dataclass(frozen=True)
class Question:
    """A prediction asked before the step is shown: two to four answers, one right."""

    prompt: str
    choices: tuple[str, ...]
    answer: int
    why: str                         # one sentence, with {facts}, shown once answered

    def __post_init__(self):
        if not 2 <= len(self.choices) <= 4 or not 0 <= self.answer < len(self.choices):
            raise ValueError(f"a question needs 2-4 choices and a right one: {self.prompt!r}")


@dataclass(frozen=True)
class Step:
    """One step of a guided path (see the module)."""

    title: str
    text: str | Callable[[dict], str]           # inline Markdown with {facts} (or facts -> that)
    intro: str = ""                             # shown instead until "Show me" (what it will do)
    show: dict = field(default_factory=dict)    # controls "Show me" sets
    glide: tuple | None = None                  # (control, start, end): moved over GLIDE_MS
    figure: str | None = None                   # the view (section) the step is about
    question: Question | None = None
    then: str | None = None                     # a page method "Show me" calls last (e.g. a training run)
    claim: str = ""                             # what the tests assert after "Show me", in words
    check: Callable[[dict], bool] | None = None  # ... and as a test of the page's facts

    def target(self) -> dict:
        """The controls' values once the step has been shown."""
        out = dict(self.show)
        if self.glide is not None:
            out[self.glide[0]] = self.glide[2]
        return out

    @property
    def can_show(self) -> bool:
        return bool(self.show) or self.glide is not None or self.then is not None


class _Facts(dict):
    """Facts for ``str.format``: a missing one shows as a dash (and is logged) instead of failing."""

    def __missing__(self, key):
        log.warning("a step's text asks for an unknown fact %r", key)
        return "—"


def fill(template: str, facts: dict) -> str:
    """``template`` with its ``{fact}`` and ``{fact:.2f}`` fields filled in from ``facts``."""
    try:
        return string.Formatter().vformat(template, (), _Facts(facts))
    except (ValueError, TypeError) as exc:
        log.warning("could not fill a step's text (%s): %r", exc, template)
        return template


def fields(template: str) -> set[str]:
    """The facts ``template`` asks for."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def glide_values(p: param.Parameter, start, end) -> list:
    """The values "Show me" passes through from ``start`` to ``end`` (both included): the
    slider's own steps, at most :data:`GLIDE_FRAMES` of them, evenly picked."""
    integer = isinstance(p, param.Integer)
    step = 1 if integer else (getattr(p, "step", None) or abs(end - start) / GLIDE_FRAMES or 1)
    n = int(round(abs(end - start) / step))
    idx = np.unique(np.round(np.linspace(0, n, min(n, GLIDE_FRAMES) + 1)).astype(int))
    sign = 1 if end >= start else -1
    values = [start + sign * i * step for i in idx]
    return [int(round(v)) if integer else round(float(v), 10) for v in values]


class GuidedPath(param.Parameterized):
    """A page's guided path, live (see the module)."""

    step = param.Integer(1, bounds=(0, None), label="Step of the guided path",
                         doc="1 … n: the step shown; 0: the path is closed (explore freely).")

    def __init__(self, page, steps: tuple[Step, ...], *, location=None, **params):
        super().__init__(**params)
        if not steps:
            raise ValueError("a guided path needs at least one step")
        self.page, self.state, self.steps = page, page.state, tuple(steps)
        self.param.step.bounds = (0, len(self.steps))
        self.answered: dict[int, int] = {}     # step -> the answer picked (-1: "Show the answer")
        self.shown: set[int] = set()           # steps whose "Show me" has run
        self.resume_at = 1
        self._glide = None
        self.card = StepCard(on_action=self.act, total=len(self.steps), name=f"{page.SLUG}-steps",
                             margin=(0, 5, 6, 5))
        self.step = page.first_step()          # where a link without ?step= opens
        self.sync = url_sync(self, {"step": "step"}, location=location)
        self.refresh = Coalesced(self._draw)
        self.state.param.watch(self.refresh, list(page.URL_PARAMS))
        self.param.watch(self._on_step, ["step"])
        self._draw()

    # -- what the learner does --------------------------------------------------
    def act(self, action: str, value: int) -> None:
        """A message from the card (already checked by the card)."""
        if action == "go":
            self.step = value
        elif action == "leave":
            self.resume_at = max(self.step, 1)
            self.step = 0
        elif action == "resume":
            self.step = self.resume_at
        elif action == "show" and self.step >= 1:
            self.show(self.step)
        elif action == "choose" and self.step >= 1:
            q = self.steps[self.step - 1].question
            if q is not None and value < len(q.choices):
                self.answered[self.step] = value
                self.show(self.step)

    def show(self, number: int) -> None:
        """Play step ``number`` (1-based): set its controls, glide the one that moves."""
        step = self.steps[number - 1]
        if step.question is not None:
            self.answered.setdefault(number, -1)
        self.shown.add(number)
        self._stop_glide()
        settings = dict(step.show)
        leading = {k: settings.pop(k) for k in self.page.LEADING if k in settings}
        if leading:                            # e.g. a preset, which resets the other controls
            self.state.param.update(**leading)
        values = []
        if step.glide is not None:
            name, start, end = step.glide
            values = glide_values(self.state.param[name], start, end)
            settings[name] = values[0]
        self.state.param.update(**settings)
        if len(values) > 1:
            self._start_glide(step.glide[0], values[1:])
        if step.then:
            getattr(self.page, step.then)()
        self.card.reveal_seq += 1              # bring the figure into view
        self.refresh()

    # -- gliding ------------------------------------------------------------------
    def _start_glide(self, name: str, values: list) -> None:
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:       # tests, notebooks: at once
            setattr(self.state, name, values[-1])
            return
        todo = list(values)

        def frame():
            if not todo:
                self._stop_glide()
                return
            setattr(self.state, name, todo.pop(0))
            if not todo:
                self._stop_glide()

        self._glide = pn.state.add_periodic_callback(frame, period=max(GLIDE_MS // len(values), 40))
        self.card.busy = True

    def _stop_glide(self) -> None:
        if self._glide is not None:
            self._glide.stop()
            self._glide = None
        if self.card.busy:
            self.card.busy = False
            self.refresh()

    # -- drawing --------------------------------------------------------------------
    def _on_step(self, event) -> None:
        if event.new >= 1:
            self.resume_at = event.new
        self._stop_glide()
        self._draw()

    def text(self, number: int, facts: dict | None = None, *, shown: bool = True) -> tuple[str, str]:
        """Step ``number``'s text and (if it asks one) its answer's sentence, numbers filled in;
        with ``shown=False``, its ``intro`` where it has one (the text describes the shown state)."""
        step = self.steps[number - 1]
        facts = self.page.facts() if facts is None else facts
        why = fill(step.question.why, facts) if step.question else ""
        if not shown and step.intro:
            return fill(step.intro, facts), why
        return fill(step.text(facts) if callable(step.text) else step.text, facts), why

    def _draw(self) -> None:
        n = self.step
        card = self.card
        if n < 1:
            card.param.update(position=0, resume_at=self.resume_at)
            self.page.highlight(None)
            return
        step = self.steps[n - 1]
        text, why = self.text(n, shown=n in self.shown)
        q = step.question
        chosen = self.answered.get(n, -1)
        card.param.update(
            position=n, resume_at=self.resume_at, title=step.title, body=inline_markdown(text),
            prompt=inline_markdown(q.prompt) if q else "", choices=list(q.choices) if q else [],
            chosen=chosen, answer=q.answer if q else -1, answered=n in self.answered,
            why=inline_markdown(why) if why else "", can_show=step.can_show, shown=n in self.shown)
        self.page.highlight(step.figure)
