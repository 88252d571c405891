"""The guided paths: every step, once shown, puts the page in the state its text describes.

For each page, each step is shown twice: in order (a learner walking the path) and alone on a
fresh page (a learner arriving from a ``?step=N`` link). Both times the controls must hold the
step's settings and the step's ``check`` must pass on the page's own numbers (``facts()``);
``claim`` says in words what that asserts. The texts may only quote facts the page has."""

from __future__ import annotations


import pytest

from deeptricks.explorables.batch_norm import BatchNormPage, BatchNormState
from deeptricks.explorables.dropout import DropoutPage, DropoutState
from deeptricks.explorables.guide import GuidedPath, Question, Step, fields, fill, glide_values
from deeptricks.explorables.lab import LabPage, LabState
from deeptricks.explorables.lab_model import OFF_PATH, PRESETS
from deeptricks.explorables.layer_norm import LayerNormPage, LayerNormState
from deeptricks.explorables.residual import ResidualPage, ResidualState
from deeptricks.ui.steps import parse_action

PAGES = {"dropout": (DropoutPage, DropoutState), "batch_norm": (BatchNormPage, BatchNormState),
         "layer_norm": (LayerNormPage, LayerNormState), "residual": (ResidualPage, ResidualState),
         "lab": (LabPage, LabState)}


def fresh(slug):
    page_cls, state_cls = PAGES[slug]
    page = page_cls(state_cls())
    page.layout()
    return page


def assert_shown(page, number):
    step = page.guide.steps[number - 1]
    for name, value in step.target().items():
        got = getattr(page.state, name)
        assert got == pytest.approx(value) if isinstance(value, float) else got == value, (step.title, name)
    facts = page.facts()
    assert step.check(facts), (step.title, step.claim, facts)
    text, why = page.guide.text(number, facts)
    assert "—" not in text and "nan" not in text.lower(), (step.title, text)
    return facts


@pytest.mark.parametrize("slug", PAGES)
def test_every_step_shown_in_order_holds_its_claim(slug):
    page = fresh(slug)
    guide = page.guide
    assert 3 <= len(guide.steps) <= 7
    assert any(s.question for s in guide.steps), "at least one step asks the learner to predict"
    for n in range(1, len(guide.steps) + 1):
        guide.act("go", n)
        assert guide.step == n and page.guide.card.position == n
        guide.act("show", 0)
        assert_shown(page, n)


@pytest.mark.parametrize("slug", PAGES)
def test_every_step_shown_alone_holds_its_claim(slug):
    for n, step in enumerate(PAGES[slug][0].PATH, 1):
        if step.then:                        # a training run: the in-order walk trains it already
            continue
        page = fresh(slug)
        page.guide.step = n
        page.guide.show(n)
        assert_shown(page, n)


@pytest.mark.parametrize("slug", PAGES)
def test_texts_quote_only_facts_the_page_has(slug):
    page = fresh(slug)
    facts = page.facts()
    for step in page.guide.steps:
        # a text that depends on the state (trained or not, the lab's preset and run) in every branch
        variants = [{**facts, "preset": step.show.get("preset", facts.get("preset")), "steps": steps,
                     "done": done, "trained": done} for steps in (0, 10) for done in (False, True)]
        templates = [step.text(v) for v in [facts, *variants]] if callable(step.text) else [step.text]
        if step.question:
            templates.append(step.question.why)
        if step.intro:
            templates.append(step.intro)
        for t in templates:
            assert fields(t) <= facts.keys(), (step.title, fields(t) - facts.keys())
        assert step.claim and step.check is not None and step.figure in {v.name for v in page.VIEWS}


def test_the_seed_cards_three_interactions_are_steps():
    """Drag dropout 0 → 0.7; toggle BatchNorm off on the comparison; push dropout to 0.9 and back to 0."""
    d, b = DropoutPage.PATH, BatchNormPage.PATH
    assert any(s.glide == ("p", 0.0, 0.7) and s.figure == "units" for s in d)
    assert any(s.show.get("bn") is False and s.figure == "compare" for s in b)
    up = next(i for i, s in enumerate(d) if s.glide and s.glide[2] == 0.9)
    assert d[up + 1].glide == ("p", 0.9, 0.0)


def test_the_lab_path_walks_every_preset_and_a_preset_link_opens_at_its_step():
    steps = LabPage.PATH
    assert {s.show["preset"] for s in steps} == set(PRESETS) - set(OFF_PATH) and OFF_PATH
    assert all(s.then == "run_preset" and s.show["preset"] == s.figure for s in steps)
    for key in set(PRESETS) - set(OFF_PATH):
        state = LabState()
        state.apply_preset(key)                # as a link's ?preset= does
        page = LabPage(state)
        page.layout()
        assert steps[page.guide.step - 1].show["preset"] == key
    for key in OFF_PATH:                       # a preset the path leaves out opens with the path closed
        state = LabState()
        state.apply_preset(key)
        page = LabPage(state)
        page.layout()
        assert page.guide.step == 0
    # the fix for degradation follows the degradation itself
    n = next(i for i, s in enumerate(steps) if s.show.get("b_residual"))
    assert steps[n - 1].show == {"preset": "degradation"}


