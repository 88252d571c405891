"""Live embedding in a course site: a static page on another origin embeds a view and an explorable
with the `server_document` script tags that `deeptricks embed` prints (and a third in an iframe);
both render from the app server's resources, open in the state the snippet asks for, respond to
their controls, and leave the course page's address alone."""

from __future__ import annotations

from browser_harness import free_port, slider_value, wait_for, wait_idle
from deeptricks_server import DeeptricksServer

from deeptricks.__main__ import embed_snippets

# Reads a model by name from whichever embedded document holds it (one per script tag).
JS_DATA = """([name, prop]) => {
  for (const doc of Bokeh.documents) {
    const m = doc.get_model_by_name(name);
    if (m == null) continue;
    const v = m[prop];
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, Array.from(x)]));
    return v;
  }
  throw new Error(`no embedded document has a model named '${name}'`);
}"""


# Records every history.pushState/replaceState on the course page itself (not in its iframes,
# whose own pages keep their address in step as usual).
JS_COUNT_URL_WRITES = """(() => {
  if (window !== window.top) return;
  window.__urlWrites = [];
  for (const f of ["pushState", "replaceState"]) {
    const orig = history[f].bind(history);
    history[f] = (s, t, u) => { window.__urlWrites.push(`${f} ${u}`); return orig(s, t, u); };
  }
})()"""


def embedded(page, name: str, prop: str = "data"):
    return page.evaluate(JS_DATA, [name, prop])


def slider(page, title: str) -> float:
    return page.evaluate("""(title) => {
      const found = [];
      for (const doc of Bokeh.documents)
        for (const m of doc.all_models)
          if (m.type === "Slider" && String(m.title).includes(title)) found.push(m.value);
      if (found.length !== 1) throw new Error(`${found.length} sliders titled '${title}'`);
      return found[0];
    }""", title)


def test_course_page_embeds_two_live_explorables(course_site, page):
    write, course_port = course_site
    port = free_port()
    # origins: the course site (script tags) and the server's own (the iframe's page)
    server = DeeptricksServer((), ("--allow-websocket-origin", f"127.0.0.1:{course_port}",
                                   "--allow-websocket-origin", f"127.0.0.1:{port}"), port=port)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    try:
        server.start()
        base = server.base_url
        drop_script, _ = embed_snippets("dropout/units", base, "p=0.9")   # one view, drawn in the page
        bn_script, _ = embed_snippets("batch_norm", base, "depth=12")
        _, ln_iframe = embed_snippets("layer_norm", base, "batch=4", height=700)
        url = write("week1.html", f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Week 1</title></head>
<body><h1>Week 1: tricks that train deep nets</h1>
<p>Drag the dropout rate:</p><div id="drop">{drop_script}</div>
<p>Now switch batch norm off:</p><div id="bn">{bn_script}</div>
<p>Layer norm, in a frame:</p><div id="ln">{ln_iframe}</div>
</body></html>""")
        page.add_init_script(JS_COUNT_URL_WRITES)
        page.goto(url + "?unit=3")
        page.wait_for_function("() => window.Bokeh && Bokeh.documents.length === 2 "
                               "&& Bokeh.documents.every((d) => d.is_idle)", timeout=60_000)

        # both open in the state the snippets ask for
        assert slider(page, "Dropout rate") == 0.9
        assert slider(page, "Depth") == 12
        dropped = lambda: len(embedded(page, "dropout-dropped")["col"])
        before = wait_for(lambda: dropped() > 200 and dropped(), "about 90% of units dropped")

        # the dropout slider, from the keyboard: p goes down and fewer units are dropped
        handle = page.locator("#drop .noUi-handle").first
        handle.focus()
        for _ in range(4):
            page.keyboard.press("ArrowLeft")
        wait_for(lambda: slider(page, "Dropout rate") < 0.9 and dropped() < before,
                 "the dropout grid to follow the slider")
        # the view's link to its full page points at the app server, in the view's current state
        link = page.locator("#drop a", has_text="Open the full explorable")
        href = lambda: link.get_attribute("href")   # noqa: E731
        wait_for(lambda: href().startswith(base + "/dropout?") and "p=0.7" in href(), "the view's link to follow")

        # the batch-norm switch: the spread chart's "with BatchNorm" line goes away
        with_bn = "bn-spread-with-batchnorm-source"
        assert len(embedded(page, with_bn)["y"]) == 12
        switch = page.locator("#bn input[type=checkbox]")
        assert switch.count() == 1 and switch.is_checked()
        switch.click()
        wait_for(lambda: embedded(page, with_bn)["y"] == [], "the BatchNorm line to go")

        # the course page's address and history are untouched by both sessions
        assert page.url == url + "?unit=3"
        assert page.evaluate("window.__urlWrites") == []

        # the iframe alternative: its own page, opened with the snippet's query
        frame_el = page.locator("#ln iframe")
        frame_el.scroll_into_view_if_needed()
        frame = frame_el.element_handle().content_frame()
        wait_for(lambda: frame.evaluate("() => window.Bokeh !== undefined && Bokeh.documents.length > 0"),
                 "the iframe's page", timeout=60)
        wait_idle(frame, timeout=60_000)
        assert slider_value(frame, "Batch size") == 4
        assert "batch=4" in frame.url

        # every script, stylesheet and websocket came from the app server: the course site was
        # asked only for its page (and a favicon), and nothing went to a CDN
        course = f"http://127.0.0.1:{course_port}/"
        assert [u for u in asked if u.startswith(course) and not u.endswith("favicon.ico")] == [url + "?unit=3"]
        local = (course, base + "/", "blob:", "data:")
        assert all(u.startswith(local) for u in asked), [u for u in asked if not u.startswith(local)]
        problems = server.errors_since(0)
        assert not problems, problems
    finally:
        server.stop()
