"""The serverless export: self-contained files, no external references, complete stored states.

One small grid of the dropout page is exported once for the module (a few seconds);
the browser test (tests/browser/test_export_offline.py) opens such a file with the network cut.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from deeptricks import export as ex
from deeptricks.explorables.dropout_model import DropoutModel

GRID = {"p": (0.1, 0.5, 0.9), "mode": ("train", "test")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    # tests/browser/test_export_offline.py opens the same export: made once per test session
    out = tmp_path_factory.getbasetemp() / "export-dropout-small"
    path, figures = ex.export_page(ex.spec_for("dropout"), out, grid=GRID)
    return path, path.read_text(encoding="utf-8"), figures


def _outside_scripts(html: str) -> str:
    return re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", html, flags=re.S | re.I)


def _doc_json(html: str) -> str:
    docs = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S)
    assert len(docs) == 1
    return docs[0]


@pytest.mark.slow
def test_the_file_is_written_and_reports_its_size(exported):
    path, html, figures = exported
    assert path.name == "dropout.html" and path.is_file()
    assert figures["bytes"] == path.stat().st_size
    assert 0 < figures["gzip_bytes"] < figures["bytes"]
    assert figures["states"] == 6            # 3 rates x 2 modes
    assert "<title>Dropout" in html


@pytest.mark.slow
def test_nothing_is_loaded_from_elsewhere(exported):
    _, html, _ = exported
    tags = _outside_scripts(html)
    # no script, stylesheet, icon or image from another address: every script is inline
    assert re.findall(r"<script\b[^>]*\bsrc\s*=", tags) == []
    assert re.findall(r"<link\b[^>]*rel=[\"']?stylesheet", tags) == []
    assert re.findall(r"\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", tags) == []
    for link in re.findall(r"<link\b[^>]*>", tags):
        assert 'href="data:' in link, link
    # the Bokeh document: no stylesheet imported by URL, and the inlined ones import nothing
    doc = _doc_json(html)
    assert "ImportedStyleSheet" not in doc
    css = [o["attributes"]["css"] for o in ex._objects(json.loads(doc), "InlineStyleSheet")]
    assert len(css) > 5 and any(".bk-btn" in c or "button" in c for c in css)
    for text in css:
        assert "@import" not in text
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            assert ref.startswith("data:"), ref[:80]
    assert ex.external_references(html) == []


def test_the_checker_finds_what_a_browser_would_load():
    page = ('<html><head><link rel="stylesheet" href="https://cdn.example.org/a.css">'
            '<script src="//cdn.example.org/b.js"></script>'
            '<style>@import "c.css"; .x { background: url(../assets/d.svg) }</style>'
            '<script>var s = "<img src=https://never.loaded/x.png>";</script></head></html>')
    found = ex.external_references(page)
    assert any("a.css" in f for f in found) and any("b.js" in f for f in found)
    assert any("@import" in f for f in found) and any("d.svg" in f for f in found)
    assert not any("never.loaded" in f for f in found)     # text inside a script is not a request


def test_panels_css_comes_from_the_installed_package():
    from panel.io.resources import CDN_DIST

    loading = ex._dist_file(CDN_DIST + "css/loading.css?v=1")
    assert loading is not None and loading.is_file()
    css = ex.inline_css(".a { mask-image: url('../assets/arc_spinner.svg') } .b { background: url(data:x) }",
                        loading.parent)
    assert "data:image/svg+xml;base64," in css and "url(data:x)" in css and "../assets" not in css


@pytest.mark.slow
def test_every_grid_value_is_stored_and_the_states_differ(exported):
    _, html, _ = exported
    tables = ex.stored_tables(html)
    dropped_id, = ex.model_ids(html, "dropout-dropped")
    units_id, = ex.model_ids(html, "dropout-units-source")

    def column(model_id, col, **controls):
        """That column of that source in the stored patch for the given controls."""
        for t in tables:
            key = "|".join(json.dumps(_key(n, controls[n])) for n in t["names"])
            for e in t["patches"].get(key, []):
                if e["kind"] == "ColumnDataChanged" and e["model"]["id"] == model_id:
                    entries = dict(e["data"]["entries"])
                    if col in entries:
                        return ex.decode_array(entries[col])
        raise AssertionError(f"no stored {col} of {model_id} for {controls}")

    keys = {n: set() for n in GRID}
    for t in tables:
        for key in t["patches"]:
            for n, k in zip(t["names"], key.split("|")):
                keys[n].add(json.loads(k))
    assert keys == {"p": {0, 1, 2}, "mode": {0, 1}}       # each value of each control

    model = DropoutModel()
    for p in GRID["p"]:
        expected = model.compute(p)
        got = column(dropped_id, "col", p=p, mode="train")
        assert len(got) == expected.grid_dropped.sum()
        assert np.allclose(column(units_id, "value", p=p, mode="train"), expected.grid, rtol=1e-4, atol=1e-7)
        assert len(column(dropped_id, "col", p=p, mode="test")) == 0
    assert len(column(dropped_id, "col", p=0.1, mode="train")) < 60 < 200 < len(
        column(dropped_id, "col", p=0.9, mode="train"))


def _key(name, value):
    return GRID[name].index(value)


def test_controls_off_the_grid_are_disabled_with_a_note():
    built = ex.build(ex.spec_for("dropout"), GRID)
    live = {w._param_name for w in built.grid_widgets}
    assert live == {"p", "mode"}
    assert built.frozen and all(w.disabled for w in built.frozen)
    frozen = {getattr(w, "_param_name", None) for w in built.frozen}
    assert {"scale", "layer", "k", "playing"} <= frozen
    import panel as pn
    notes = [o for o in built.layout.select(pn.pane.Markdown) if "Offline copy" in str(o.object)]
    assert len(notes) == 1 and "deeptricks serve" in notes[0].object


def test_floats_keep_sixteen_bits_and_extreme_values():
    a = np.array([1.0, 1 / 3, 1e-300, -2.5e300, 0.0, np.inf, np.nan, 123456.789])
    r = ex._round_floats(a)
    assert r.dtype == a.dtype
    finite = np.isfinite(a)
    assert np.allclose(r[finite], a[finite], rtol=2 ** -16, atol=0)
    assert r[2] > 0 and np.isinf(r[5]) and np.isnan(r[6])
    assert not np.array_equal(r[finite], a[finite])       # something was rounded


def test_index_links_the_pages_and_says_why_the_lab_is_missing():
    html = ex.index_html(["dropout", "residual"])
    assert 'href="dropout.html"' in html and 'href="residual.html"' in html
    assert 'href="batch_norm.html"' not in html
    assert "lab" in html.lower() and "server" in html
    assert ex.external_references(html) == []


def test_unknown_or_lab_export_is_refused(tmp_path):
    with pytest.raises(ValueError, match="lab is left out"):
        ex.export(tmp_path, ["lab"], log=None)
    with pytest.raises(ValueError, match="choose from"):
        ex.export(tmp_path, ["nope"], log=None)


def test_the_command_refuses_the_lab(tmp_path, capsys):
    from deeptricks.__main__ import main

    assert main(["export", "--out", str(tmp_path), "--only", "lab"]) == 2
    assert "trains a network live" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
