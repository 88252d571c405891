"""Every page on a 390-px phone and in an 800-px frame, and what a screen reader hears.

On each width the page must not scroll sideways, and every plot must be drawn
inside the window. Every slider, checkbox and button group must carry a name
(the label a sighted learner reads next to it), and the buttons of a group say
which one is pressed, also after a change made from the keyboard.
"""

from __future__ import annotations

import pytest

from browser_harness import FIRST_SCREEN, address, first_screen_boxes, wait_for, wait_idle

APPS = ["apps/dropout.py", "apps/batch_norm.py", "apps/layer_norm.py", "apps/residual.py", "apps/lab.py"]

JS_LAYOUT = """() => {
  const vw = document.documentElement.clientWidth;
  const doc = document.scrollingElement;
  const figs = [...Bokeh.index.query((v) => v.model.type == "Figure" || v.model.type == "Plot")];
  const bad = figs.map((v) => [v.model.name, v.el.getBoundingClientRect()])
    .filter(([n, r]) => r.width > 0 && (r.left < -1 || r.right > vw + 1 || r.width < 120))
    .map(([n, r]) => `${n}: ${Math.round(r.left)}..${Math.round(r.right)}`);
  return {vw, scroll: doc.scrollWidth, figures: figs.length, bad};
}"""

JS_UNNAMED = """() => {
  const out = [];
  const roots = [...Bokeh.index.query(() => true)].map((v) => v.shadow_el ?? v.el?.shadowRoot).filter(Boolean);
  for (const r of roots) {
    for (const h of r.querySelectorAll(".noUi-handle")) if (!h.getAttribute("aria-label")) out.push("slider");
    for (const i of r.querySelectorAll("input[type=checkbox]")) if (!i.getAttribute("aria-label")) out.push("checkbox");
    for (const g of r.querySelectorAll(".bk-btn-group"))
      if (g.querySelectorAll("button").length > 1 && !g.getAttribute("aria-label")) out.push("button group");
  }
  return out;
}"""


@pytest.mark.parametrize("width", [390, 800])
def test_pages_fit_narrow_screens(serve_app, browser, width):
    server = serve_app(APPS)
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        for app, url in server.urls.items():
            page = context.new_page()
            page.goto(url)
            wait_idle(page)
            page.wait_for_timeout(300)           # let the last resize settle
            r = page.evaluate(JS_LAYOUT)
            assert r["figures"] >= 1, app
            assert r["scroll"] <= r["vw"] + 1, f"{app} scrolls sideways at {width} px: {r}"
            assert not r["bad"], f"{app}: plots outside the window or squeezed at {width} px: {r['bad']}"
            page.close()
    finally:
        context.close()


def test_every_control_has_a_name(serve_app, page):
    server = serve_app(APPS)
    for app, url in server.urls.items():
        page.goto(url)
        wait_idle(page)
        wait_for(lambda: not page.evaluate(JS_UNNAMED), f"every control on {app} to be named",
                 timeout=10)
        assert page.get_by_role("slider").count() >= 1, app


def test_button_groups_say_which_is_pressed_from_the_keyboard(serve_app, page):
    server = serve_app(APPS)
    page.goto(server.urls["dropout"])
    wait_idle(page)
    group = page.get_by_role("group", name="Mode")
    wait_for(lambda: group.count() == 1, "the Mode group to be named")
    train, test = group.get_by_role("button", name="train"), group.get_by_role("button", name="test")
    wait_for(lambda: train.get_attribute("aria-pressed") == "true", "train to be pressed")
    wait_for(lambda: "mode=train" in address(page), "the URL to show the settings")
    test.focus()
    page.keyboard.press("Enter")
    wait_for(lambda: test.get_attribute("aria-pressed") == "true", "test to be pressed")
    assert train.get_attribute("aria-pressed") == "false"
    wait_for(lambda: page.get_by_text("Test mode:").count() > 0, "the page to switch to test mode")
    wait_for(lambda: "mode=test" in address(page), "the URL to follow the keyboard")
    rate = page.get_by_role("slider", name="Dropout rate p")
    assert rate.count() == 1


def test_controls_built_later_are_named_too(serve_app, page):
    """The lab makes net B's controls when compare mode is first switched on. (Its learning-rate
    slider, over a list of options, is checked here too.)"""
    server = serve_app(APPS)
    page.goto(server.urls["lab"])
    wait_idle(page)
    assert page.get_by_role("slider", name="B: depth").count() == 0          # not built yet
    # A slider over a list of options says the option, not its index, and moves the setting.
    rate = page.get_by_role("slider", name="Learning rate")
    wait_for(lambda: rate.count() == 1 and rate.get_attribute("aria-valuetext") == "0.01",
             "the learning-rate slider to say 0.01")
    rate.focus()
    page.keyboard.press("ArrowRight")
    wait_for(lambda: rate.get_attribute("aria-valuetext") == "0.02", "the slider to say 0.02")
    wait_for(lambda: "lr=0.02" in address(page), "the URL to show the new learning rate")
    page.wait_for_timeout(4500)            # after the naming passes that follow the page's load
    page.get_by_role("checkbox", name="Compare two networks (A and B)").check()
    wait_for(lambda: page.get_by_role("slider", name="B: depth").count() == 1,
             "B's depth slider to appear with its name", timeout=10)
    wait_for(lambda: not page.evaluate(JS_UNNAMED), "every control, B's too, to be named", timeout=10)
    assert page.get_by_role("slider", name="B: dropout rate").count() == 1
    wait_for(lambda: "compare=" in address(page), "the URL to show compare mode")


def test_the_first_screen_shows_the_step_card_the_first_figure_and_its_control(serve_app, browser):
    """At 1280 × 800, without scrolling: the whole step card, the main control and the top of the
    first figure (at least 100 px of it); on a 390-px phone the card comes before the controls."""
    server = serve_app(APPS)
    for width, height in ((1280, 800), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            for slug in FIRST_SCREEN:
                page.goto(server.urls[slug])
                wait_idle(page)
                # the card is a JSComponent: its ES module may render after the document is idle
                boxes = wait_for(lambda: (b := first_screen_boxes(page, slug))["card"] and b,
                                 f"{slug}'s step card drawn")
                card, figure, control = boxes["card"], boxes["figure"], boxes["control"]
                assert card and figure and control, (slug, width, boxes)
                if width == 1280:
                    assert card[0] >= 0 and card[1] <= height, (slug, boxes)
                    assert 0 <= control[0] and control[1] <= height, (slug, boxes)
                    assert figure[0] <= height - 100, (slug, boxes)
                else:
                    assert card[1] <= height and card[1] <= control[0] and card[1] <= figure[0], (slug, boxes)
        finally:
            context.close()
