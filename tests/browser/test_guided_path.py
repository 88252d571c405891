"""The guided path in Chromium: walking the dropout page's steps with the mouse and with the
keyboard moves the controls the way each step promises and the address follows; a link with
``?step=N`` opens at that step; "explore freely" closes the card and "resume" brings it back."""

from __future__ import annotations

import urllib.parse

from browser_harness import address, slider_value, wait_for, wait_idle

from deeptricks.explorables.paths import BATCH_NORM, DROPOUT

APPS = ("apps/dropout.py", "apps/batch_norm.py")


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(address(page)).query))


def card(page):
    return page.locator("section.card")


def position(page) -> str:
    return card(page).locator(".pos").inner_text()


def test_walk_the_dropout_path_by_mouse_and_keyboard(serve_app, page):
    server = serve_app(APPS)
    page.goto(server.urls["dropout"])
    wait_idle(page)
    assert position(page) == f"Step 1 of {len(DROPOUT)}"
    assert card(page).get_attribute("aria-label") == f"Guided path, step 1 of {len(DROPOUT)}"

    # step 1 by mouse: "Show me" glides p from 0 to 0.7, and the address follows
    card(page).get_by_role("button", name="Show me").click()
    wait_for(lambda: slider_value(page, "Dropout rate") == 0.7 and query(page).get("p") == "0.7",
             "the glide to end at p = 0.7")
    assert "0.70" in card(page).locator(".text").inner_text()

    # step 2 by keyboard: focus the card, Right arrow, then answer with Enter on a choice
    card(page).focus()
    page.keyboard.press("ArrowRight")
    wait_for(lambda: query(page).get("step") == "2" and position(page).startswith("Step 2"), "step 2")
    right = DROPOUT[1].question.choices[DROPOUT[1].question.answer]
    card(page).get_by_role("button", name=right).focus()
    page.keyboard.press("Enter")
    wait_for(lambda: card(page).locator(".why").inner_text().strip() != "", "the answer's sentence")
    assert "right" in (card(page).get_by_role("button", name=right).get_attribute("class") or "")

    # step 3 by mouse: Next, Show me: the scaling switch goes off
    card(page).get_by_role("button", name="Next →").click()
    wait_for(lambda: query(page).get("step") == "3", "step 3")
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


def test_a_link_opens_at_its_step_and_show_me_plays_it(serve_app, page):
    server = serve_app(APPS)
    n = next(i for i, s in enumerate(BATCH_NORM, 1) if s.show.get("bn") is False)
    page.goto(server.urls["batch_norm"] + f"?step={n}")
    wait_idle(page)
    assert position(page) == f"Step {n} of {len(BATCH_NORM)}"
    card(page).get_by_role("button", name="Show the answer").click()
    wait_for(lambda: query(page).get("bn") == "false" and slider_value(page, "Depth") == 30,
             "BatchNorm off and 30 layers")
    assert card(page).locator(".why").inner_text().strip()
