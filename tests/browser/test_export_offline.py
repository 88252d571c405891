"""An exported page in Chromium with the network cut: it renders from the file alone, its
slider and buttons switch between the stored states, and each state is the engine's own."""

from __future__ import annotations

import numpy as np
import pytest

from browser_harness import models_of_type, source_data, wait_for, wait_idle

from deeptricks import export as ex
from deeptricks.explorables.dropout_model import DropoutModel

GRID = {"p": (0.1, 0.5, 0.9), "mode": ("train", "test")}
UNITS, DROPPED = "dropout-units-source", "dropout-dropped"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    # the same small export as tests/test_export.py: made once per test session
    out = tmp_path_factory.getbasetemp() / "export-dropout-small"
    if not (out / "dropout.html").is_file():
        ex.export_page(ex.spec_for("dropout"), out, grid=GRID)
    return out / "dropout.html"


def _p_slider(page) -> dict:
    """The dropout-rate slider: a discrete slider over the grid, its value the index."""
    found = [s for s in models_of_type(page, "Slider") if not s.get("disabled")]
    assert len(found) == 1, found
    return found[0]


def _shows(page, p: float, mode: str) -> bool:
    expected = DropoutModel().compute(p, mode=mode)
    units = source_data(page, UNITS)["value"]
    return (len(source_data(page, DROPPED)["col"]) == int(expected.grid_dropped.sum())
            and np.allclose(units, expected.grid, rtol=1e-4, atol=1e-7))


def test_exported_page_works_with_every_request_blocked(exported, page):
    url = exported.resolve().as_uri()
    requests: list[str] = []

    def only_the_file(route):
        requests.append(route.request.url)
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    page.context.route("**/*", only_the_file)
    page.goto(url)
    wait_idle(page)
    assert page.evaluate("Bokeh.documents.length") == 1
    assert page.get_by_text("Offline copy").count() == 1

    slider = _p_slider(page)
    assert (slider["start"], slider["end"], slider["value"]) == (0, 2, 1)        # p = 0.5
    assert _shows(page, 0.5, "train")
    # the other controls are there but fixed
    assert all(s["disabled"] for s in models_of_type(page, "Slider") if s["id"] != slider["id"])

    handle = page.locator(".noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")                                           # p = 0.9
    wait_for(lambda: _p_slider(page)["value"] == 2 and _shows(page, 0.9, "train"), "the state for p = 0.9")
    assert len(source_data(page, DROPPED)["col"]) > 200

    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")                                            # p = 0.1
    wait_for(lambda: _p_slider(page)["value"] == 0 and _shows(page, 0.1, "train"), "the state for p = 0.1")
    assert len(source_data(page, DROPPED)["col"]) < 60

    page.get_by_role("button", name="test", exact=True).click()                 # test mode: nothing dropped
    wait_for(lambda: _shows(page, 0.1, "test"), "the test-mode state")
    assert source_data(page, DROPPED)["col"] == []

    page.wait_for_timeout(300)
    assert requests == [url], f"requests beyond the file: {requests[1:]}"
