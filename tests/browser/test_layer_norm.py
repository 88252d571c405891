"""The layer-norm app in a real browser: it loads cleanly, and the batch-size slider moved with
the keyboard changes batch norm's output for example 1 but not layer norm's."""

from __future__ import annotations

import time

from browser_harness import address, source_data, wait_for, wait_idle, slider_value

APP = "apps/layer_norm.py"
BN, LN = "ln-shrink-bn-source", "ln-shrink-ln-source"


def batch_value(page) -> int:
    return int(slider_value(page, "Batch size"))


def test_keyboard_batch_slider_moves_batch_norm_not_layer_norm(serve_app, page):
    server = serve_app(APP)
    page.goto(server.url)
    wait_idle(page)
    assert batch_value(page) == 8
    assert len(source_data(page, "ln-table-source")["value"]) == 8 * 12
    bn, ln = source_data(page, BN)["y"], source_data(page, LN)["y"]
    assert len(bn) == len(ln) == 12

    handle = page.locator('.noUi-handle[aria-valuemax^="64"]')
    assert handle.count() == 1
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    deadline = time.monotonic() + 20
    while batch_value(page) != 3 or source_data(page, BN)["y"] == bn:
        assert time.monotonic() < deadline, (batch_value(page), source_data(page, BN)["y"])
        page.wait_for_timeout(100)
    assert source_data(page, LN)["y"] == ln
    wait_for(lambda: "batch=3" in address(page), "the URL to follow")

    for _ in range(2):
        page.keyboard.press("ArrowLeft")
    deadline = time.monotonic() + 20
    while source_data(page, BN)["y"] != []:
        assert time.monotonic() < deadline, (batch_value(page), address(page), source_data(page, BN)["y"])
        page.wait_for_timeout(100)
    assert page.get_by_text("Batch norm is undefined for a batch of one").first.is_visible()
    assert source_data(page, LN)["y"] == ln