def test_a_lab_step_pauses_its_run_at_the_presets_length_and_quotes_it():
    from deeptricks.explorables.lab_model import LabSession

    s = LabSession(PRESETS["batchnorm"].configs()[0])
    s.pause_at = 30
    s.start()
    while s.running:
        s.advance(budget=0.001)
    assert s.status == "paused" and s.step_count == 30 and s.pause_at is None
    page = fresh("lab")
    g = page.guide
    n = next(i for i, st in enumerate(g.steps, 1) if st.show["preset"] == "tiny-batch")
    g.act("go", n)
    assert "Show me" in g.card.body and page.state.preset == "none"
    page.state.seed = 3                        # the lab's leading control: a preset resets the others
    g.act("show", 0)
    assert page.state.preset == "tiny-batch" and page.state.seed == 0
    assert page.session.step_count == PRESETS["tiny-batch"].steps and not page.session.running
    assert "<strong>" in g.card.body and "%" in g.card.body and "Step " not in g.card.body
    page.state.preset = "dropout"              # the learner loads another preset by hand
    assert g.step == n and "Show me" in g.card.body


def test_a_question_is_answered_by_showing_the_step():
    page = fresh("dropout")
    g = page.guide
    n = next(i for i, s in enumerate(g.steps, 1) if s.question)
    g.act("go", n)
    assert not g.card.answered and g.card.prompt
    g.act("choose", 0)                         # a wrong answer: still shown, with the right one marked
    c = g.card
    assert c.answered and c.chosen == 0 and c.answer == g.steps[n - 1].question.answer != 0
    assert c.shown and c.why and "{" not in c.why
    assert_shown(page, n)


def test_leaving_and_resuming_keeps_the_place():
    page = fresh("batch_norm")
    g = page.guide
    g.act("go", 3)
    g.act("leave", 1)
    assert g.step == 0 and g.card.position == 0 and g.card.resume_at == 3
    assert all(title.css_classes == [] for title in page._sections.values())
    page.state.depth = 20                      # moving a control does not move the step
    g.act("resume", 1)
    assert g.step == 3 and page.state.depth == 20
    assert page._sections[g.steps[2].figure].css_classes == ["dt-focus"]


def test_moving_a_control_updates_the_numbers_not_the_step():
    page = fresh("dropout")
    g = page.guide
    g.act("go", 1)
    page.state.p = 0.2
    assert g.step == 1 and "p = <strong>0.20</strong>" in g.card.body
    page.state.p = 0.8
    assert "p = <strong>0.80</strong>" in g.card.body


def test_the_card_accepts_only_what_it_sends():
    assert parse_action({"go": 2}, 5) == ("go", 2)
    assert parse_action({"choose": 1}, 5) == ("choose", 1)
    for bad in ({"go": 0}, {"go": 6}, {"go": "2"}, {"go": True}, {"go": 2.0}, {"jump": 1}, {"go": 1, "show": 1},
                [1], "go", None, {"choose": -1}, {"choose": 99}):
        assert parse_action(bad, 5) is None, bad
    page = fresh("dropout")
    page.guide.card._handle_msg({"go": 99})
    page.guide.card._handle_msg({"go": "3"})
    assert page.guide.step == 1
    page.guide.card._handle_msg({"go": 3})
    assert page.guide.step == 3


def test_glide_values_follow_the_slider_steps():
    from deeptricks.explorables.dropout import DropoutState
    from deeptricks.explorables.residual import ResidualState

    s = DropoutState()
    v = glide_values(s.param.p, 0.0, 0.7)
    assert v[0] == 0.0 and v[-1] == 0.7 and len(v) == 15 and all(b > a for a, b in zip(v, v[1:]))
    assert glide_values(s.param.p, 0.9, 0.0)[::-1] == glide_values(s.param.p, 0.0, 0.9)
    d = glide_values(ResidualState().param.depth, 1, 50)
    assert d[0] == 1 and d[-1] == 50 and len(d) <= 15 and all(isinstance(x, int) for x in d)


def test_fill_and_fields():
    assert fill("p = {p:.2f}, {n} units", {"p": 0.5, "n": 3}) == "p = 0.50, 3 units"
    assert fill("{missing}", {}) == "—"
    assert fields("a {x:.1f} b {y}") == {"x", "y"}


def test_step_and_question_are_validated():
    with pytest.raises(ValueError):
        Question("?", ("only one",), 0, "")
    with pytest.raises(ValueError):
        Question("?", ("a", "b"), 2, "")
    with pytest.raises(ValueError):
        GuidedPath(fresh("dropout"), ())
    assert Step("t", "x", glide=("p", 0, 1)).target() == {"p": 1}
    assert not Step("t", "x").can_show


def test_step_in_the_link_is_clamped():
    from deeptricks.ui.urlsync import coerce_query

    g = fresh("dropout").guide
    values, notes = coerce_query(g, {"step": ["99"]}, {"step": "step"})
    assert values == {"step": len(g.steps)} and notes
    values, _ = coerce_query(g, {"step": ["0"]}, {"step": "step"})
    assert values == {"step": 0}
