"""The offline course page (examples/course/offline.html) with the views `deeptricks export`
writes beside it, in Chromium with every request outside the export's folder refused: opened
from file:// and from a static web server, each view renders in the state its link asks for,
follows its control, fits its frame (frames.js), and the three views load the shared
static/ files and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import bokeh
import pytest

from browser_harness import models_of_type, source_data, wait_for, wait_idle

from deeptricks import export as ex

COURSE = Path(__file__).resolve().parents[2] / "examples" / "course" / "offline.html"
VIEWS = ["dropout/units", "batch_norm/compare"]
P_GRID = ex.spec_for("dropout").grid["p"]


@pytest.fixture(scope="module")
def offline_course(tmp_path_factory) -> Path:
    """The course page and, beside it, deeptricks-offline/ as its comment says to write it."""
    site = tmp_path_factory.mktemp("offline-course")
    shared = tmp_path_factory.getbasetemp() / "export-views"     # made once per test session
    if not (shared / "index.html").is_file():
        ex.export(shared, VIEWS, log=None)
    shutil.copytree(shared, site / "deeptricks-offline")
    shutil.copy(COURSE, site / "offline.html")
    return site


def _on_grid(frame, values: tuple):
    """The value a grid control shows: offline, a slider is a discrete one over the stored
    values (its value their index), told apart here by how many it has."""
    found = [s for s in models_of_type(frame, "Slider") if s.get("end") == len(values) - 1 and not s.get("disabled")]
    assert len(found) == 1, found
    return values[int(found[0]["value"])]


def _rate(frame) -> float:
    return _on_grid(frame, P_GRID)


def _frames(page):
    els = page.locator("iframe[data-deeptricks]")
    out = []
    for i in range(els.count()):
        el = els.nth(i)
        el.scroll_into_view_if_needed()
        frame = el.element_handle().content_frame()
        wait_for(lambda: frame.evaluate("() => window.Bokeh !== undefined && Bokeh.documents.length > 0"),
                 f"offline view {i}", timeout=30)
        wait_idle(frame)
        out.append((el, frame))
    return out


def _fitted(el, frame):
    inner = frame.evaluate("() => document.documentElement.scrollHeight")
    outer = el.evaluate("(el) => el.clientHeight")
    return outer if outer != 600 and inner <= outer + 1 else None


def _walk(page, url: str, inside: str) -> list[str]:
    """Open the course page at ``url``, refusing any request not under ``inside``; check every
    view; return the requests that were made."""
    requests: list[str] = []

    def only_inside(route):
        u = route.request.url
        requests.append(u)
        (route.continue_() if u.startswith(inside) else route.abort())

    page.context.route("**/*", only_inside)
    page.goto(url)
    framed = _frames(page)
    assert len(framed) == 3
    assert [_rate(f) for _, f in (framed[0], framed[2])] == [0.7, 0.9]     # from ?p= in each link
    assert _on_grid(framed[1][1], ex.spec_for("batch_norm").grid["depth"]) == 30
    for i, (el, frame) in enumerate(framed):
        el.scroll_into_view_if_needed()
        height = wait_for(lambda: _fitted(el, frame), f"frame {i} to fit its view")
        assert height <= 760, height
        # the view only: its notes, controls, figure and footer; no page title or sidebar
        assert frame.get_by_text("Offline copy").count() == 1
        assert frame.locator("a", has_text="Open the full explorable").get_attribute("href").startswith("../")

    # the first view follows its slider from the keyboard, to a stored state
    el, frame = framed[0]
    el.scroll_into_view_if_needed()
    dropped = lambda: len(source_data(frame, "dropout-dropped")["col"])   # noqa: E731
    before = dropped()
    frame.locator(".noUi-handle").first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    wait_for(lambda: _rate(frame) == 0.4 and dropped() < before, "the unit grid to follow the slider")
    return requests


def test_the_offline_course_page_from_file_with_the_network_cut(offline_course, page):
    url = (offline_course / "offline.html").resolve().as_uri()
    requests = _walk(page, url, offline_course.resolve().as_uri() + "/")
    outside = [u for u in requests if not u.startswith(offline_course.resolve().as_uri())]
    assert outside == [], outside
    assert any(u.endswith(f"/static/bokeh/bokeh-{bokeh.__version__}.min.js") for u in requests), requests


def test_the_offline_course_page_from_a_static_server(offline_course, course_site, tmp_path, page):
    write, port = course_site                     # a static web server of tmp_path
    shutil.copytree(offline_course / "deeptricks-offline", tmp_path / "deeptricks-offline")
    url = write("offline.html", COURSE.read_text())
    root = f"http://127.0.0.1:{port}/"
    requests = _walk(page, url, root)
    assert [u for u in requests if not u.startswith(root)] == []
    assert any("/deeptricks-offline/static/panel/panel.min.js" in u for u in requests)
