"""The lab in a real browser: Start makes the loss curve grow and the boundary change, Pause
stops it, Step adds exactly one step, Reset starts over; a preset link opens compare mode."""

from __future__ import annotations

import re

import numpy as np

from browser_harness import address, model_prop, source_data, wait_idle, wait_for

APP = "apps/lab.py"
LOSS = "lab-loss-train-source"
IMAGE = "lab-boundary-a-image"


def n_loss_points(page) -> int:
    return len(source_data(page, LOSS)["x"])


def boundary(page) -> np.ndarray:
    return np.array(source_data(page, IMAGE)["image"][0], float).ravel()


def shown_step(page) -> int | None:
    m = re.search(r"step ([\d,]+)", model_prop(page, "lab-boundary-a-title", "text") or "")
    return int(m.group(1).replace(",", "")) if m else None


def button(page, label):
    return page.get_by_role("button", name=label, exact=True)


def test_start_pause_step_reset(serve_app, page):
    server = serve_app(APP)
    page.goto(server.base_url + "/lab?depth=3&width=16&n=100")
    wait_idle(page)
    assert n_loss_points(page) == 1                    # the untrained net at step 0
    before = boundary(page)
    assert shown_step(page) == 0

    button(page, "▶ Start").click()
    wait_for(lambda: n_loss_points(page) > 8, "the loss curve to grow")
    wait_for(lambda: not np.allclose(boundary(page), before, atol=1e-3), "the boundary to change")
    assert np.isfinite(boundary(page)).all()

    button(page, "Pause").click()
    wait_for(lambda: page.get_by_text("paused").count() > 0, "the status to say paused")
    page.wait_for_timeout(300)
    n, step = n_loss_points(page), shown_step(page)
    page.wait_for_timeout(700)
    assert n_loss_points(page) == n and shown_step(page) == step     # nothing moves while paused

    button(page, "Step once").click()
    wait_for(lambda: shown_step(page) == step + 1, "exactly one more step")

    button(page, "↺ Reset").click()
    wait_for(lambda: shown_step(page) == 0 and n_loss_points(page) == 1, "a fresh start")
    wait_for(lambda: "depth=3" in address(page) and "width=16" in address(page), "the URL to follow")


def test_a_preset_link_opens_its_comparison(serve_app, page):
    server = serve_app(APP)
    page.goto(server.base_url + "/lab?preset=tiny-batch")
    wait_idle(page)
    wait_for(lambda: page.get_by_text("When a trick hurts").count() > 0, "the preset's caption")
    assert re.search(r"B · step 0", model_prop(page, "lab-boundary-b-title", "text"))
    wait_for(lambda: "batch=2" in address(page) and "b_norm=layer" in address(page), "the URL to follow")
    button(page, "▶ Start").click()
    wait_for(lambda: len(source_data(page, "lab-loss-b-train-source")["x"]) > 3, "B's curve to grow")
    button(page, "Pause").click()
