"""The batch-norm app in a real browser: it loads cleanly, the BatchNorm switch changes the
comparison, and a link opens a given state (a batch of one shows the explanation)."""

from __future__ import annotations


from browser_harness import address, source_data, wait_idle, wait_for, slider_value as slider

APP = "apps/batch_norm.py"
RIGHT = "bn-right-values-source"
LEFT = "bn-left-values-source"


def test_loads_and_the_switch_changes_the_comparison(serve_app, page):
    server = serve_app(APP)
    page.goto(server.url)
    wait_idle(page)
    assert slider(page, "Depth") == 10
    with_bn = source_data(page, RIGHT)["top"]
    left = source_data(page, LEFT)["top"]
    assert with_bn and with_bn != left
    switch = page.locator("input[type=checkbox]")      # the only checkbox: "BatchNorm in the right-hand net"
    assert switch.count() == 1 and switch.is_checked()
    switch.click()
    # switched off, the right-hand net is the left one
    wait_for(lambda: source_data(page, RIGHT)["top"] == left, "the right column to show the plain net")
    wait_for(lambda: "bn=false" in address(page), "the URL to follow")
    switch.press("Space")                              # and back, from the keyboard
    wait_for(lambda: source_data(page, RIGHT)["top"] == with_bn, "BatchNorm back on the right")


def test_link_opens_that_state_and_a_batch_of_one_is_explained(serve_app, page):
    server = serve_app(APP)
    page.goto(server.url + "?depth=30&bn=false&batch=1")
    wait_idle(page)
    assert slider(page, "Depth") == 30
    assert slider(page, "Batch size") == 1
    wait_for(lambda: page.get_by_text("A batch of one has no batch statistics").count() > 0,
             "the batch-of-one explanation")
    assert page.get_by_text("A batch of one has no batch statistics").first.is_visible()
    assert source_data(page, "bn-one-source")["y"] == []
    assert len(source_data(page, "bn-one-ref")["y"]) == 6            # the plot is not blank
    assert source_data(page, RIGHT)["top"] == source_data(page, LEFT)["top"]
    assert page.get_by_text("Showing 12 of 30 layers").count() >= 1
