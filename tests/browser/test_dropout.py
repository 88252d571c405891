"""The dropout app in a real browser: loads cleanly, a mouse drag changes the plots and the
last value wins, the URL opens a given state, and two sessions stay independent."""

from __future__ import annotations


import numpy as np

from browser_harness import address, source_data, wait_idle, wait_for, slider_value

from deeptricks.explorables.dropout_model import DropoutModel

APP = "apps/dropout.py"
DROPPED = "dropout-dropped"
UNITS = "dropout-units-source"


def p_slider_value(page) -> float:
    return slider_value(page, "Dropout rate")


def n_dropped(page) -> int:
    return len(source_data(page, DROPPED)["col"])


def test_loads_and_a_mouse_drag_changes_the_plots(serve_app, page):
    server = serve_app(APP)
    page.goto(server.base_url + "/dropout")
    wait_idle(page)
    assert p_slider_value(page) == 0.5
    dropped_before = n_dropped(page)
    assert 90 < dropped_before < 170          # about half of 256 units

    handle = page.locator(".noUi-handle").first
    track = page.locator(".noUi-base").first
    hb, tb = handle.bounding_box(), track.bounding_box()
    x0, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    page.mouse.move(x0, y)
    page.mouse.down()
    for x in np.linspace(x0, tb["x"] + tb["width"], 20)[1:]:       # to the end: p = 0.9
        page.mouse.move(float(x), y)
        page.wait_for_timeout(15)
    for x in np.linspace(tb["x"] + tb["width"], tb["x"] + 0.2 * tb["width"], 20)[1:]:
        page.mouse.move(float(x), y)
        page.wait_for_timeout(15)
    page.mouse.up()
    p = p_slider_value(page)
    assert 0.1 <= p <= 0.25, p
    # the page ends on the value where the drag stopped: exactly the grid the engine gives for p
    expected = DropoutModel().compute(p).grid
    matches = lambda: np.allclose(source_data(page, UNITS)["value"], expected, rtol=1e-5)
    wait_for(matches, f"the unit grid for p = {p}")
    page.wait_for_timeout(1000)
    assert matches(), "a stale update arrived after the drag"
    assert n_dropped(page) != dropped_before


def test_url_query_opens_that_state(serve_app, page):
    server = serve_app(APP)
    page.goto(server.base_url + "/dropout?p=0.9&mode=train&layer=3")
    wait_idle(page)
    assert p_slider_value(page) == 0.9
    wait_for(lambda: n_dropped(page) > 200, "about 90% of units dropped")
    # test mode from the link: nothing dropped
    page.goto(server.base_url + "/dropout?p=0.9&mode=test")
    wait_idle(page)
    wait_for(lambda: n_dropped(page) == 0 or None, "no dropped units in test mode")
    wait_for(lambda: "mode=test" in address(page), "the URL to follow")


def test_bad_query_shows_a_note_not_an_error(serve_app, page):
    server = serve_app(APP)
    page.goto(server.base_url + "/dropout?p=banana&layer=400")
    wait_idle(page)
    assert p_slider_value(page) == 0.5
    wait_for(lambda: page.get_by_text("adjusted").count() > 0, "the note about the link")


def test_two_sessions_do_not_share_state(serve_app, browser):
    server = serve_app(APP)
    a = browser.new_page()
    b = browser.new_page()
    try:
        a.goto(server.base_url + "/dropout?p=0.1")
        b.goto(server.base_url + "/dropout?p=0.8")
        wait_idle(a)
        wait_idle(b)
        da = wait_for(lambda: n_dropped(a) < 60 and n_dropped(a) or None, "session A at p=0.1")
        db = wait_for(lambda: n_dropped(b) > 170 and n_dropped(b) or None, "session B at p=0.8")
        a.reload()
        wait_idle(a)
        assert abs(n_dropped(a) - da) < 10 and n_dropped(b) == db
    finally:
        a.close()
        b.close()
