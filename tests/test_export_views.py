"""Offline views: `deeptricks export` writes each view at DIR/NAME/VIEW.html beside the pages,
with the JavaScript and stylesheets every file needs written once into DIR/static/ and
referenced relatively; ``--single-file`` inlines them instead. The browser test
(tests/browser/test_offline_course.py) opens such a folder with the network cut."""

from __future__ import annotations

import json
import re
from pathlib import Path

import panel as pn
import pytest

from deeptricks import export as ex
from deeptricks.export import states as st

VIEWS = ["dropout/units", "batch_norm/compare"]


def shared_export(tmp_path_factory) -> Path:
    """The two views exported once per test session (tests/browser/test_offline_course.py
    frames the same folder)."""
    out = tmp_path_factory.getbasetemp() / "export-views"
    if not (out / "index.html").is_file():
        written = ex.export(out, VIEWS, log=None)
        assert [p.relative_to(out).as_posix() for p, _ in written] == [
            "dropout/units.html", "batch_norm/compare.html", "index.html"]
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return shared_export(tmp_path_factory)


def _refs(html: str) -> list[str]:
    """Every address the file's tags and its Bokeh document's stylesheets load."""
    outside = re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", html, flags=re.S | re.I)
    tags = [m[1] for m in re.findall(r"<(?:script|link)\b[^>]*\b(src|href)=\"([^\"]+)\"", outside)]
    sheets = re.findall(r'"name":"ImportedStyleSheet"[^}]*?"url":"([^"]+)"', html)
    return tags + sheets


@pytest.mark.slow
def test_each_view_loads_the_shared_folder_and_nothing_else(folder):
    for view in VIEWS:
        f = folder / f"{view}.html"
        html = f.read_text(encoding="utf-8")
        refs = _refs(html)
        assert refs, "a shared view refers to its scripts"
        for ref in refs:
            assert ref.startswith("../static/"), ref
            assert (f.parent / ref).resolve().is_file(), ref
        assert ex.external_references(html, allowed=("../static/",)) == []
        # Bokeh and Panel come from the folder, not inlined
        assert len(html) <= ex.VIEW_BUDGET, (view, len(html))
        assert "../static/panel/panel.min.js" in html
    static = folder / "static"
    assert (static / "frames.js").read_bytes() == ex.FRAMES_JS_FILE.read_bytes()
    assert sum(p.stat().st_size for p in static.rglob("*") if p.is_file()) > 2_000_000


@pytest.mark.slow
def test_a_view_holds_its_own_figure_and_controls_only(folder):
    html = (folder / "dropout" / "units.html").read_text(encoding="utf-8")
    names = set(re.findall(r'"name":"(dropout-[a-z-]+)"', html))
    assert {"dropout-units-source", "dropout-dropped", "dropout-units-controls"} <= names
    assert not names & {"dropout-readout", "dropout-hist", "dropout-header"}
    # its link leads to the exported page, one folder up; the index lists the views
    assert "Open the full explorable" in html and "href=&amp;quot;../dropout.html&amp;quot;" in html
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'href="dropout/units.html"' in index and 'href="batch_norm/compare.html"' in index
    assert 'href="dropout/readout.html"' not in index and 'href="dropout.html"' not in index


def test_a_view_keeps_the_controls_on_the_grid_and_hides_the_rest():
    built = st.build(ex.spec_for("dropout"), view="units", prepare=False)
    assert built.grid == {k: ex.spec_for("dropout").grid[k] for k in ("p", "mode", "layer")}
    assert sorted(w._param_name for w in built.grid_widgets) == ["layer", "mode", "p"]
    # Play and Resample are not on the grid: hidden, not greyed out
    assert built.frozen and all(not w.visible for w in built.frozen)
    assert built.page._view_controls["playing"].visible is False
    shown = [o for o in built.layout.select(pn.pane.Markdown) if (o.name or "").endswith("offline-note")]
    assert len(shown) == 1 and "Offline copy" in shown[0].object


def test_a_link_moves_each_grid_control_to_the_value_it_names():
    built = st.build(ex.spec_for("dropout"), {"p": (0.1, 0.5, 0.9), "mode": ("train", "test"),
                                              "scale": (True, False)}, prepare=False)
    entries = {w._param_name: st._query_entries(w, v) for w, v in built.grid_widgets.items()}
    # a slider: its index on the grid, the number for the nearest match in the browser
    assert entries["p"] == [["0.1", 0.1, 0], ["0.5", 0.5, 1], ["0.9", 0.9, 2]]
    # a button group: the active button of that value
    mode = next(w for w in built.grid_widgets if w._param_name == "mode")
    assert [e[2] for e in entries["mode"]] == [list(mode.values).index("train"), list(mode.values).index("test")]
    assert ["test", None, list(mode.values).index("test")] in entries["mode"]
    # a switch: the words a link may use
    assert ["off", None, False] in entries["scale"] and ["1", None, True] in entries["scale"]
    html, _ = ex.render(built, "t")
    query = json.loads(re.search(r'"deeptricks-offline-query".*?"query",(\[.*?\])\]\]\}', html).group(1))
    assert [q[1] for q in query] == ["p", "mode", "scale"]       # the live server's URL keys


def test_single_file_views_inline_everything(tmp_path):
    path, figures = ex.export_page(ex.spec_for("dropout"), tmp_path, {"p": (0.1, 0.9)}, view="units",
                                   prepare=False, single_file=True)
    html = path.read_text(encoding="utf-8")
    assert path == tmp_path / "dropout" / "units.html"
    assert "static" not in figures and "../static/" not in html
    assert ex.external_references(html) == []
    assert figures["bytes"] > 2_000_000            # Bokeh and Panel inside


def test_the_command_writes_a_view_and_refuses_unknown_ones(tmp_path, capsys):
    from deeptricks.__main__ import main

    assert main(["export", "--out", str(tmp_path), "--only", "dropout/nope"]) == 2
    assert "choose from" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path), "--only", "dropout/readout"]) == 0
    out = capsys.readouterr().out
    assert "dropout/readout.html" in out and "static" in out
    assert (tmp_path / "dropout" / "readout.html").is_file() and (tmp_path / "static" / "frames.js").is_file()
    assert not (tmp_path / "dropout.html").exists()
