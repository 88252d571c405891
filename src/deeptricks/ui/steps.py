"""The step card of a guided path: one step's text, its question, and the buttons to move on.

The card only shows what the server tells it and reports what the learner did. Every
value it shows (the step's position, title, text, question, answer) is a parameter set by
the server; a click or a key sends a message (``{"go": 3}``, ``{"show": 1}``,
``{"choose": 2}``, ``{"leave": 1}``, ``{"resume": 1}``) that :meth:`StepCard.on_action`'s
handler receives after checking it, so a browser that lies can ask for a step, never set one.

Keyboard: the card is one Tab stop (then its buttons); with focus anywhere in it, Left and
Right move to the previous and next step. Screen readers hear the step text and its position
("Step 2 of 5") through a polite live region.
"""

from __future__ import annotations

from typing import Callable

import param
from panel.custom import JSComponent

ACTIONS = ("go", "show", "choose", "leave", "resume")

_CSS = """
:host { display: block; width: 100%; }
@media (min-width: 760px) { :host { position: sticky; top: 0; z-index: 20; background: #fff; padding-top: 2px; } }
.card { box-sizing: border-box; max-width: 880px; box-shadow: 0 2px 6px rgba(31,35,40,0.08); border: 1px solid #d0d7de; border-left: 4px solid #0072B2;
  border-radius: 8px; background: #f8fbfe; padding: 8px 14px 8px 14px; font-size: 15px; line-height: 1.45;
  color: #1f2328; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.card:focus-visible, .card:focus { outline: 2px solid #0072B2; outline-offset: 2px; }
.head { display: flex; align-items: center; gap: 10px; font-size: 13px; color: #57606a; }
.pos { font-weight: 600; color: #0b4f7d; white-space: nowrap; }
.dots { display: flex; gap: 5px; list-style: none; margin: 0; padding: 0; }
.dots li { width: 8px; height: 8px; border-radius: 50%; background: #c9d1d9; }
.dots li.done { background: #7fb3d5; }
.dots li.here { background: #0072B2; transform: scale(1.25); }
.leave { margin-left: auto; flex: 0 0 auto; }
.head { flex-wrap: wrap; margin-bottom: 2px; }
h3 { margin: 0; font-size: 16px; color: #1f2328; flex: 1 1 auto; }
.text p { margin: 2px 0; }
.q { margin: 6px 0 2px 0; }
.q .prompt { font-weight: 600; }
.choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; }
.choices button[aria-pressed="true"] { border-color: #0072B2; background: #dbeaf6; }
.choices button.right { border-color: #1a7f37; background: #dafbe1; }
.choices button.wrong { border-color: #cf222e; background: #ffebe9; }
.why { margin-top: 4px; padding: 4px 8px; border-radius: 6px; background: #fff8e1; }
.why:empty { display: none; }
.foot { display: flex; gap: 8px; align-items: center; margin-top: 6px; flex-wrap: wrap; }
button { font: inherit; font-size: 14px; padding: 4px 12px; border-radius: 6px; border: 1px solid #afb8c1;
  background: #fff; color: #1f2328; cursor: pointer; }
button:hover { background: #f3f4f6; }
button:focus-visible { outline: 2px solid #0072B2; outline-offset: 1px; }
button:disabled { opacity: 0.45; cursor: default; }
button.primary { background: #0072B2; border-color: #0072B2; color: #fff; }
button.primary:hover { background: #005f94; }
button.link { border: none; background: none; color: #0072B2; padding: 2px 4px; font-size: 13px; }
.closed { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 520px) { .card { font-size: 14px; padding: 8px 10px; } h3 { font-size: 15px; } }
"""

