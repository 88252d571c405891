"""The index page: every explorable with a thumbnail and one line."""

from __future__ import annotations

from html import escape
from importlib import resources

import panel as pn

from deeptricks.ui import theme

from .registry import EXPLORABLES

INTRO = (
    "Four tricks turned deep networks from hard to routine: **dropout**, **batch normalization**, "
    "**layer normalization** and **residual connections**. Each page below runs a small numpy engine "
    "that computes them exactly, forward and backward, and lets you move the controls and watch what "
    "the network does. Every setting is in the page's address, so you can share or embed exactly what "
    "you see."
)

_CSS = """
.dt-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 18px; }
.dt-card { display: block; border: 1px solid #d0d7de; border-radius: 10px; overflow: hidden;
           text-decoration: none; color: #1f2328; background: #fff; }
.dt-card:hover, .dt-card:focus { border-color: #0072B2; box-shadow: 0 2px 10px rgba(0,0,0,.08); outline: none; }
.dt-card img { width: 100%; aspect-ratio: 16 / 10; object-fit: cover; object-position: top left;
               display: block; border-bottom: 1px solid #eaeef2; background: #f6f8fa; }
.dt-card .dt-card-body { padding: 10px 14px 14px; }
.dt-card h2 { font-size: 18px; margin: 0 0 4px; }
.dt-card p { font-size: 14px; margin: 0; color: #3d444d; line-height: 1.45; }
"""


def _thumbnail(slug: str) -> str:
    try:
        data = resources.files("deeptricks.assets").joinpath("thumbs", f"{slug}.png").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return ""
    import base64
    return "data:image/png;base64," + base64.b64encode(data).decode()


def cards_html(prefix: str = "./") -> str:
    cards = []
    for e in EXPLORABLES:
        src = _thumbnail(e.slug)
        img = f'<img src="{src}" alt="Screenshot of the {escape(e.title)} explorable">' if src else ""
        cards.append(
            f'<a class="dt-card" href="{escape(prefix + e.slug, quote=True)}">{img}'
            f'<div class="dt-card-body"><h2>{escape(e.title)}</h2><p>{escape(e.summary)}</p></div></a>')
    return f'<div class="dt-cards">{"".join(cards)}</div>'


def page():
    """The servable index page."""
    header = pn.pane.Markdown(f"# The tricks that make deep nets work\n\n{INTRO}", sizing_mode="stretch_width",
                              disable_math=True, styles={"font-size": "15px", "max-width": "75ch"})
    cards = pn.pane.HTML(cards_html(), sizing_mode="stretch_width", stylesheets=[_CSS], name="index-cards")
    return pn.Column(header, cards, sizing_mode="stretch_width", name="index",
                     styles={"max-width": "1280px", "margin": "0 auto"}, stylesheets=[theme.stylesheet()])
