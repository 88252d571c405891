"""The layer-norm app in a real browser: it loads cleanly, and the batch-size slider moved with
the keyboard changes batch norm's output for example 1 but not layer norm's. Its table view
alone shows one index slider at a time without leaving a gap for the other, and shrinks the
values in the cells when the view is narrow."""

from __future__ import annotations

import time

from browser_harness import address, source_data, wait_for, wait_idle, slider_value
from deeptricks_server import DeeptricksServer

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


JS_CELL_FONT = "() => Bokeh.documents[0].get_model_by_name('ln-table-values').glyph.text_font_size.value"


def test_axes_view_one_index_slider_in_place_and_cell_values_that_fit(page):
    server = DeeptricksServer((), ()).start()
    offset = server.log_offset()
    try:
        page.set_viewport_size({"width": 700, "height": 800})
        page.goto(f"{server.base_url}/layer_norm/axes")
        wait_idle(page, timeout=60_000)

        def slider_gap(max_value: str) -> float:
            """Pixels between the method buttons and the one slider shown (whose max is ``max_value``)."""
            shown = [el for el in page.locator(".noUi-target").all() if el.is_visible()]
            assert len(shown) == 1
            assert shown[0].locator(f'.noUi-handle[aria-valuemax^="{max_value}"]').count() == 1
            buttons = page.locator(".bk-btn", has_text="layer norm").bounding_box()
            return shown[0].bounding_box()["x"] - (buttons["x"] + buttons["width"])

        assert 0 < slider_gap("8") < 60           # the example slider; the feature slider's slot is gone
        page.locator(".bk-btn", has_text="batch norm").click()
        wait_for(lambda: page.locator('.noUi-handle[aria-valuemax^="12"]').first.is_visible(),
                 "the feature slider to replace the example slider")
        assert 0 < slider_gap("12") < 60
        assert page.evaluate(JS_CELL_FONT) == "11px"

        page.set_viewport_size({"width": 320, "height": 800})
        wait_for(lambda: page.evaluate(JS_CELL_FONT) in ("8px", "9px"), "the cell values to shrink")
        assert not server.errors_since(offset)
    finally:
        server.stop()
