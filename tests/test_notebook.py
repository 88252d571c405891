"""deeptricks.show in a real notebook: executed by a Jupyter kernel (nbclient), a view renders
as Panel output that carries the view's own Bokeh models, in the state the call asked for."""

import json

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


@pytest.mark.slow
def test_a_view_renders_in_a_notebook_with_its_settings(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import deeptricks\nview = deeptricks.show('dropout/units', p=0.7)\nview"),
        nbformat.v4.new_code_cell("import panel as pn\n"
                                  "print([w.value for w in view.select(pn.widgets.FloatSlider)])"),
    ]
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    shown, printed = nb.cells[0].outputs, nb.cells[1].outputs
    assert not [o for o in shown + printed if o.output_type == "error"], shown + printed
    bundles = [o["data"] for o in shown if o.output_type in ("display_data", "execute_result")]
    html = " ".join(b.get("text/html", "") for b in bundles)
    mimes = {m for b in bundles for m in b}
    assert "application/vnd.holoviews_exec.v0+json" in mimes        # Panel's live notebook output
    for name in ("dropout-units", "dropout-dropped", "dt-view-caption"):
        assert name in html, name                                   # the view's own models
    assert "dropout-header" not in html and "All explorables" not in html   # a view, not the page
    assert json.loads(printed[0]["text"].strip().replace("'", '"')) == [0.7]
