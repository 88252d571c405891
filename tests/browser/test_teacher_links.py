"""A teacher's link in Chromium: ``hide=`` removes controls, ``lock=`` greys one out so neither the
mouse nor the keyboard moves it, and both stay in the address while the learner works, so a
reload opens the same stripped-down page."""

from __future__ import annotations

import urllib.parse

from browser_harness import address, slider_value, wait_for, wait_idle

APPS = ("apps/lab.py", "apps/dropout.py")


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(address(page)).query))


def test_a_teachers_link_hides_and_locks_and_survives_a_reload(serve_app, page):
    server = serve_app(APPS)
    page.goto(server.urls["lab"] + "?preset=dropout&hide=depth,width,optimizer&lock=lr&step=0")
    wait_idle(page)
    for _ in range(2):                                       # as opened, and after a reload
        assert page.get_by_text("this page has no control named").count() == 0   # every name known
        assert page.get_by_text("Noise", exact=False).first.is_visible()
        assert page.get_by_text("Depth (blocks)", exact=False).count() == 0 or \
            not page.get_by_text("Depth (blocks)", exact=False).first.is_visible()
        handle = page.get_by_role("slider", name="Learning rate").first
        assert handle.is_visible()
        before = slider_value(page, "Learning rate")
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(400)
        assert slider_value(page, "Learning rate") == before        # locked: the key does nothing
        # the learner moves another control: the teacher's keys stay in the address
        noise = page.get_by_role("slider", name="Noise").first
        noise.focus()
        page.keyboard.press("ArrowRight")
        wait_for(lambda: query(page).get("noise") not in (None, "0.1"), "the noise in the address")
        q = query(page)
        assert q["hide"] == "depth,width,optimizer" and q["lock"] == "lr"
        page.reload()
        wait_idle(page)


def test_a_misspelt_name_is_named_on_the_page(serve_app, page):
    server = serve_app(APPS)
    page.goto(server.urls["dropout"] + "?hide=rate")
    wait_idle(page)
    note = page.get_by_text("this page has no control named")
    wait_for(lambda: note.count() > 0 and note.first.is_visible(), "the note on the misspelt name")
    assert "rate" in note.first.inner_text() and "p" in note.first.inner_text()
