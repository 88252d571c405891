"""Browsers that lie. A page's own JavaScript sets its models to values no control offers,
rewrites a plot's data, sends an oversized and a malformed websocket message; a page from an
origin the server does not allow tries to open a session. The server refuses each change in
one log line without a traceback, shows the browser its own value again, closes only the
offending socket, and keeps serving an honest learner next door."""

from __future__ import annotations

import re

import pytest

from browser_harness import launch_chromium, slider_value, source_data, wait_for, wait_idle
from deeptricks_server import DeeptricksServer

from deeptricks.server import guard

SET = """([title, attr, value]) => {
  for (const m of Bokeh.documents[0].all_models)
    if (m.type === "Slider" && String(m.title).includes(title)) {
      m[attr] = value === "NaN" ? NaN : value;
      return true;
    }
  return false;
}"""

REFUSED = "refused a change from the browser"


@pytest.fixture(scope="module")
def server():
    s = DeeptricksServer((), ()).start()
    yield s
    s.stop()


def _honest(browser, server):
    """A second learner on another page, whose slider must keep answering."""
    ctx = browser.new_context(viewport={"width": 1000, "height": 800})
    page = ctx.new_page()
    page.goto(server.base_url + "/dropout/units")
    wait_idle(page)
    return ctx, page


def _moves(page) -> None:
    before = len(source_data(page, "dropout-dropped")["col"])
    page.locator(".noUi-handle").first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for(lambda: len(source_data(page, "dropout-dropped")["col"]) > before, "the honest learner's grid")


def test_values_no_control_offers_are_refused_and_put_back(server, page):
    offset = server.log_offset()
    page.goto(server.base_url + "/dropout/units?p=0.5")
    wait_idle(page)
    ctx, honest = _honest(page.context.browser, server)
    try:
        dropped = len(source_data(page, "dropout-dropped")["col"])
        lies = [("Dropout rate", "value", float("nan")), ("Dropout rate", "value", 5),
                ("Dropout rate", "value", -1e308), ("Layer", "value", 3.5), ("Dropout rate", "value", "0.7")]
        for title, attr, value in lies:
            page.evaluate(SET, [title, attr, "NaN" if value != value else value])
            # the browser is sent the server's value back
            wait_for(lambda: slider_value(page, title) == (0.5 if title == "Dropout rate" else 1),
                     f"{title} back at the server's value after {value!r}")
        # a button group pressed past its last button, a plot's data rewritten
        page.evaluate("""() => { for (const m of Bokeh.documents[0].all_models)
                                   if (Array.isArray(m.labels) && m.labels.includes("test")) m.active = 99; }""")
        page.evaluate("""() => { Bokeh.documents[0].get_model_by_name("dropout-dropped").data = {col: [1], row: [1]} }""")
        wait_for(lambda: len(source_data(page, "dropout-dropped")["col"]) == dropped, "the plot's own data back")
        wait_for(lambda: server.log_since(offset).count(REFUSED) >= len(lies) + 2, "a line per refusal")
        log = server.log_since(offset)
        assert log.count(REFUSED) == len(lies) + 2, log
        assert "Traceback" not in log and "ERROR" not in log, log
        # the page still works for its learner, and so does the one next door
        _moves(page)
        _moves(honest)
        assert server.log_since(offset).count(REFUSED) == len(lies) + 2
    finally:
        ctx.close()


def _socket_close(page, *frames: str) -> dict:
    """Open a second websocket into this page's session and send ``frames``: how it closed."""
    token = re.search(r'"token"\s*:\s*"([^"]+)"', page.content()).group(1)
    return page.evaluate("""async ([token, frames]) => {
      const url = location.href.replace(/^http/, "ws").split("?")[0] + "/ws";
      const ws = new WebSocket(url, ["bokeh", token]);
      return await new Promise((done) => {
        ws.onopen = () => { for (const f of frames) ws.send(f); };
        ws.onclose = (e) => done({code: e.code, opened: true});
        setTimeout(() => done({code: null}), 10000);
      });
    }""", [token, list(frames)])


def test_oversized_and_malformed_messages_close_only_their_socket(server, page):
    offset = server.log_offset()
    page.goto(server.base_url + "/dropout/units")
    wait_idle(page)
    big = _socket_close(page, "x" * (guard.MAX_MESSAGE_BYTES + 1024))
    # Tornado's limit: "message too big" (1009), or 1006 when it drops the socket while the
    # browser is still sending
    assert big["code"] in (1009, 1006), big
    # a message is three frames (header, metadata, content): these are no Bokeh message
    bad = _socket_close(page, "{not bokeh", "{}", "{}")
    assert bad["code"] in (10000, 10001), bad               # Bokeh's own refusal, after reading it
    # the page's own connection is untouched: its slider still answers
    _moves(page)
    assert "Traceback" not in server.log_since(offset)


def test_a_page_from_an_origin_not_allowed_gets_no_page(server, course_site, page, console_log):
    """Bokeh answers a script tag's request from any page with a session and refuses only
    its websocket afterwards; the route builds nothing for a page on an origin not allowed."""
    from deeptricks.__main__ import embed_snippets

    # the embed fails in the course page's console, as it should
    console_log.allow(r"websocket|WebSocket|Bokeh session|Bokeh server|rendering Bokeh|es-module-shims")
    write, port = course_site                              # another port: another origin
    script, _ = embed_snippets("dropout/units", server.base_url, "")
    offset = server.log_offset()
    page.goto(write("course.html", f"<!doctype html><html><body><h1>Course</h1>{script}</body></html>"))
    page.wait_for_timeout(3000)
    has_doc = page.evaluate("() => window.Bokeh !== undefined && Bokeh.documents.length > 0")
    assert not has_doc
    log = wait_for(lambda: server.log_since(offset) if "refused a script-tag session" in server.log_since(offset)
                   else None, "the refusal in the server's log")
    assert f"a page on 127.0.0.1:{port}" in log and "Traceback" not in log, log
