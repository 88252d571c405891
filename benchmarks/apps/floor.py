"""The latency floor: the barest Panel app with the same shape as the explainers.

One FloatSlider, one Bokeh figure with a 50-bin histogram (quad glyph, source named
``floor_hist``) of a fixed sample that the slider shifts and scales; nothing else.
Whatever latency this app has (widget -> websocket -> Python callback -> patch ->
BokehJS repaint) no explainer can beat; benchmarks/latency.py reports the real apps
as a ratio to it.

Serve:  python -m panel serve benchmarks/apps/floor.py
Import: the pure function ``histogram(value)`` is importable (tests recompute the
expected bars from it); the app is only built when served.
"""

from __future__ import annotations

import numpy as np

N_BINS = 50
N_SAMPLES = 20_000
SLIDER_START, SLIDER_END, SLIDER_STEP, SLIDER_VALUE = -2.0, 2.0, 0.05, 0.0
EDGES = np.linspace(-6.0, 6.0, N_BINS + 1)
SAMPLE = np.random.default_rng(20240601).standard_normal(N_SAMPLES)
SOURCE_NAME = "floor_hist"


def histogram(value: float) -> np.ndarray:
    """Bar heights for slider ``value``: the fixed sample scaled by 1 + value/4, shifted by value."""
    x = SAMPLE * (1.0 + 0.25 * float(value)) + float(value)
    counts, _ = np.histogram(x, bins=EDGES)
    return counts.astype(np.float64)


def build():
    import panel as pn
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    slider = pn.widgets.FloatSlider(
        name="shift", start=SLIDER_START, end=SLIDER_END, step=SLIDER_STEP, value=SLIDER_VALUE,
        width=600,
    )
    source = ColumnDataSource(
        data={"left": EDGES[:-1], "right": EDGES[1:], "top": histogram(SLIDER_VALUE)},
        name=SOURCE_NAME,
    )
    fig = figure(
        height=400, width=700, x_range=(EDGES[0], EDGES[-1]), y_range=(0, 4000),
        tools="", toolbar_location=None, name="floor_figure",
    )
    fig.quad(left="left", right="right", top="top", bottom=0, source=source)

    def update(event):
        source.data.update(top=histogram(event.new))

    slider.param.watch(update, "value")
    return pn.Column(slider, pn.pane.Bokeh(fig))


if __name__.startswith("bokeh"):
    build().servable(title="deeptricks latency floor")
