"""The guided paths in Chromium: every step of every page (the four explorables and the lab),
walked with the mouse and the keyboard in turn, ends in the controls its step promises and the
address follows; a link with ``?step=N`` opens at that step; arrows, a control moved by hand,
"explore freely" and "resume" keep the learner's place."""

from __future__ import annotations

import urllib.parse

import pytest
from browser_harness import address, slider_value, wait_for, wait_idle

from deeptricks.explorables.batch_norm import BatchNormPage, BatchNormState
from deeptricks.explorables.dropout import DropoutPage, DropoutState
from deeptricks.explorables.lab import LabPage, LabState
from deeptricks.explorables.layer_norm import LayerNormPage, LayerNormState
from deeptricks.explorables.paths import BATCH_NORM
from deeptricks.explorables.residual import ResidualPage, ResidualState
from deeptricks.ui.urlsync import serialize_value

APPS = ("apps/dropout.py", "apps/batch_norm.py", "apps/layer_norm.py", "apps/residual.py", "apps/lab.py")
PAGES = {"dropout": (DropoutPage, DropoutState), "batch_norm": (BatchNormPage, BatchNormState),
         "layer_norm": (LayerNormPage, LayerNormState), "residual": (ResidualPage, ResidualState),
         "lab": (LabPage, LabState)}


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(address(page)).query))


def card(page):
    return page.locator("section.card")


def position(page) -> str:
    return card(page).locator(".pos").inner_text()


def expected_query(slug, step) -> dict:
    """What the address says once ``step`` has been shown: its controls, as the link writes them."""
    page_cls, state_cls = PAGES[slug]
    return {page_cls.URL_PARAMS[name]: serialize_value(state_cls.param[name], value)
            for name, value in step.target().items()}


def press(page, name: str, *, keyboard: bool) -> None:
    button = card(page).get_by_role("button", name=name, exact=True)
    if keyboard:
        button.focus()
        page.keyboard.press("Enter")
    else:
        button.click()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("slug", PAGES)
def test_walk_every_step_by_mouse_and_keyboard(serve_app, page, slug):
    server = serve_app(APPS)
    steps = PAGES[slug][0].PATH
    n = len(steps)

    # a link opens at its step
    page.goto(server.urls[slug] + f"?step={n}")
    wait_idle(page)
    assert position(page) == f"Step {n} of {n}"
    assert card(page).get_attribute("aria-label") == f"Guided path, step {n} of {n}"
    assert steps[n - 1].title in card(page).inner_text()

    import time; t1 = time.time()
    page.goto(server.urls[slug])
    wait_idle(page)
    print("load", round(time.time() - t1, 2), flush=True)
    for number, step in enumerate(steps, 1):
        keyboard = number % 2 == 0                 # even steps by keyboard, odd ones by mouse
        if number > 1:
            if keyboard:
                card(page).focus()
                page.keyboard.press("ArrowRight")
            else:
                press(page, "Next →", keyboard=False)
        import time; t0 = time.time()
        wait_for(lambda: position(page) == f"Step {number} of {n}" and query(page).get("step") == str(number),
                 f"{slug} step {number}")
        heard = card(page).locator("[aria-live=polite]").text_content()
        assert heard.startswith(f"Step {number} of {n}: {step.title}."), heard     # what a screen reader hears
        print("pos", number, round(time.time() - t0, 2), flush=True); t0 = time.time()
        if step.question is not None:
            press(page, step.question.choices[step.question.answer], keyboard=keyboard)
            wait_for(lambda: card(page).locator(".why").inner_text().strip() != "", "the answer's sentence")
        elif step.can_show:
            press(page, "Show me", keyboard=keyboard)
        want = expected_query(slug, step)
        wait_for(lambda: all(query(page).get(k) == v for k, v in want.items()),
                 f"{slug} step {number} to set {want} (the address says {query(page)})")
        assert query(page).get("step") == str(number)
        print("show", number, round(time.time() - t0, 2), flush=True)

    if slug == "lab":                              # the last run pauses at its preset's length
        last = steps[-1].show["preset"]
        wait_for(lambda: "Step " not in card(page).locator(".text").inner_text(), f"the {last} run to pause",
                 timeout=120)
        assert "%" in card(page).locator(".text").inner_text()


def test_arrows_a_hand_moved_control_and_explore_freely_keep_the_place(serve_app, page):
    server = serve_app(APPS)
    page.goto(server.urls["dropout"] + "?step=3")
    wait_idle(page)
    card(page).get_by_role("button", name="Show me").click()
    wait_for(lambda: query(page).get("scale") == "false", "scaling off")

    # Left arrow goes back; a control moved by hand keeps the step
    card(page).focus()
    page.keyboard.press("ArrowLeft")
    wait_for(lambda: query(page).get("step") == "2", "back to step 2")
    page.locator('.noUi-handle[aria-valuemax="0.9"]').first.focus()
    page.keyboard.press("ArrowLeft")
    wait_for(lambda: query(page).get("p") == "0.65", "p one step down")
    assert query(page).get("step") == "2"

    # explore freely, then resume where it was
    card(page).get_by_role("button", name="Explore freely ✕").click()
    wait_for(lambda: query(page).get("step") == "0", "the card closed")
    card(page).get_by_role("button", name="Resume at step 2").click()
    wait_for(lambda: query(page).get("step") == "2" and position(page).startswith("Step 2"), "resumed")


def test_show_me_glides_and_the_text_quotes_the_result(serve_app, page):
    server = serve_app(APPS)
    page.goto(server.urls["dropout"])
    wait_idle(page)
    card(page).get_by_role("button", name="Show me").click()
    wait_for(lambda: slider_value(page, "Dropout rate") == 0.7 and query(page).get("p") == "0.7",
             "the glide to end at p = 0.7")
    assert "0.70" in card(page).locator(".text").inner_text()

    n = next(i for i, s in enumerate(BATCH_NORM, 1) if s.show.get("bn") is False)
    page.goto(server.urls["batch_norm"] + f"?step={n}")
    wait_idle(page)
    card(page).get_by_role("button", name="Show the answer").click()
    wait_for(lambda: query(page).get("bn") == "false" and slider_value(page, "Depth") == 30,
             "BatchNorm off and 30 layers")
    assert card(page).locator(".why").inner_text().strip()
