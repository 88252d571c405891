"""The residual page in a real browser: it loads, the keyboard drives it, links restore it; its
training view, served alone, trains from its own button."""

from __future__ import annotations


import numpy as np

from browser_harness import address, source_data, wait_for, wait_idle
from deeptricks_server import DeeptricksServer

from deeptricks.explorables.residual_model import EVAL_EVERY, TRAIN_STEPS

APP = "apps/residual.py"
GRAD_PLAIN = "residual-grad-plain-source"
GRAD_RESIDUAL = "residual-grad-residual-source"
GRAD_YOURS = "residual-grad-yours-source"


def test_loads_and_shows_the_vanishing_gradient(serve_app, page):
    server = serve_app(APP)
    page.goto(server.url)
    wait_idle(page)
    plain, res = source_data(page, GRAD_PLAIN), source_data(page, GRAD_RESIDUAL)
    assert len(plain["y"]) == len(res["y"]) == 50
    assert plain["y"][0] < 1e-3 * plain["y"][-1]
    assert res["y"][-1] / 10 < res["y"][0] < 10 * res["y"][-1]
    np.testing.assert_allclose(source_data(page, GRAD_YOURS)["y"], res["y"])
    assert page.get_by_text("Block 1 receives").count() == 1


def test_keyboard_moves_depth_and_toggles_the_shortcut(serve_app, page):
    server = serve_app(APP)
    page.goto(server.url)
    wait_idle(page)

    handle = page.locator(".noUi-handle").first        # the depth slider comes first
    handle.focus()
    for _ in range(3):
        handle.press("ArrowLeft")
    wait_for(lambda: len(source_data(page, GRAD_PLAIN)["y"]) == 47, "depth 47 in the gradient chart")
    wait_for(lambda: "depth=47" in address(page), "the URL to follow")

    plain_radio = page.get_by_role("radio", name="plain")
    plain_radio.focus()
    plain_radio.press("Space")
    plain = source_data(page, GRAD_PLAIN)["y"]
    wait_for(lambda: np.allclose(source_data(page, GRAD_YOURS)["y"], plain),
              "the 'your net' band to move to the plain net")
    wait_for(lambda: len(source_data(page, "residual-paths-shortcut-source")["y"]) == 0,
              "the shortcut term to disappear for the plain net")
    wait_for(lambda: "residual=false" in address(page), "the URL to follow")


def test_link_opens_in_that_state_and_notes_bad_values(serve_app, page):
    server = serve_app(APP)
    page.goto(server.url + "?depth=80&residual=false")
    wait_idle(page)
    wait_for(lambda: len(source_data(page, GRAD_PLAIN)["y"]) == 80, "depth 80 from the link")
    np.testing.assert_allclose(source_data(page, GRAD_YOURS)["y"], source_data(page, GRAD_PLAIN)["y"])
    assert page.get_by_role("radio", name="plain").is_checked()

    page.goto(server.url + "?depth=500&activation=gelu")
    wait_idle(page)
    wait_for(lambda: len(source_data(page, GRAD_PLAIN)["y"]) == 100, "depth clamped to 100")
    assert page.get_by_text("Some settings in the link were adjusted").count() == 1
    assert page.get_by_text("above the maximum").count() >= 1


def test_the_training_view_trains_from_its_own_button(page):
    server = DeeptricksServer((), ()).start()          # views are served by `deeptricks serve`
    try:
        page.goto(f"{server.base_url}/residual/training?depth=4")
        wait_idle(page)
        assert page.get_by_text("Not run yet").count() == 1
        page.get_by_role("button", name="Run training comparison").click()
        wait_for(lambda: page.get_by_text(f"After {TRAIN_STEPS} steps").count() == 1, "the run to finish",
                 timeout=90)
        for name in ("shallow-plain", "deep-plain", "deep-residual"):
            xs = source_data(page, f"residual-train-{name}-source")["x"]
            assert len(xs) == TRAIN_STEPS // EVAL_EVERY + 1 and xs[-1] == TRAIN_STEPS
        problems = server.errors_since(0)
        assert not problems, problems
    finally:
        server.stop()
