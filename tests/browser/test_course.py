"""A real course page (examples/course/index.html), served from another origin, frames three
live views. Each renders in the state its link asks for, follows its control, fits its frame
(frames.js sizes it: no inner scrollbar) at 1280 px and at 390 px, and leaves the course page's
address alone."""

from __future__ import annotations

from pathlib import Path

from browser_harness import slider_value, source_data, wait_for, wait_idle
from deeptricks_server import DeeptricksServer

COURSE = Path(__file__).resolve().parents[2] / "examples" / "course" / "index.html"

JS_INNER = """() => ({content: document.documentElement.scrollHeight,
                      inner_w: document.documentElement.scrollWidth})"""


def frames_of(page):
    """The course page's deeptricks frames, each loaded and drawn: [(element, frame)]."""
    out = []
    els = page.locator("iframe[data-deeptricks]")
    for i in range(els.count()):
        el = els.nth(i)
        el.scroll_into_view_if_needed()              # the frames load lazily
        frame = el.element_handle().content_frame()
        wait_for(lambda: frame.evaluate("() => window.Bokeh !== undefined && Bokeh.documents.length > 0"),
                 f"frame {i}'s view", timeout=60)
        wait_idle(frame, timeout=60_000)
        out.append((el, frame))
    return out


def fits(el, frame) -> dict | None:
    """The sizes when the frame is fitted to its content (frames.js moved it off its first 600 px),
    else None. (The course page cannot look into a frame from another origin: each side is
    measured where it lives.)"""
    size = {**frame.evaluate(JS_INNER),
            **el.evaluate("(el) => ({frame: el.clientHeight, frame_w: el.clientWidth})")}
    ok = (size["frame"] != 600 and size["content"] <= size["frame"] + 1
          and size["inner_w"] <= size["frame_w"] + 1)
    return size if ok else None


def test_the_course_page_frames_live_views_that_fit(course_site, page):
    write, _ = course_site
    server = DeeptricksServer((), ()).start()         # iframes: only the server's own origin opens sessions
    try:
        url = write("holding-it-together.html", COURSE.read_text().replace("http://localhost:5006", server.base_url))
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            framed = frames_of(page)
            assert len(framed) == 3
            assert [slider_value(f, "Dropout rate") for _, f in (framed[0], framed[2])] == [0.7, 0.9]
            for i, (el, frame) in enumerate(framed):
                el.scroll_into_view_if_needed()
                size = wait_for(lambda: fits(el, frame), f"frame {i} to fit its content at {width} px", timeout=20)
                # a view, not a page (~2,300 px): at most 650 px in a 760-px column; on a phone
                # its figures stack
                assert size["frame"] <= (650 if width > 760 else 1200), size
            assert page.evaluate("() => window.location.href") == url

        # the first view follows its slider from the keyboard, and its frame keeps fitting
        el, frame = framed[0]
        el.scroll_into_view_if_needed()
        dropped = lambda: len(source_data(frame, "dropout-dropped")["col"])   # noqa: E731
        before = dropped()
        frame.locator(".noUi-handle").first.focus()
        for _ in range(4):
            page.keyboard.press("ArrowLeft")
        wait_for(lambda: slider_value(frame, "Dropout rate") == 0.5 and dropped() < before,
                 "the unit grid to follow the slider")
        # the address follows in its own message from the server, after the figure's
        wait_for(lambda: "p=0.5" in frame.evaluate("() => window.location.search"),
                 "the view's address to follow the slider")
        assert wait_for(lambda: fits(el, frame), "the frame to fit after the move")
        assert page.evaluate("() => window.location.href") == url
        problems = server.errors_since(0)
        assert not problems, problems
    finally:
        server.stop()


def test_panel_serve_answers_a_view_in_the_query(serve_app, page):
    """`panel serve apps/*.py` gives each app file one route, so a view is /NAME?view=VIEW: the
    view alone, in the link's state, whose full-page link drops the view's own keys."""
    server = serve_app("apps/dropout.py")
    page.goto(server.base_url + "/dropout?view=units&p=0.7")
    wait_idle(page)
    names = page.evaluate("""() => ['dropout-units', 'dropout-header', 'dropout-readout']
        .map((n) => Bokeh.documents[0].get_model_by_name(n) != null)""")
    assert names == [True, False, False]                # the unit grid view, not the page
    assert slider_value(page, "Dropout rate") == 0.7
    link = page.locator("a", has_text="Open the full explorable")
    href = link.get_attribute("href")
    assert href.startswith("/dropout?") and "p=0.7" in href and "view=" not in href, href