_ESM = r"""
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function render({ model }) {
  const card = el("section", "card");
  card.tabIndex = 0;
  card.setAttribute("role", "region");
  card.setAttribute("aria-roledescription", "guided path");

  const open = el("div", "open");
  const head = el("div", "head");
  const pos = el("span", "pos");
  const dots = el("ol", "dots");
  dots.setAttribute("aria-hidden", "true");
  const leave = el("button", "link leave", "Explore freely ✕");
  leave.title = "Close the guided path and use the controls freely";
  const title = el("h3");
  head.append(pos, dots, title, leave);
  const text = el("div", "text");
  const q = el("div", "q");
  const prompt = el("div", "prompt");
  const choices = el("div", "choices");
  choices.setAttribute("role", "group");
  const why = el("div", "why");
  q.append(prompt, choices, why);
  const foot = el("div", "foot");
  const back = el("button", "", "← Back");
  const show = el("button", "primary", "Show me");
  const next = el("button", "", "Next →");
  foot.append(back, show, next);
  const live = el("div", "sr");
  live.setAttribute("aria-live", "polite");
  open.append(head, text, q, foot);

  const closed = el("div", "closed");
  const closedText = el("span");
  const resume = el("button", "primary", "");
  closed.append(closedText, resume);

  card.append(open, closed, live);

  const send = (msg) => model.send_msg(msg);
  back.addEventListener("click", () => send({ go: model.position - 1 }));
  next.addEventListener("click", () => send(model.position >= model.total ? { leave: 1 } : { go: model.position + 1 }));
  show.addEventListener("click", () => send({ show: 1 }));
  leave.addEventListener("click", () => send({ leave: 1 }));
  resume.addEventListener("click", () => send({ resume: 1 }));
  card.addEventListener("keydown", (ev) => {
    if (model.position < 1) return;
    if (ev.key === "ArrowLeft" && model.position > 1) { send({ go: model.position - 1 }); ev.preventDefault(); }
    else if (ev.key === "ArrowRight" && model.position < model.total) { send({ go: model.position + 1 }); ev.preventDefault(); }
  });

  // the step's figure: the page marks its section with .dt-focus, somewhere in Panel's shadow roots
  function deepFind(root, sel) {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const e of root.querySelectorAll("*")) {
      if (e.shadowRoot) { const h = deepFind(e.shadowRoot, sel); if (h) return h; }
    }
    return null;
  }
  function reveal() {
    const target = deepFind(document, ".dt-focus");
    if (!target) return;
    const r = target.getBoundingClientRect();
    const covered = getComputedStyle(card.getRootNode().host || card).position === "sticky" ?
      card.getBoundingClientRect().bottom : 0;
    if (r.top >= covered && r.top < window.innerHeight * 0.6) return;      // already in view
    window.scrollBy({ top: r.top - covered - 12, behavior: "smooth" });
  }
  model.on("reveal_seq", () => setTimeout(reveal, 60));

  let drawnChoices = null, announced = null;
  function draw() {
    const here = model.position, total = model.total;
    const isOpen = here >= 1;
    const focused = card.contains(document.activeElement) || (card.getRootNode().activeElement &&
                    card.contains(card.getRootNode().activeElement));
    open.style.display = isOpen ? "" : "none";
    closed.style.display = isOpen ? "none" : "";
    card.setAttribute("aria-label", isOpen ? `Guided path, step ${here} of ${total}` : "Guided path");
    if (!isOpen) {
      closedText.textContent = `A guided path through this page: ${total} steps.`;
      resume.textContent = model.resume_at > 1 ? `Resume at step ${model.resume_at}` : "Start the guided path";
      live.textContent = "";
      announced = null;
      return;
    }
    pos.textContent = `Step ${here} of ${total}`;
    dots.replaceChildren(...Array.from({ length: total }, (_, i) =>
      el("li", i + 1 < here ? "done" : i + 1 === here ? "here" : "")));
    title.textContent = model.title;
    text.innerHTML = model.body;
    back.disabled = here <= 1;
    next.textContent = here >= total ? "Finish ✓" : "Next →";
    next.title = here >= total ? "Close the guided path and explore freely" : "";
    next.className = model.shown || !model.can_show ? "primary" : "";
    show.style.display = model.can_show ? "" : "none";
    show.disabled = model.busy;
    show.textContent = model.busy ? "Showing…" : model.prompt && !model.answered ? "Show the answer" : "Show me";
    show.className = model.shown ? "" : "primary";
    q.style.display = model.prompt ? "" : "none";
    prompt.innerHTML = model.prompt;
    const key = JSON.stringify([here, model.choices]);
    if (drawnChoices !== key) {
      choices.replaceChildren(...model.choices.map((c, i) => {
        const b = el("button", "", c);
        b.addEventListener("click", () => send({ choose: i }));
        return b;
      }));
      drawnChoices = key;
    }
    Array.from(choices.children).forEach((b, i) => {
      b.setAttribute("aria-pressed", String(i === model.chosen));
      b.classList.toggle("right", model.answered && i === model.answer);
      b.classList.toggle("wrong", model.answered && i === model.chosen && i !== model.answer);
    });
    why.innerHTML = model.answered ? model.why : "";
    // a screen reader hears the step when it changes in words, not at every number a live run updates
    const words = [here, model.title, text.textContent.replace(/[0-9][0-9.,]*/g, "#"), model.answered];
    if (JSON.stringify(words) !== announced) {
      announced = JSON.stringify(words);
      live.textContent = `Step ${here} of ${total}: ${model.title}. ${text.textContent}` +
        (model.answered && why.textContent ? ` ${why.textContent}` : "");
    }
    if (focused && !card.contains(card.getRootNode().activeElement)) card.focus();
  }
  model.on(["position", "total", "title", "body", "prompt", "choices", "chosen", "answer", "answered",
            "why", "can_show", "busy", "shown", "resume_at"], draw);
  draw();
  return card;
}
"""


class StepCard(JSComponent):
    """The card (see the module). ``position`` 0 means closed ("explore freely")."""

    position = param.Integer(1, bounds=(0, None))
    total = param.Integer(1, bounds=(1, None))
    resume_at = param.Integer(1)
    title = param.String("")
    body = param.String("")            # HTML of the step's text (numbers filled in)
    prompt = param.String("")          # HTML of the question, if the step asks one
    choices = param.List([])
    chosen = param.Integer(-1)
    answer = param.Integer(-1)
    answered = param.Boolean(False)
    why = param.String("")             # HTML, shown once answered
    can_show = param.Boolean(True)
    busy = param.Boolean(False)        # a "Show me" animation is running
    shown = param.Boolean(False)       # this step's "Show me" (or its answer) has been shown
    reveal_seq = param.Integer(0)      # bumped to scroll the step's figure into view

    _esm = _ESM
    _stylesheets = [_CSS]

    def __init__(self, on_action: Callable[[str, int], None] | None = None, **params):
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)
        self._on_action = on_action

    def _handle_msg(self, msg) -> None:
        action = parse_action(msg, self.total)
        if action is not None and self._on_action is not None:
            self._on_action(*action)


def parse_action(msg, total: int) -> tuple[str, int] | None:
    """``(action, value)`` from a card's message, or None for anything a card does not send."""
    if not isinstance(msg, dict) or len(msg) != 1:
        return None
    (action, value), = msg.items()
    if action not in ACTIONS or isinstance(value, bool) or not isinstance(value, int):
        return None
    if action == "go" and not 1 <= value <= total:
        return None
    if action == "choose" and not 0 <= value < 8:
        return None
    return action, value
