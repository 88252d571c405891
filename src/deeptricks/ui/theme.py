"""Colours, fonts and figure styling shared by every explorable.

Colours come from the Okabe-Ito palette, which stays distinguishable for the
common forms of colour blindness. Use the named constants rather than raw hex
codes so that "train" means the same colour on every page.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

from bokeh.models import AllIndices, GlyphRenderer, UnionRenderers
from bokeh.palettes import Inferno256

# Okabe-Ito palette.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"

OKABE_ITO = (BLUE, VERMILLION, GREEN, PURPLE, SKY_BLUE, ORANGE, BLACK, YELLOW)
"""Series colours in the order they are handed out (yellow last: weak on white)."""

# Meaning-carrying names. The first of a pair is blue, the second vermillion.
TRAIN = BLUE
TEST = VERMILLION
WITHOUT_TRICK = BLUE
WITH_TRICK = VERMILLION
PLAIN = BLUE
RESIDUAL = VERMILLION

NAMED_SERIES = {
    "train": TRAIN,
    "training": TRAIN,
    "test": TEST,
    "eval": TEST,
    "evaluation": TEST,
    "inference": TEST,
    "without": WITHOUT_TRICK,
    "with": WITH_TRICK,
    "plain": PLAIN,
    "residual": RESIDUAL,
}

# Interface colours (light theme).
TEXT = "#1f2328"
MUTED = "#57606a"
GRID = "#e6e8eb"
AXIS = "#8c959f"
BACKGROUND = "#ffffff"
WARN = "#b35900"  # dark orange: readable as text on white

HEAT_PALETTE = Inferno256
"""Perceptually uniform map for magnitudes: zero is black, large is pale yellow."""

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
TITLE_SIZE = "14px"
LABEL_SIZE = "13px"
TICK_SIZE = "12px"


def series_color(name: str, index: int = 0) -> str:
    """Colour for a series: a fixed colour for known names, else the ``index``-th palette entry."""
    key = name.strip().lower()
    if key in NAMED_SERIES:
        return NAMED_SERIES[key]
    for word, colour in NAMED_SERIES.items():
        if key.startswith(word + " ") or key.startswith(word + "-"):
            return colour
    if key.startswith("no ") or key.startswith("without"):
        return WITHOUT_TRICK
    return OKABE_ITO[index % len(OKABE_ITO)]


def series_colors(names) -> list[str]:
    """Distinct colours for a list of series names (known names keep their colour)."""
    out: list[str] = []
    spare = [c for c in OKABE_ITO]
    for i, n in enumerate(names):
        c = series_color(n, i)
        if c in out:  # two names mapped to the same colour: take the next free one
            c = next((s for s in spare if s not in out), c)
        out.append(c)
    return out


def style_figure(fig, *, show_toolbar: bool = False) -> None:
    """Apply the shared light theme to a Bokeh figure in place."""
    fig.background_fill_color = BACKGROUND
    fig.border_fill_color = BACKGROUND
    fig.outline_line_color = None
    fig.min_border_left = 8
    fig.min_border_right = 12
    fig.min_border_top = 6
    fig.min_border_bottom = 6
    fig.title.text_font = FONT
    fig.title.text_font_size = TITLE_SIZE
    fig.title.text_font_style = "bold"
    fig.title.text_color = TEXT
    for axis in list(fig.xaxis) + list(fig.yaxis):
        axis.axis_label_text_font = FONT
        axis.axis_label_text_font_size = LABEL_SIZE
        axis.axis_label_text_font_style = "normal"
        axis.axis_label_text_color = MUTED
        axis.major_label_text_font = FONT
        axis.major_label_text_font_size = TICK_SIZE
        axis.major_label_text_color = MUTED
        axis.axis_line_color = AXIS
        axis.major_tick_line_color = AXIS
        axis.minor_tick_line_color = None
    for grid in list(fig.xgrid) + list(fig.ygrid):
        grid.grid_line_color = GRID
    fig.toolbar.logo = None
    fig.toolbar.autohide = True
    if not show_toolbar:
        fig.toolbar_location = None
    drop_unused_glyphs(fig)


def drop_unused_glyphs(fig) -> None:
    """Let BokehJS derive the "not selected" and "muted" looks of each glyph.

    ``figure.line`` and friends give every renderer two extra glyph models for
    them. Nothing here selects or mutes (legends hide), so they are never
    drawn; without them a page has fewer models to build, hold and send (about
    one in ten of a page's models).

    The renderers of a figure also share one "all indices" filter and their
    sources one selection policy: both are stateless, yet Bokeh gives each
    renderer and each source its own model.
    """
    everything = policy = None
    for r in fig.renderers:
        if isinstance(r, GlyphRenderer):
            r.update(nonselection_glyph="auto", muted_glyph="auto")
            if type(r.view.filter) is AllIndices:
                everything = everything or r.view.filter
                r.view.filter = everything
            source = r.data_source
            if type(getattr(source, "selection_policy", None)) is UnionRenderers:
                policy = policy or source.selection_policy
                source.selection_policy = policy


def style_legend(legend) -> None:
    """Shared legend look: small, unboxed, clickable to hide a series."""
    legend.label_text_font = FONT
    legend.label_text_font_size = TICK_SIZE
    legend.label_text_color = TEXT
    legend.border_line_color = None
    legend.background_fill_alpha = 0.0
    legend.click_policy = "hide"
    legend.spacing = 12
    legend.padding = 2
    legend.margin = 2


def fmt_num(v: float) -> str:
    """Short human form of a number: ``0.5``, ``3e+07``, ``-inf``, ``nan``."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    return f"{v:.3g}"


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS shared by page layouts (``style.css`` next to this module)."""
    return resources.files(__package__).joinpath("style.css").read_text(encoding="utf-8")


def swatch_html(label: str, colour: str) -> str:
    """A coloured square followed by an escaped label, for HTML legends."""
    from html import escape

    return (
        f'<span class="dt-swatch"><span class="dt-swatch-box" '
        f'style="background:{colour}"></span>{escape(label)}</span>'
    )
