"""Smoke test of the browser harness on the latency-floor app: a real mouse drag
on the slider must update the histogram, and the last update must win."""

from __future__ import annotations

import importlib.util
import time

import numpy as np

from browser_harness import ROOT, models_of_type, source_data, wait_idle

FLOOR = "benchmarks/apps/floor.py"


def _load_floor():
    spec = importlib.util.spec_from_file_location("deeptricks_bench_floor", ROOT / FLOOR)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # __name__ is not bokeh_*: the app is not built
    return mod


def _slider_value(page) -> float:
    sliders = models_of_type(page, "Slider")
    assert len(sliders) == 1, sliders
    return float(sliders[0]["value"])


def test_mouse_drag_updates_histogram_and_last_value_wins(serve_app, page):
    floor = _load_floor()
    server = serve_app(FLOOR)
    page.goto(server.url)
    wait_idle(page)

    before = source_data(page, floor.SOURCE_NAME)
    assert set(before) >= {"left", "right", "top"}
    assert len(before["top"]) == floor.N_BINS
    np.testing.assert_allclose(before["top"], floor.histogram(floor.SLIDER_VALUE))
    assert _slider_value(page) == floor.SLIDER_VALUE

    handle = page.locator(".noUi-handle").first
    track = page.locator(".noUi-base").first
    hb, tb = handle.bounding_box(), track.bounding_box()
    assert hb and tb and tb["width"] > 100, (hb, tb)
    x0, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2

    # A continuous drag: far right, then back a bit, so the final value is neither
    # an end of the track nor the furthest point reached (stale updates would show).
    page.mouse.move(x0, y)
    page.mouse.down()
    for x in np.linspace(x0, tb["x"] + 0.9 * tb["width"], 25)[1:]:
        page.mouse.move(float(x), y)
        page.wait_for_timeout(12)
    for x in np.linspace(tb["x"] + 0.9 * tb["width"], tb["x"] + 0.7 * tb["width"], 10)[1:]:
        page.mouse.move(float(x), y)
        page.wait_for_timeout(12)
    page.mouse.up()

    value = _slider_value(page)
    assert floor.SLIDER_VALUE < value < floor.SLIDER_END, value
    # the handle's accessible text shows the same value (Bokeh formats it to 2 decimals)
    text = handle.get_attribute("aria-valuetext")
    assert text is not None and abs(float(text) - value) < 0.006, (text, value)
    expected = floor.histogram(value)

    deadline = time.monotonic() + 15
    while True:
        top = source_data(page, floor.SOURCE_NAME)["top"]
        if np.allclose(top, expected):
            break
        assert time.monotonic() < deadline, (
            f"histogram never matched the final slider value {value}\n"
            f"server log:\n{server.log_text(3000)}"
        )
        page.wait_for_timeout(100)

    assert not np.allclose(top, before["top"])
    # ...and it stays: no late (stale) update overwrites the final state.
    page.wait_for_timeout(1000)
    np.testing.assert_allclose(source_data(page, floor.SOURCE_NAME)["top"], expected)
    assert _slider_value(page) == value
